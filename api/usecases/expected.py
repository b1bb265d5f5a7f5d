"""Who is expected where at a moment: the school's date and the bell schedule's period
then (in the school's time zone), and each active student's room at that period among
the classes meeting that day (db/students.py). An event's rooms expect the students they
had when it started: fixed then, and read back after."""

from __future__ import annotations

import uuid
import zoneinfo
from collections import OrderedDict
from datetime import date, datetime

from db import schedules, students
from db.pool import Connection
from db.students import ExpectedStudent
from domain.events import Event
from domain.roll_call import Expected, expect
from domain.schedule import BellSchedule, period_at


def school_date(timezone: str, at: datetime) -> date:
    """The school's date at `at`, in its time zone: the day a student's classes are read
    on (their terms, the enrollments' dates)."""
    return at.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def _school_time(schedule: BellSchedule | None, timezone: str,
                 at: datetime) -> tuple[date, str | None]:
    local = at.astimezone(zoneinfo.ZoneInfo(timezone))
    return local.date(), period_at(schedule, local) if schedule is not None else None


async def school_time(conn: Connection, school_id: uuid.UUID, timezone: str,
                      at: datetime) -> tuple[date, str | None]:
    """The school's date at `at` (which of its classes meet: those in a term then) and
    the bell schedule's period, both in its time zone; period None: homerooms."""
    return _school_time(await schedules.bell_schedule(conn, school_id), timezone, at)


async def freeze_expected(conn: Connection, event: Event) -> None:
    """Fix the students the event's rooms expect, as the school expects them at its start
    (inside the transaction that stores the start)."""
    timezone, schedule = await schedules.school_clock(conn, event.school_id)
    day, period = _school_time(schedule, timezone, event.started_at)
    await students.freeze_expected(conn, event.school_id, period, day, event.id)


async def expected_in_event(conn: Connection, event: Event,
                            room_id: uuid.UUID | None = None) -> list[ExpectedStudent]:
    """The students the event's rooms expect (one room's, or all), by name."""
    return await students.expected_in_event(conn, event.id, room_id)


async def expected_rooms_in_event(conn: Connection,
                                  event: Event) -> dict[uuid.UUID, uuid.UUID | None]:
    """Each student the event's rooms expect, and their room (as `expected_in_event`,
    without names or order: what adding up needs)."""
    return await students.expected_rooms_in_event(conn, event.id)


class ExpectedCache:
    """What recent events' rooms expect, kept by this process: fixed at each event's start,
    so a copy never goes stale, and a dashboard polling a 2,000-student school through a
    storm does not read 2,000 rows each time. Past `max_events`, the least recently read
    is dropped (a miss costs one query)."""

    def __init__(self, max_events: int = 64) -> None:
        self._max_events = max_events
        self._entries: OrderedDict[uuid.UUID, Expected] = OrderedDict()

    async def get(self, conn: Connection, event: Event) -> Expected:
        expected = self._entries.get(event.id)
        if expected is None:
            expected = expect(await expected_rooms_in_event(conn, event))
            self._entries[event.id] = expected
            if len(self._entries) > self._max_events:
                self._entries.popitem(last=False)
        self._entries.move_to_end(event.id)
        return expected
