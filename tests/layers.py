"""The suite's layers, one directory each, marked by where a test lives: `pytest -m db`
runs the database's tests wherever they are named, and a test's layer is never a
decorator someone forgot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def marking(layer: str, conftest: str) -> Callable[[list[pytest.Item]], None]:
    """A `pytest_collection_modifyitems` hook for the conftest at `conftest`: it marks
    `layer` on every test under that directory (a conftest's hook sees every item)."""
    directory = Path(conftest).parent
    marker = getattr(pytest.mark, layer)

    def mark(items: list[pytest.Item]) -> None:
        for item in items:
            if item.path.is_relative_to(directory):
                item.add_marker(marker)

    return mark
