"""Real processes and servers: `muster` commands, apps served by uvicorn, provider fakes
reached through the providers' own SDKs. The slowest layer: `pytest -m "not processes"`
leaves it out. Its helpers are this package's (tests/processes/__init__.py)."""

from __future__ import annotations

from tests import layers

pytest_collection_modifyitems = layers.marking("processes", __file__)
