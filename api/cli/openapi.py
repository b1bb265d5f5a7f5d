"""The OpenAPI document, generated from the app itself (no database needed)."""

from __future__ import annotations

import json

from api.app import create_app
from api.settings import Settings


def render_openapi() -> str:
    """The committed `openapi/openapi.json`: stable key order, trailing newline."""
    app = create_app(Settings(), database_url="postgresql://unused", secret="x" * 32)
    return json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True) + "\n"
