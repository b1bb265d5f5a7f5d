"""Request bodies are decoded strictly: `"drill": "false"` is an error, not a real event.

Litestar converts bodies leniently (strings to numbers and booleans, integers to
datetimes), which in an emergency system turns a client's mistake into a wrong
record. This hook decodes each JSON body once more, strictly, against the
handler's `data` type before Litestar does, and refuses it naming the field.
The OpenAPI document says the same: a Struct that forbids unknown fields has
`additionalProperties: false`.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar._openapi.schema_generation.plugins import StructSchemaPlugin
from litestar.exceptions import ValidationException
from litestar.openapi.spec import Schema

_decoders: dict[Any, msgspec.json.Decoder] = {}


async def decode_strictly(request: Request) -> None:
    """Before a handler that takes a body: refuse anything a strict decode refuses."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    body = await request.body()
    if not body.strip():
        raise ValidationException(extra=[_error("a JSON object is required")])
    try:
        msgspec.json.decode(body)  # syntax first, so a cut-off body is called that
    except msgspec.DecodeError as exc:
        raise ValidationException(extra=[_error(f"not valid JSON: {exc}")]) from None
    decoder = _decoders.get(data.annotation)
    if decoder is None:
        decoder = _decoders[data.annotation] = msgspec.json.Decoder(data.annotation)
    try:
        decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ValidationException(extra=[{"message": str(exc), "source": "body"}]) from None


def _error(message: str) -> dict[str, Any]:
    return {"message": message, "key": "body", "source": "body"}


class StrictStructSchema(StructSchemaPlugin):
    """Litestar's Struct schemas (a private class of litestar 2), plus what they leave
    out: a Struct with `forbid_unknown_fields` refuses any other field (400)."""

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if msgspec.inspect.type_info(field_definition.type_).forbid_unknown_fields:
            schema.additional_properties = False
        return schema
