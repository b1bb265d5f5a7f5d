"""The pure rules: builders only, no database, no app, no clock but the one a test names.

They load the root conftest too, which imports nothing heavy at module level; the check
below keeps it so: collecting only these tests must import neither the app nor the
database driver nor the web framework (seconds of imports for tests that take
milliseconds).
"""

from __future__ import annotations

import sys

import pytest

from tests import layers

pytest_collection_modifyitems = layers.marking("domain", __file__)

# Top-level packages a rule's test has no use for.
NOT_PURE = ("api", "db", "notifications", "litestar", "asyncpg", "uvicorn", "httpx")


def pytest_collection_finish(session: pytest.Session) -> None:
    """When only the pure rules are collected, fail if anything impure was imported."""
    items = session.items
    if not items or not all(item.get_closest_marker("domain") for item in items):
        return  # other layers import these themselves
    loaded = sorted(name for name in NOT_PURE if name in sys.modules)
    if loaded:
        raise pytest.UsageError(f"collecting tests/domain imported {', '.join(loaded)}")
