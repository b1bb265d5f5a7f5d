"""An event's drill record: its timing record, kept when the event ends, with the
after-action notes and the names it mentions.

The end of an event never waits on, or fails with, its record: the record is computed
in a transaction of its own right after the end commits; if that fails, it is logged,
and the record is computed when it is first read. A late offline check-in (observed
before the end) computes it again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import asyncpg
from msgspec.structs import replace

from api.usecases.access import load_event_as
from api.usecases.callers import Caller
from api.usecases.expected import expected_rooms_in_event
from db import reports as db
from db import schools
from db.pool import Connection
from domain.after_action import AfterActionRevision
from domain.errors import NotFound
from domain.events import Event
from domain.policy import Permission
from domain.srp import EventStatus
from domain.timing import TimingFacts, TimingRecord, timing_record
from domain.values import Value

log = logging.getLogger("muster.reports")


class SchoolRef(Value, kw_only=True):
    id: uuid.UUID
    name: str
    timezone: str


class EventReport(Value, kw_only=True):
    """The drill record. `partial` is true while the event is active: the timing is then
    computed on each request, as of `computed_at`, and not stored. `people` names everyone
    the record refers to by id (who started and ended it, reporters, the last editor)."""

    event: Event
    school: SchoolRef
    partial: bool
    computed_at: datetime
    timing: TimingRecord
    after_action: AfterActionRevision | None
    people: dict[uuid.UUID, str]


async def _facts(conn: Connection, event: Event) -> TimingFacts:
    """What the event's record is computed from, with its roster: the students expected
    at the start."""
    expected = await expected_rooms_in_event(conn, event)
    return replace(await db.load_facts(conn, event), expected_students=frozenset(expected))


async def store_record(conn: Connection, event: Event,
                       now: datetime) -> tuple[TimingRecord, datetime]:
    """Compute the event's timing record from what is stored now, and keep it."""
    async with conn.transaction():
        await db.lock_record(conn, event.id)
        record = timing_record(event, await _facts(conn, event), now=now)
        await db.store_record(conn, event.id, record, now)
    return record, now


async def keep_record(conn: Connection, event: Event, now: datetime) -> None:
    """After an event ended (or a late report arrived for it): store its record. A failure
    is logged, never raised, because the change that called this has already committed."""
    try:
        await store_record(conn, event, now)
    except Exception:
        log.exception("could not store the timing record of event %s; it will be computed "
                      "when it is read", event.id)


async def _timing(conn: asyncpg.Connection, event: Event,
                  now: datetime) -> tuple[TimingRecord, datetime]:
    if event.status is EventStatus.ACTIVE:
        return timing_record(event, await _facts(conn, event), now=now), now
    return await db.load_record(conn, event.id) or await store_record(conn, event, now)


async def report_as(conn: asyncpg.Connection, caller: Caller, event_id: uuid.UUID,
                    now: datetime) -> EventReport:
    """The event's record, for a caller allowed to read reports at its school."""
    ctx, role = await load_event_as(conn, caller, event_id)
    ctx.policy.require(role, Permission.READ_REPORTS)
    return await report_of(conn, ctx.event, now)


async def report_of(conn: asyncpg.Connection, event: Event, now: datetime) -> EventReport:
    """The event's record: stored if it has ended (computed now if it never was), live and
    partial while it is active."""
    school = await schools.get_school(conn, event.school_id)
    if school is None:
        raise NotFound(f"no school {event.school_id}")
    timing, computed_at = await _timing(conn, event, now)
    after_action = await db.load_after_action(conn, event.id)
    editor = after_action.edited_by if after_action else None
    named = {u for u in (event.started_by, event.ended_by, editor,
                         *(r.reported_by for r in timing.rooms)) if u is not None}
    return EventReport(
        event=event, school=SchoolRef(id=school.id, name=school.name, timezone=school.timezone),
        partial=event.status is EventStatus.ACTIVE, computed_at=computed_at, timing=timing,
        after_action=after_action, people=await db.names_of(conn, school.id, named))
