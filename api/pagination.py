"""Lists: `?limit=` (1..500, default 50) and an opaque keyset `cursor`."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

import msgspec
from litestar.params import QueryParameter

from domain.errors import Invalid

T = TypeVar("T")
K = TypeVar("K")
Key = tuple[str, uuid.UUID]

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size (default 50).")]
Cursor = Annotated[
    str | None, QueryParameter(max_length=400, description="`next_cursor` of the previous page.")
]


def decode_cursor(cursor: str | None, key: type[K] = Key) -> K | None:  # type: ignore[assignment]
    """The keyset a cursor stands for; 400 for anything we did not hand out."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=key)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise Invalid("cursor is not one this API handed out", field="cursor") from None


def _encode_cursor(key: tuple) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).rstrip(b"=").decode()


def paginate(rows: Sequence[T], limit: int,
             key: Callable[[T], tuple]) -> tuple[list[T], str | None]:
    """Split `limit + 1` fetched rows into a page and the cursor of the next one."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return items, (_encode_cursor(key(items[-1])) if more else None)
