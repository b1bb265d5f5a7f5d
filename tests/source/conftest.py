"""Checks that read the repository's files (imports, dependencies, SQL text) and run
nothing of it."""

from __future__ import annotations

from tests import layers

pytest_collection_modifyitems = layers.marking("source", __file__)
