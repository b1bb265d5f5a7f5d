"""A room's report during an event: the path a storm hammers.

It takes no pooled connection and goes through no dependency injection: the event is
this process's recent copy (`EventCache`) and the report waits for its batch
(`CheckinWriter`) without a connection of its own; the route hands both in, with the
caller and `now`. The report's statement decides whether it is taken, under the
event's lock, because the copy may be a second old: a connection is taken only when a
report names a student this process does not know to be the school's (`KnownStudents`),
a late report changes the event's kept record, or a report asks for help (it needs help, or
its room's help is still open: api/usecases/assists.py alerts the responders before the
report is answered, so a 201 means they will be told).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

import asyncpg
from msgspec.structs import replace

from api.usecases.access import read_event_as
from api.usecases.assists import room_asks_help
from api.usecases.callers import Caller
from api.usecases.drill_record import keep_record
from api.usecases.event_cache import EventCache
from api.usecases.known_students import KnownStudents
from db.checkin_writer import CheckinWriter
from db.checkins import ForeignRoom, Replayed, Stored, TooLate
from db.events import load_event
from domain.checkins import CheckIn, CheckInReport, received, too_late
from domain.errors import Invalid
from domain.policy import Permission


class CheckedIn(NamedTuple):
    """The report as kept; `new` is False for a retry of one kept before (that one is
    `checkin`, unchanged)."""

    checkin: CheckIn
    new: bool


async def check_in(events: EventCache, pool: asyncpg.Pool, writer: CheckinWriter,
                   students: KnownStudents, caller: Caller, event_id: uuid.UUID,
                   report: CheckInReport, now: datetime) -> CheckedIn:
    """Keep the report. A phone retrying gets the report it sent, even after the end;
    one observed at or after the end is refused (409), as is another school's room."""
    ctx, role = await read_event_as(events, pool, caller, event_id, now)
    ctx.policy.require(role, Permission.CHECK_IN)
    checkin = received(report, checkin_id=uuid.uuid4(), event=ctx.event,
                       reported_by=caller.user_id, received_at=now)
    if report.students:
        await _require_our_students(students, pool, ctx.event.school_id, report)
    match await writer.write(checkin, ctx.event.school_id):
        case Replayed(earlier):
            return CheckedIn(earlier, new=False)
        case TooLate(status, ended_at):
            events.forget(event_id)
            raise too_late(replace(ctx.event, status=status, ended_at=ended_at),
                           checkin.observed_at)
        case ForeignRoom(room_id):
            raise Invalid(f"room {room_id} is not a room of this event's school",
                          field="room_id")
        case Stored(late=True):  # a late report changes the record
            events.forget(event_id)
            async with pool.acquire() as conn:
                await keep_record(conn, (await load_event(conn, event_id)).event, now)
        case Stored(asks_help=True):  # never an ok report of a room whose help is not open
            await room_asks_help(pool, ctx.event, checkin, now)
    return CheckedIn(checkin, new=True)


async def _require_our_students(students: KnownStudents, pool: asyncpg.Pool,
                                school_id: uuid.UUID, report: CheckInReport) -> None:
    """Refuse (400, naming the first one) a report naming a student the event's school
    does not have, before anything is stored."""
    strangers = set(await students.strangers(pool, school_id,
                                             [m.student_id for m in report.students]))
    for n, mark in enumerate(report.students):
        if mark.student_id in strangers:
            raise Invalid(f"no student {mark.student_id} at this event's school",
                          field=f"students[{n}].student_id")
