"""Times in queries and cursors, and the text and time types of request bodies (which
are the domain's, domain/text.py: a body that is a domain command carries them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import QueryParameter

from domain.errors import Invalid
from domain.roster import EMAIL, EMAIL_MAX
from domain.text import Instant, Reason, Text200, Text500, Text1000

# The domain's text and time types are re-exported for the edge's own bodies. An
# Instant's offset is enforced in bodies by the strict decode; queries go through
# checked_instant.
__all__ = ["TRIMMED", "Email", "Instant", "Name", "QueryInstant", "Reason", "Text200",
           "Text500", "Text1000", "checked_instant", "instant_from_query"]

# Typed by people: no NUL (PostgreSQL text cannot hold it), no spaces around, not empty.
TRIMMED = r"^[^\x00\s]([^\x00]*[^\x00\s])?$"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=TRIMMED)]
Email = Annotated[str, msgspec.Meta(max_length=EMAIL_MAX, pattern=EMAIL)]

# A time in a query, taken as text: Litestar would read `?until=0.5` as a Unix time.
QueryInstant = Annotated[str | None, QueryParameter(max_length=64,
                                                    schema_extra={"format": "date-time"})]

_EARLIEST, _LATEST = 1900, 2200


def checked_instant(value: datetime | None, field: str) -> datetime | None:
    """A time from a query or cursor, with an offset and within years 1900..2200 (what
    Muster can store); anything else is a 400 naming the field."""
    if value is None:
        return None
    if value.utcoffset() is None:
        raise Invalid(f"{value.isoformat()} has no UTC offset, e.g. add Z", field=field)
    if not _EARLIEST <= value.year <= _LATEST:
        raise Invalid(f"{value.isoformat()} is out of range ({_EARLIEST}..{_LATEST})",
                      field=field)
    return value


def instant_from_query(text: str | None, field: str) -> datetime | None:
    """A time from a query: RFC 3339 text only, then as checked_instant."""
    if text is None:
        return None
    try:
        value = msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        raise Invalid(f"{text!r} is not an RFC 3339 time, e.g. 2026-11-29T08:00:00Z",
                      field=field) from None
    return checked_instant(value, field)
