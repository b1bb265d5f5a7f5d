"""An event's life: start, change the action, all clear, cancel, acknowledge.

Each change locks what it decides on (the school's row for a start, so that starts at
one school take turns; the event's row after), lets the domain decide, stores the
result on the timeline (a start also fixes the students its rooms expect) and queues the
alert it calls for, in one transaction. Once it has committed, this process's copy of
the event is dropped and an ended event's drill record is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from api.usecases.access import load_event_as
from api.usecases.callers import Caller
from api.usecases.expected import freeze_expected
from api.usecases.unit_of_work import UnitOfWork
from db import events as db
from db.events import EventContext
from domain import events as rules
from domain.alerts import MessageKind
from domain.events import Event, TimelineKind
from domain.links import Links
from domain.repeats import DEFAULT_WINDOWS, RepeatWindows
from domain.roles import Role
from domain.srp import EventStatus
from notifications.queueing import queue_alert, queue_ending

Decide = Callable[[EventContext, Role], Event]
Announce = Callable[[Event], Awaitable[None]]


async def start_event(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                      request: rules.EventRequest, now: datetime, links: Links, *,
                      room_id: uuid.UUID | None = None,
                      repeats: RepeatWindows = DEFAULT_WINDOWS) -> Event:
    """A real event supersedes an active drill; anything else while one is active is
    refused (Conflict, naming the active event). `room_id`: the room it starts from."""
    role = caller.role_at(school_id)
    async with uow:
        policy = await db.load_school_policy(uow.conn, school_id, lock=True)
        started = rules.start_event(
            await db.load_active_event(uow.conn, school_id), request, event_id=uuid.uuid4(),
            school_id=school_id, actor_id=caller.user_id, role=role, policy=policy, now=now,
            room_id=room_id)
        if started.superseded:  # its people get the real alert instead of an ending
            await db.record(uow.conn, started.superseded, TimelineKind.STATUS, caller.user_id,
                            now)
            uow.forget_event(started.superseded.id)
            uow.keep_record(started.superseded, now)
        await db.record(uow.conn, started.event, TimelineKind.STARTED, caller.user_id, now,
                        new=True)
        await freeze_expected(uow.conn, started.event)
        await queue_alert(uow.conn, started.event, MessageKind.ALERT, now, links, repeats)
    return started.event


async def change_action(uow: UnitOfWork, caller: Caller, event_id: uuid.UUID,
                        request: rules.ActionRequest, now: datetime, links: Links,
                        repeats: RepeatWindows = DEFAULT_WINDOWS) -> Event:
    def decide(ctx: EventContext, role: Role) -> Event:
        return rules.change_action(ctx.event, request, actor_id=caller.user_id, role=role,
                                   policy=ctx.policy, now=now).event

    async def alert(event: Event) -> None:
        await queue_alert(uow.conn, event, MessageKind.ACTION, now, links, repeats)

    return await _change(uow, caller, event_id, now, TimelineKind.ACTION, decide, alert)


async def all_clear(uow: UnitOfWork, caller: Caller, event_id: uuid.UUID,
                    message: str | None, now: datetime) -> Event:
    def decide(ctx: EventContext, role: Role) -> Event:
        return rules.all_clear(ctx.event, actor_id=caller.user_id, role=role,
                               policy=ctx.policy, now=now, message=message)

    async def tell(event: Event) -> None:
        await queue_ending(uow.conn, event, MessageKind.ALL_CLEAR)

    return await _change(uow, caller, event_id, now, TimelineKind.STATUS, decide, tell)


async def cancel(uow: UnitOfWork, caller: Caller, event_id: uuid.UUID, reason: str,
                 now: datetime) -> Event:
    def decide(ctx: EventContext, role: Role) -> Event:
        return rules.cancel(ctx.event, reason, actor_id=caller.user_id, role=role,
                            policy=ctx.policy, now=now)

    async def tell(event: Event) -> None:
        await queue_ending(uow.conn, event, MessageKind.CANCELLED)

    return await _change(uow, caller, event_id, now, TimelineKind.STATUS, decide, tell)


async def acknowledge(uow: UnitOfWork, caller: Caller, event_id: uuid.UUID,
                      now: datetime) -> None:
    """The caller received the event's alert (once on the timeline however often sent)."""
    ctx, _ = await load_event_as(uow.conn, caller, event_id)
    await db.record_ack(uow.conn, ctx.event.id, caller.user_id, now)


async def _change(uow: UnitOfWork, caller: Caller, event_id: uuid.UUID, now: datetime,
                  entry: TimelineKind, decide: Decide, announce: Announce) -> Event:
    """Decide on the locked event, record it, and queue what it announces (an alert, or
    the ending to those who were alerted)."""
    async with uow:
        ctx, role = await load_event_as(uow.conn, caller, event_id, lock=True)
        event = decide(ctx, role)
        await db.record(uow.conn, event, entry, caller.user_id, now)
        await announce(event)
        uow.forget_event(event_id)
        if event.status is not EventStatus.ACTIVE:
            uow.keep_record(event, now)
    return event
