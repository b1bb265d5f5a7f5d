"""Real processes and servers: `muster` commands, apps served by uvicorn, provider fakes
reached through the providers' own SDKs. The slowest layer: `pytest -m "not processes"`
leaves it out. Its helpers are this package's (tests/processes/__init__.py)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import layers

pytest_collection_modifyitems = layers.marking("processes", __file__)


@pytest.fixture
def pg_home() -> Iterator[Path]:
    """A folder for an embedded PostgreSQL's data, outside pytest's temporary root: the
    server runs as its own system user, and another pytest session starting on the
    machine takes that root back to mode 0700, locking the server's user (and pg_ctl)
    out of a data folder under it."""
    home = Path(tempfile.mkdtemp(prefix="muster-test-"))
    home.chmod(0o755)
    yield home
    shutil.rmtree(home, ignore_errors=True)
