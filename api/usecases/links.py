"""A person's link to an event (domain/links.py): its page's data, its acknowledgement
and its room reports, with the token for the only credential.

A token is found by its digest, then its person is a caller as if signed in, with the
roles they hold now (a removed member or an expired substitute gets the 404 of a token
never issued), and reaches the link's event only: the signed-in API's own use cases
take it from there, with the event the link names, never one the request names.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from api.usecases import checkins, roll_call
from api.usecases import events as lifecycle
from api.usecases.callers import Caller, CallerCache
from api.usecases.event_cache import EventCache
from api.usecases.known_students import KnownStudents
from api.usecases.unit_of_work import UnitOfWork
from api.usecases.updates import RECENT_UPDATES
from db import checkins as db_checkins
from db import links as db
from db import schools, updates
from db.checkin_writer import CheckinWriter
from db.events import EventContext
from db.students import FoundStudent
from domain.checkins import CheckIn, CheckInReport
from domain.errors import NotFound
from domain.events import Event
from domain.language import Language
from domain.links import digest, open_until, require_open, well_formed
from domain.schools import Room
from domain.updates import Update
from domain.values import Value

# The one answer for a token never issued, garbled, or of someone no longer a member.
UNKNOWN = "no such link: it may be mistyped, or no longer yours"


class LinkPage(Value, kw_only=True):
    """What the link's page shows: the event and its words, who the link is for, the
    school's rooms (`last_room_id`, the room of the person's newest report at the school,
    first) and what they reported during it, and the event's newest updates (newest
    first). `open_until` is when the link expires (None while the event is active)."""

    event: Event
    school_name: str
    school_timezone: str  # the school's clocks (IANA name), which the page's times follow
    person_name: str
    language: Language  # the person's, which the page speaks
    open_until: datetime | None
    rooms: list[Room]
    last_room_id: uuid.UUID | None
    checkins: list[CheckIn]
    updates: list[Update]


class Holder(Value):
    """Whose link it is, and the event it names."""

    ctx: EventContext
    caller: Caller


class Door:
    """What a link is opened through: the pool, and this process's recent copies of
    events and callers, and the students it knows (a storm of reports by link costs one
    query each, the token's)."""

    def __init__(self, pool: asyncpg.Pool, events: EventCache, callers: CallerCache,
                 students: KnownStudents) -> None:
        self.pool, self.events, self.callers, self.students = pool, events, callers, students

    async def open(self, token: str, now: datetime) -> Holder:
        """The link's event and person: NotFound (404) for a token we never issued or a
        person no longer of the event's school; Expired (410) once the event has been
        over for longer than the replay window."""
        if not well_formed(token):
            raise NotFound(UNKNOWN)
        async with self.pool.acquire() as conn:
            found = await db.find_link(conn, digest(token))
        if found is None:
            raise NotFound(UNKNOWN)
        event_id, user_id = found
        ctx = await self.events.get(self.pool, event_id, now)
        caller = await self.callers.get(user_id, None, self.pool, now)
        if caller is None or ctx.event.school_id not in caller.roles:
            raise NotFound(UNKNOWN)
        require_open(ctx.event, now)
        return Holder(ctx, caller)


async def page(door: Door, token: str, now: datetime) -> LinkPage:
    holder = await door.open(token, now)
    event, person = holder.ctx.event, holder.caller.user_id
    async with door.pool.acquire() as conn:
        school = await schools.get_school(conn, event.school_id)
        if school is None:
            raise NotFound(UNKNOWN)
        rooms, last_room_id = await schools.rooms_reporter_first(conn, event.school_id, person)
        return LinkPage(
            event=event, school_name=school.name, school_timezone=school.timezone,
            person_name=holder.caller.name, language=holder.caller.language,
            open_until=open_until(event), rooms=rooms, last_room_id=last_room_id,
            checkins=await db_checkins.reports_by(conn, event.id, person),
            updates=await updates.list_updates(conn, event.id, None, RECENT_UPDATES))


async def acknowledge(door: Door, uow: UnitOfWork, token: str, now: datetime) -> None:
    """The person has the alert: recorded once, as by the signed-in API (the page says
    so when it opens, never when it is fetched: see docs/alerts.md)."""
    holder = await door.open(token, now)
    await lifecycle.acknowledge(uow, holder.caller, holder.ctx.event.id, now)


async def check_in(door: Door, writer: CheckinWriter, token: str, report: CheckInReport,
                   now: datetime) -> checkins.CheckedIn:
    """A room's report by link, kept exactly as one by the signed-in API is (201 new,
    200 a replay of its client_id, 409 observed after the end)."""
    holder = await door.open(token, now)
    return await checkins.check_in(door.events, door.pool, writer, door.students,
                                   holder.caller, holder.ctx.event.id, report, now)


async def room_students(door: Door, token: str, room_id: uuid.UUID,
                        now: datetime) -> roll_call.RoomStudents:
    """A room's roll call list, for the link's person to mark (as their report's
    students)."""
    holder = await door.open(token, now)
    async with door.pool.acquire() as conn:
        return await roll_call.room_students(conn, holder.ctx.event, room_id)


async def find_students(door: Door, token: str, words: str,
                        now: datetime) -> list[FoundStudent]:
    """The school's students by name, to add one from another room to a report."""
    holder = await door.open(token, now)
    async with door.pool.acquire() as conn:
        return await roll_call.find_students(conn, holder.ctx.event, words)
