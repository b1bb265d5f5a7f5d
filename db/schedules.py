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


# school_clock -- the school's time zone and its bell schedule, if it has one: what a
# moment's period needs, in one query
_CLOCK = """
select s.timezone, b.day_types from schools s
left join bell_schedules b on b.school_id = s.id
where s.id = $1
"""


async def school_clock(conn: Connection, school_id: uuid.UUID) -> tuple[str, BellSchedule | None]:
    row = await conn.fetchrow(_CLOCK, school_id)
    if row is None:
        raise LookupError(f"no school {school_id}")
    day_types = row["day_types"]
    schedule = None if day_types is None else msgspec.convert({"day_types": day_types},
                                                              BellSchedule)
    return row["timezone"], schedule
