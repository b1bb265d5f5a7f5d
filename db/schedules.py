"""A school's bell schedule (domain/schedule.py), kept as one document."""

from __future__ import annotations

import uuid

import msgspec

from db.pool import Connection
from domain.schedule import BellSchedule

# bell_schedule -- the school's schedule, if it has one
_GET = "select day_types from bell_schedules where school_id = $1"


async def bell_schedule(conn: Connection, school_id: uuid.UUID) -> BellSchedule | None:
    day_types = await conn.fetchval(_GET, school_id)
    if day_types is None:
        return None
    return msgspec.convert({"day_types": day_types}, BellSchedule)
