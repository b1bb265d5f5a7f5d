"""What people type and the times phones send, with the limits Muster keeps them to.

The limits belong to the values, not to the edge that reads them: a command carries
them in its field types, so decoding a request into it checks them (and the OpenAPI
document states them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

# PostgreSQL text cannot hold NUL; refuse it when decoding, naming the field, not with a 500.
NO_NUL = r"^[^\x00]*$"

Text200 = Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)]
Text500 = Annotated[str, msgspec.Meta(max_length=500, pattern=NO_NUL)]
Text1000 = Annotated[str, msgspec.Meta(max_length=1000, pattern=NO_NUL)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=NO_NUL)]

# RFC 3339 requires an offset; a time without one is ambiguous across time zones.
Instant = Annotated[datetime, msgspec.Meta(tz=True)]
