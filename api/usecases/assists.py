"""Requests for help: ask, answer "on my way", resolve, turn into an event; and a room's
report asking for help during an event.

Each change locks the assist, lets the domain decide (domain/assists.py), writes the
step on the assist's timeline (and, for a room's need, on its event's) and queues the
messages to the school's responders, in one transaction: the alert goes out when the
change is stored, never before and never without it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import asyncpg
import msgspec
from msgspec.structs import replace

from api.usecases import events
from api.usecases.callers import Caller
from api.usecases.unit_of_work import UnitOfWork
from db import assists as db
from db import audience, outbox, timeline
from db.events import load_school_policy
from db.pool import Connection
from domain import assists as rules
from domain.assists import Assist, AssistRequest, AssistStep, Responders
from domain.checkins import CheckIn, CheckInStatus
from domain.errors import Invalid
from domain.events import Event, EventRequest, TimelineKind
from domain.language import Language
from domain.links import Links
from domain.policy import Permission
from domain.repeats import RepeatWindows
from domain.roles import Role
from domain.staff_status import StaffReport

_ENCODER = msgspec.json.Encoder()


async def request_assist(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                         request: AssistRequest, now: datetime) -> Assist:
    """Any member may ask; the school's responders (not the asker) are alerted."""
    caller.role_at(school_id)
    async with uow:
        assist = rules.requested(request, assist_id=uuid.uuid4(), school_id=school_id,
                                 actor_id=caller.user_id, now=now)
        room, asker = await db.wording(uow.conn, school_id, assist.room_id, caller.user_id)
        if assist.room_id is not None and room is None:
            raise Invalid(f"room {assist.room_id} is not a room of this school", field="room_id")
        await db.insert_assist(uow.conn, assist)
        await _log(uow.conn, assist, AssistStep.REQUESTED, caller.user_id, now)
        where = rules.place(room, assist.location)
        await _alert(uow.conn, assist, lambda language: rules.assist_text(
            language, assist, asker=asker, where=where), now)
    return assist


async def read_assist(conn: Connection, caller: Caller, assist_id: uuid.UUID, *,
                      lock: bool = False) -> tuple[Assist, Role]:
    """The assist and the caller's role at its school; another school's is a 404 that
    names only the assist."""
    assist = await db.load_assist(conn, assist_id, lock=lock)
    return assist, caller.role_at(assist.school_id, missing=f"no request for help {assist_id}")


async def respond(uow: UnitOfWork, caller: Caller, assist_id: uuid.UUID,
                  now: datetime) -> Assist:
    """A responder's "on my way" (once: a repeat changes nothing)."""
    async with uow:
        assist = await _answerable(uow.conn, caller, assist_id)
        rules.respond(assist)
        if await db.add_response(uow.conn, assist_id, caller.user_id, now):
            assist = await db.load_assist(uow.conn, assist_id)
            await _log(uow.conn, assist, AssistStep.ON_THE_WAY, caller.user_id, now)
    return assist


async def resolve(uow: UnitOfWork, caller: Caller, assist_id: uuid.UUID, outcome: str,
                  now: datetime) -> Assist:
    """The asker, a responder or a safety lead closes it, saying how it ended."""
    async with uow:
        assist, role = await read_assist(uow.conn, caller, assist_id, lock=True)
        if caller.user_id != assist.requested_by:
            rules.require_responder(role, caller.user_id,
                                    await db.responders(uow.conn, assist.school_id))
        assist = rules.resolve(assist, outcome, actor_id=caller.user_id, now=now)
        await db.update_assist(uow.conn, assist)
        await _log(uow.conn, assist, AssistStep.RESOLVED, caller.user_id, now)
    return assist


async def escalate(uow: UnitOfWork, caller: Caller, assist_id: uuid.UUID,
                   request: EventRequest, now: datetime, links: Links,
                   repeats: RepeatWindows) -> Event:
    """Start a real event from the request (its room, its note), once, by the rules of
    any start (events.start_event); the assist records which event it became."""
    async with uow:
        assist = await _answerable(uow.conn, caller, assist_id)
        event = await events.start_event(uow, caller, assist.school_id,
                                         rules.escalation(assist, request), now, links,
                                         room_id=assist.room_id, repeats=repeats)
        assist = replace(assist, became_event_id=event.id)
        await db.update_assist(uow.conn, assist)
        await _log(uow.conn, assist, AssistStep.ESCALATED, caller.user_id, now)
    return event


async def responders(conn: Connection, caller: Caller,
                     school_id: uuid.UUID) -> Responders:
    caller.role_at(school_id)
    return await db.responders(conn, school_id)


async def set_responders(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                         chosen: Responders, now: datetime) -> Responders:
    """Principals and district admins choose; a named person must be a member."""
    role = caller.role_at(school_id)
    async with uow:
        (await load_school_policy(uow.conn, school_id, lock=True)).require(
            role, Permission.MANAGE_RESPONDERS)
        members = {p.user_id for p in await audience.recipients(uow.conn, school_id, now)}
        chosen = rules.checked_responders(chosen, members)
        await db.set_responders(uow.conn, school_id, chosen)
    return chosen


async def room_asks_help(pool: asyncpg.Pool, event: Event, checkin: CheckIn,
                         now: datetime) -> None:
    """A room's new report during an event asks for help, or changes while its help is
    open: its responders are alerted at once with the room, the counts and the note,
    and the step goes on the assist's and the event's timelines."""
    async with pool.acquire() as conn, conn.transaction():
        assist, step = await db.open_need(conn, event.id, checkin.room_id), AssistStep.CHANGED
        if assist is None:
            if checkin.status is not CheckInStatus.NEEDS_HELP:
                return  # resolved meanwhile
            assist = rules.room_needs_help(checkin, assist_id=uuid.uuid4(),
                                           school_id=event.school_id)
            if await db.insert_assist(conn, assist):
                step = AssistStep.REQUESTED
            else:  # another report of the room opened it first
                assist = await db.open_need(conn, event.id, checkin.room_id)
                if assist is None:
                    return
        if step is AssistStep.CHANGED:
            assist = rules.reported_again(assist, checkin)
            await db.update_assist(conn, assist)
        await _log(conn, assist, step, checkin.reported_by, now)
        room, _ = await db.wording(conn, event.school_id, checkin.room_id, checkin.reported_by)
        where = rules.place(room, checkin.location)
        await _alert(conn, assist, lambda language: rules.room_help_text(
            language, step, checkin, where=where, drill=event.drill), now,
            asker=checkin.reported_by, drill=event.drill)


async def person_asks_help(conn: Connection, event: Event, report: StaffReport,
                           now: datetime) -> None:
    """A member of staff reported themselves "need help" during an event: their help is
    opened and the school's responders alerted, as for a room; while it is open, a
    repeated report adds nothing (it is on the event's timeline already)."""
    if await db.open_person_need(conn, event.id, report.user_id) is not None:
        return
    assist = rules.person_needs_help(report, assist_id=uuid.uuid4(), school_id=event.school_id)
    await db.insert_assist(conn, assist)
    await _log(conn, assist, AssistStep.REQUESTED, report.user_id, now)
    _, who = await db.wording(conn, event.school_id, None, report.user_id)
    await _alert(conn, assist, lambda language: rules.person_help_text(
        language, assist, who=who, drill=event.drill), now, drill=event.drill)


async def _answerable(conn: Connection, caller: Caller, assist_id: uuid.UUID) -> Assist:
    """The assist, locked, if the caller may answer it (a responder or a safety lead)."""
    assist, role = await read_assist(conn, caller, assist_id, lock=True)
    rules.require_responder(role, caller.user_id, await db.responders(conn, assist.school_id))
    return assist


async def _log(conn: Connection, assist: Assist, step: AssistStep, actor_id: uuid.UUID,
               now: datetime) -> None:
    """The step on the assist's timeline, and on its event's when a room asked."""
    await db.log(conn, assist, step, actor_id, now)
    if assist.event_id is not None:
        await timeline.append(conn, assist.event_id, now, TimelineKind.ASSIST, actor_id,
                              _ENCODER.encode(assist))


async def _alert(conn: Connection, assist: Assist, text: Callable[[Language], str],
                 now: datetime, *, asker: uuid.UUID | None = None, drill: bool = False) -> None:
    """Queue the messages to the school's responders, in each one's language; not to the
    one asking (by default who asked first; for a room's newer report, its reporter)."""
    chosen = await db.responders(conn, assist.school_id)
    people = await audience.recipients(conn, assist.school_id, now)
    targets = rules.responders_among(people, chosen, asker or assist.requested_by)
    plan = rules.plan_assist(assist, targets, {lang: text(lang) for lang in Language},
                             now=now, drill=drill)
    await outbox.enqueue(conn, assist.event_id, plan, assist_id=assist.id)
