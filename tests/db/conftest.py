"""Queries, writers, caches and the dispatcher on a real PostgreSQL, without HTTP (the
database fixtures are the root conftest's, shared with the app's tests)."""

from __future__ import annotations

from tests import layers

pytest_collection_modifyitems = layers.marking("db", __file__)
