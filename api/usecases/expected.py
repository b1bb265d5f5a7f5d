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
from domain.events import Event
from domain.schedule import BellSchedule, period_at


def _period(schedule: BellSchedule | None, timezone: str, at: datetime) -> str | None:
    local = at.astimezone(zoneinfo.ZoneInfo(timezone))
    return period_at(schedule, local) if schedule is not None else None


async def period_then(conn: Connection, school_id: uuid.UUID, timezone: str,
                      at: datetime) -> str | None:
    """The bell schedule's period at `at` in the school's time zone; None: homerooms."""
    return _period(await schedules.bell_schedule(conn, school_id), timezone, at)


async def expected_at(conn: Connection, school_id: uuid.UUID, timezone: str, at: datetime,
                      room_id: uuid.UUID | None = None) -> list[ExpectedStudent]:
    """The school's expected students at `at` (one room's, or all), by name."""
    period = await period_then(conn, school_id, timezone, at)
    return await students.expected_students(conn, school_id, period, room_id)


async def _period_at_start(conn: Connection, event: Event) -> str | None:
    timezone, schedule = await schedules.school_clock(conn, event.school_id)
    return _period(schedule, timezone, event.started_at)


async def expected_in_event(conn: Connection, event: Event,
                            room_id: uuid.UUID | None = None) -> list[ExpectedStudent]:
    """The students the event's rooms expect (one room's, or all): those expected when it
    started, by name; two queries."""
    period = await _period_at_start(conn, event)
    return await students.expected_students(conn, event.school_id, period, room_id)


async def expected_rooms_in_event(conn: Connection,
                                  event: Event) -> dict[uuid.UUID, uuid.UUID | None]:
    """Each student the event's rooms expect, and their room (as `expected_in_event`,
    without names or order: what adding up needs); two queries."""
    return await students.expected_rooms(conn, event.school_id,
                                         await _period_at_start(conn, event))
