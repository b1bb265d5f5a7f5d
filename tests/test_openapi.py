"""The published contract: openapi/openapi.json is a valid OpenAPI 3.1 document."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from api.openapi_doc import render_openapi


def test_the_document_is_valid_openapi():
    """openapi-spec-validator accepts the document (an `http` security scheme once
    carried a `name`, which OpenAPI does not allow there)."""
    validate(json.loads(render_openapi()))
