"""Schools and their rooms, as the rest of the domain sees them."""

from __future__ import annotations

import uuid

from domain.values import Value


class School(Value, kw_only=True):
    """A school; `address` is where it is, for anyone coming (a 911 call says it)."""

    id: uuid.UUID
    district_id: uuid.UUID
    name: str
    timezone: str
    state: str
    school_year_start_month: int
    school_year_start_day: int
    address: str | None = None


class Room(Value, kw_only=True):
    """A place that is accounted for: a classroom, the gym, a portable."""

    id: uuid.UUID
    code: str
    name: str
    building: str | None = None
    floor: int | None = None
    capacity: int | None = None
