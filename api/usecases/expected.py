"""Who is expected where at a moment: the bell schedule's period then (in the school's
time zone), and each active student's room at that period (db/students.py). An event's
rooms expect the students they had when it started."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime

from db import schedules, students
from db.pool import Connection
from db.students import ExpectedStudent
from domain.schedule import period_at


async def period_then(conn: Connection, school_id: uuid.UUID, timezone: str,
                      at: datetime) -> str | None:
    """The bell schedule's period at `at` in the school's time zone; None: homerooms."""
    schedule = await schedules.bell_schedule(conn, school_id)
    local = at.astimezone(zoneinfo.ZoneInfo(timezone))
    return period_at(schedule, local) if schedule is not None else None


async def expected_at(conn: Connection, school_id: uuid.UUID, timezone: str, at: datetime,
                      room_id: uuid.UUID | None = None) -> list[ExpectedStudent]:
    """The school's expected students at `at` (one room's, or all), by name."""
    period = await period_then(conn, school_id, timezone, at)
    return await students.expected_students(conn, school_id, period, room_id)
