"""A school's bell schedule (domain/schedule.py), kept as one document."""

from __future__ import annotations

import uuid
from datetime import datetime

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


# save_bell_schedule -- the school's schedule replaced whole, with who saved it and when
_SAVE = """
insert into bell_schedules (school_id, day_types, updated_at, updated_by)
values ($1, $2, $3, $4)
on conflict (school_id) do update
set day_types = excluded.day_types, updated_at = excluded.updated_at,
    updated_by = excluded.updated_by
"""


async def save_bell_schedule(conn: Connection, school_id: uuid.UUID, schedule: BellSchedule,
                             by: uuid.UUID | None, at: datetime) -> None:
    day_types = msgspec.to_builtins(schedule)["day_types"]
    await conn.execute(_SAVE, school_id, day_types, at, by)
