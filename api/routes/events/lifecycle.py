"""An event's life: read, escalate, all-clear, cancel, acknowledge. Starting one and
listing a school's are in api/routes/schools/events.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import msgspec
from litestar import Router, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from api.http.deps import CallerOf, Conn, Now
from api.http.problems import problem_specs
from api.http.text import Reason, Text200, Text500, Text1000
from api.usecases.access import load_event_as
from api.usecases.accountability import AccountabilityOut, accountability_of
from api.usecases.drill_record import keep_record
from db import events as db
from db.events import EventContext
from domain import events as rules
from domain.alerts import MessageKind
from domain.events import Event
from domain.roles import Role
from domain.srp import Action, EventStatus, Hazard, Purpose
from notifications.queueing import queue_alert, queue_ending


class ActionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An SRP action and its words; evacuate needs `location`, shelter needs `hazard`;
    evacuate may say what it is for (`purpose`), which drill compliance counts by."""

    action: Action
    message: Text1000 | None = None
    directive: Text1000 | None = None
    location: Text200 | None = None
    hazard: Hazard | None = None
    purpose: Purpose | None = None
    strategy: Text500 | None = None


class AllClearIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    message: Text1000 | None = None


class CancelIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class EventDetail(Event, frozen=True, kw_only=True):
    accountability: AccountabilityOut


async def _change(state: State, conn: Conn, caller: CallerOf, now: datetime,
                  event_id: uuid.UUID, message: MessageKind,
                  decide: Callable[[EventContext, Role], Event]) -> Event:
    """Lock the event, let the domain decide its new state, store it on the timeline and
    queue the message it calls for, all in one transaction; once it has committed, drop
    this process's copy of the event and, after an ending, keep its timing record."""
    async with conn.transaction():
        ctx, role = await load_event_as(conn, caller, event_id, lock=True)
        event = decide(ctx, role)
        if message is MessageKind.ACTION:
            await db.record(conn, event, "action", caller.user_id, now)
            await queue_alert(conn, event, message, now)
        else:
            await db.record(conn, event, "status", caller.user_id, now)
            await queue_ending(conn, event, message)
    state.events.forget(event_id)
    if event.status is not EventStatus.ACTIVE:
        await keep_record(conn, event, now)
    return event


@get("/{event_id:uuid}", summary="An event and its accountability",
     responses=problem_specs(400, 401, 403, 404))
async def get_event(conn: Conn, caller: CallerOf, event_id: FromPath[uuid.UUID]) -> EventDetail:
    ctx, role = await load_event_as(conn, caller, event_id)
    accountability = await accountability_of(conn, ctx, role)
    return EventDetail(**msgspec.structs.asdict(ctx.event), accountability=accountability)


@post("/{event_id:uuid}/actions", status_code=200, summary="Change the event's action",
      responses=problem_specs(400, 401, 403, 404, 409))
async def change_action(state: State, conn: Conn, caller: CallerOf, now: Now,
                        event_id: FromPath[uuid.UUID], data: JSONBody[ActionIn]) -> Event:
    request = msgspec.convert(msgspec.structs.asdict(data), rules.ActionRequest)

    def decide(ctx: EventContext, role: Role) -> Event:
        return rules.change_action(ctx.event, request, actor_id=caller.user_id, role=role,
                                   policy=ctx.policy, now=now).event

    return await _change(state, conn, caller, now, event_id, MessageKind.ACTION, decide)


@post("/{event_id:uuid}/all-clear", status_code=200, summary="End the event: all clear",
      responses=problem_specs(400, 401, 403, 404, 409))
async def all_clear(state: State, conn: Conn, caller: CallerOf, now: Now,
                    event_id: FromPath[uuid.UUID], data: JSONBody[AllClearIn]) -> Event:
    def decide(ctx: EventContext, role: Role) -> Event:
        return rules.all_clear(ctx.event, actor_id=caller.user_id, role=role,
                               policy=ctx.policy, now=now, message=data.message)

    return await _change(state, conn, caller, now, event_id, MessageKind.ALL_CLEAR, decide)


@post("/{event_id:uuid}/cancel", status_code=200, summary="Cancel a false alarm",
      responses=problem_specs(400, 401, 403, 404, 409))
async def cancel(state: State, conn: Conn, caller: CallerOf, now: Now,
                 event_id: FromPath[uuid.UUID], data: JSONBody[CancelIn]) -> Event:
    def decide(ctx: EventContext, role: Role) -> Event:
        return rules.cancel(ctx.event, data.reason, actor_id=caller.user_id, role=role,
                            policy=ctx.policy, now=now)

    return await _change(state, conn, caller, now, event_id, MessageKind.CANCELLED, decide)


@post("/{event_id:uuid}/ack", status_code=204, summary="I received the alert",
      responses=problem_specs(400, 401, 404))
async def acknowledge(conn: Conn, caller: CallerOf, now: Now,
                      event_id: FromPath[uuid.UUID]) -> None:
    ctx, _ = await load_event_as(conn, caller, event_id)
    await db.record_ack(conn, ctx.event.id, caller.user_id, now)


router = Router("/", route_handlers=[get_event, change_action, all_clear, cancel,
                                     acknowledge], tags=["events"])
