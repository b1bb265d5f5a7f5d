"""Request bodies are decoded strictly: `"drill": "false"` is an error, not a real event.

Litestar converts bodies leniently (strings to numbers and booleans, integers to
datetimes), which in an emergency system turns a client's mistake into a wrong
record. This hook decodes each JSON body once more, strictly, against the
handler's `data` type before Litestar does, and refuses it naming every bad field.
A body that says one thing twice (`"drill": true, "drill": false`) or nests past
what the decoder can follow is refused too. The OpenAPI document says the same: a
Struct that forbids unknown fields has `additionalProperties: false`.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import types
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar._openapi.schema_generation.plugins import StructSchemaPlugin
from litestar.exceptions import ValidationException
from litestar.openapi.spec import Schema

MAX_FIELD_ERRORS = 100  # listed in one answer
_decoders: dict[Any, msgspec.json.Decoder] = {}
# A JSON string, escapes included; the body is already known to be valid JSON.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


async def decode_strictly(request: Request) -> None:
    """Before a handler that takes a body: refuse anything a strict decode refuses."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    body = await request.body()
    if not body.strip():
        raise ValidationException(extra=[_error("a JSON object is required")])
    try:
        value = msgspec.json.decode(body)  # syntax first, so a cut-off body is called that
        _refuse_repeated_keys(body, value)
        bad = _bad_fields(body, value, data.annotation)
    except msgspec.DecodeError as exc:
        raise ValidationException(extra=[_error(f"not valid JSON: {exc}")]) from None
    except RecursionError:
        raise ValidationException(extra=[_error("nested too deeply")]) from None
    if bad:
        raise ValidationException(extra=bad)


def _decoder(annotation: Any) -> msgspec.json.Decoder:
    decoder = _decoders.get(annotation)
    if decoder is None:
        decoder = _decoders[annotation] = msgspec.json.Decoder(annotation)
    return decoder


def _error(message: str) -> dict[str, Any]:
    return {"message": message, "key": "body", "source": "body"}


# -- a key given twice ---------------------------------------------------------------

def _refuse_repeated_keys(body: bytes, value: Any) -> None:
    """A decoder keeps the last of a repeated key, so `{"drill": true, "drill": false}`
    would start a real event. Fast: re-encoding the decoded value writes each kept key
    once, so it has fewer `:` outside strings than the body iff a key was repeated. With
    no `\\` in the body its strings are written back as they came, `:`s and all, so the
    plain counts compare (~1 us for a check-in); an escape (`\\u003a` is a `:`) means
    counting outside strings only. Only then is the body read again, slowly, to name
    the key."""
    raw, kept = body, msgspec.json.encode(value)
    if b"\\" in raw:
        raw, kept = _STRING.sub(b"", raw), _STRING.sub(b"", kept)
    if raw.count(b":") != kept.count(b":"):
        path, key = _repeated_key(body)
        raise ValidationException(extra=[_at(path, f"Object repeats field `{key}`")])


class _Object(list):
    """A JSON object as its key/value pairs in order, repeats kept."""


def _repeated_key(body: bytes) -> tuple[str, str]:
    """A key an object holds twice, and the path of that object (`.students[0]`)."""
    todo = [("", json.loads(body, object_pairs_hook=_Object))]
    while todo:
        path, value = todo.pop()
        if isinstance(value, _Object):
            seen = set()
            for key, item in value:
                if key in seen:
                    return path, key
                seen.add(key)
                todo.append((f"{path}.{key}", item))
        elif isinstance(value, list):
            todo.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    raise AssertionError("a repeated key was counted but not found")


# -- every bad field, not only the first ----------------------------------------------

def _bad_fields(body: bytes, value: Any, annotation: Any) -> list[dict]:
    """msgspec stops at the first bad field; a client fixing a body wants them all. Past
    the fast path, the decoded body is checked field by field against its Struct (in
    lists and nested Structs too), up to MAX_FIELD_ERRORS; if that finds nothing (a rule
    across fields), the first error stands."""
    try:
        _decoder(annotation).decode(body)
        return []
    except msgspec.ValidationError as exc:
        found = list(itertools.islice(_problems(value, annotation, ""), MAX_FIELD_ERRORS + 1))
        if len(found) > MAX_FIELD_ERRORS:
            found[MAX_FIELD_ERRORS:] = [_error(f"more than {MAX_FIELD_ERRORS} problems; "
                                               "the first are listed")]
        return found or [{"message": str(exc), "source": "body"}]


def _problems(value: Any, annotation: Any, path: str) -> Iterator[dict]:
    """What is wrong with `value` as `annotation`, at `path`, in msgspec's words: each
    bad field of a Struct or of a list's items, else the value's first error."""
    try:
        _decoder(annotation).decode(msgspec.json.encode(value))
        return
    except msgspec.ValidationError as exc:
        text, _, where = str(exc).partition(" - at `$")
        whole = _at(path + where.rstrip("`"), text)
    kind = _unwrapped(annotation)
    inner: Iterator[dict] = iter(())
    if isinstance(value, dict) and isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        inner = _struct_problems(value, kind, path)
    elif isinstance(value, list) and get_origin(kind) is list:
        (item,) = get_args(kind)
        inner = (p for i, v in enumerate(value) for p in _problems(v, item, f"{path}[{i}]"))
    first = next(inner, whole)
    yield first
    yield from inner


def _struct_problems(value: dict, struct: type[msgspec.Struct], path: str) -> Iterator[dict]:
    fields = _fields(struct)
    for key, item in value.items():
        field = fields.get(key)
        if field is not None:
            yield from _problems(item, field.type, f"{path}.{key}")
        elif struct.__struct_config__.forbid_unknown_fields:
            yield _at(path, f"Object contains unknown field `{key}`")
    for name, field in fields.items():
        if field.required and name not in value:
            yield _at(path, f"Object missing required field `{name}`")


@functools.cache
def _fields(struct: type[msgspec.Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    """A Struct's fields by their name in JSON (msgspec works them out each time)."""
    return {f.encode_name: f for f in msgspec.structs.fields(struct)}


def _at(path: str, text: str) -> dict:
    return {"message": f"{text} - at `${path}`" if path else text, "source": "body"}


def _unwrapped(annotation: Any) -> Any:
    """The type under `Annotated[...]` and `... | None`."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                return annotation
            annotation = rest[0]
        else:
            return annotation


class StrictStructSchema(StructSchemaPlugin):
    """Litestar's Struct schemas (a private class of litestar 2), plus what they leave
    out: a Struct with `forbid_unknown_fields` refuses any other field (400)."""

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields:
            schema.additional_properties = False
        return schema
