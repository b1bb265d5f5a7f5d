"""Lists: `?limit=` (1..500, default 50) and an opaque keyset `cursor`.

A cursor is decoded against the key of the list it serves, position by position, in
the ranges its columns hold: a forged cursor (a NUL in a name, a seq past int4, a
string where a number goes) is a 400 naming `cursor`, never a failed query.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter

from api.http.text import Instant, Text200, checked_instant
from domain.errors import Invalid

T = TypeVar("T")
K = TypeVar("K", bound=tuple[Any, ...])

_INT4, _INT8 = 2**31 - 1, 2**63 - 1
Seq = Annotated[int, msgspec.Meta(ge=1, le=_INT4)]  # an event's timeline seq (integer)
RowId = Annotated[int, msgspec.Meta(ge=1, le=_INT8)]  # a bigint identity


class Key(Generic[K]):
    """The key a list is ordered by: a tuple whose columns carry their ranges, which its
    cursor is decoded against. To mypy such a tuple (of `Annotated` columns) is a special
    form, not a `type[K]`, so the key holds it and says which tuple it decodes to."""

    def __init__(self, columns: object) -> None:
        self.columns = columns


# The keys lists are ordered by; each list's cursor holds exactly its key.
_ByName = tuple[Text200, uuid.UUID]  # schools and staff by name, rooms by code
_ByTime = tuple[Instant, uuid.UUID]  # events by started_at
_ByFamilyName = tuple[Text200, Text200, uuid.UUID]  # students by family and given name
_BySeq = tuple[Seq]
_ById = tuple[RowId]
_BySlug = tuple[Text200]
ByName, ByTime = Key[_ByName](_ByName), Key[_ByTime](_ByTime)
ByFamilyName = Key[_ByFamilyName](_ByFamilyName)
BySeq, ById, BySlug = Key[_BySeq](_BySeq), Key[_ById](_ById), Key[_BySlug](_BySlug)

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size (default 50).")]
# A name of 200 characters takes up to 800 bytes of UTF-8: its cursor is ~1,100 long.
Cursor = Annotated[
    str | None, QueryParameter(max_length=1200,
                               description="`next_cursor` of the previous page.")
]


def decode_cursor(cursor: str | None, key: Key[K]) -> K | None:
    """The keyset a cursor stands for; 400 for anything we did not hand out."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        after: K = msgspec.json.decode(raw, type=key.columns)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise Invalid("cursor is not one this API handed out", field="cursor") from None
    for value in after:
        if isinstance(value, datetime):
            checked_instant(value, "cursor")
    return after


def _encode_cursor(key: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).rstrip(b"=").decode()


def paginate(rows: Sequence[T], limit: int,
             key: Callable[[T], tuple[Any, ...]]) -> tuple[list[T], str | None]:
    """Split `limit + 1` fetched rows into a page and the cursor of the next one."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return items, (_encode_cursor(key(items[-1])) if more else None)
