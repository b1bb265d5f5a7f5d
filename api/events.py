"""Events: start (idempotently), escalate, all-clear, cancel, acknowledge, list, read."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from api.access import load_event_as
from api.accountability import AccountabilityOut, accountability_of
from api.deps import CallerOf, Conn, Now
from api.drill_record import keep_record
from api.pagination import ByTime, Cursor, Limit, decode_cursor, paginate
from api.problems import problem_specs
from api.text import (
    QueryInstant,
    Reason,
    Text200,
    Text500,
    Text1000,
    instant_from_query,
)
from db import events as db
from db import idempotency
from db.events import EventContext
from domain import events as rules
from domain.alerts import MessageKind
from domain.events import Event, TimelineKind
from domain.idempotency import KeyScope, KeyUse, Replay, fingerprint, replay_decision
from domain.roles import Role
from domain.srp import Action, EventStatus, Hazard, Purpose
from notifications.queueing import queue_alert, queue_ending

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", min_length=1, max_length=200,
                    description="A retry by the same caller to the same method and path, "
                                "with the same key and body, gets the first answer; the same "
                                "key with another body is 422. A key is kept for 24 h."),
]


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


class EventIn(ActionIn, frozen=True, kw_only=True, forbid_unknown_fields=True):
    drill: bool


class AllClearIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    message: Text1000 | None = None


class CancelIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class EventDetail(Event, frozen=True, kw_only=True):
    accountability: AccountabilityOut


class EventPage(msgspec.Struct, frozen=True):
    items: list[Event]
    next_cursor: str | None


async def _replay(conn: Conn, key: KeyScope, use: KeyUse) -> Response[Event] | None:
    """The first answer, if this is a retry of the key's first use in its scope; None when
    the work is to be done (a new or expired key). Holds the key until the transaction ends,
    so a retry sent while the first is still working waits for its answer."""
    stored = await idempotency.claim(conn, key)
    if replay_decision(stored and stored.first, use) is Replay.REPLAY:
        return Response(stored.body, status_code=stored.status)
    return None


@post("/schools/{school_id:uuid}/events", summary="Start an event (real or drill)",
      responses=problem_specs(400, 401, 403, 404, 409, 422))
async def start_event(state: State, conn: Conn, caller: CallerOf, now: Now, request: Request,
                      school_id: FromPath[uuid.UUID], data: JSONBody[EventIn],
                      idempotency_key: IdempotencyKey = None) -> Response[Event]:
    """A real event supersedes an active drill; anything else while one is active is 409."""
    role = caller.role_at(school_id)
    use = KeyUse(fingerprint(await request.body()), now)
    key = idempotency_key and KeyScope(caller.user_id, request.method, request.url.path,
                                       idempotency_key)
    async with conn.transaction():
        if key and (replay := await _replay(conn, key, use)):
            return replay
        policy = await db.load_school_policy(conn, school_id, lock=True)  # starts take turns
        started = rules.start_event(
            await db.load_active_event(conn, school_id),
            msgspec.convert(msgspec.structs.asdict(data), rules.EventRequest),
            event_id=uuid.uuid4(), school_id=school_id, actor_id=caller.user_id, role=role,
            policy=policy, now=now)
        if started.superseded:  # its people get the real alert instead of an ending
            await db.record(conn, started.superseded, TimelineKind.STATUS, caller.user_id, now)
        await db.record(conn, started.event, TimelineKind.STARTED, caller.user_id, now,
                        new=True)
        await queue_alert(conn, started.event, MessageKind.ALERT, now)
        if key:
            await idempotency.store(conn, key, use, 201, msgspec.json.encode(started.event))
    if started.superseded:
        state.events.forget(started.superseded.id)
        await keep_record(conn, started.superseded, now)
    return Response(started.event, status_code=201)


@get("/schools/{school_id:uuid}/events", summary="A school's events, newest first",
     responses=problem_specs(400, 401, 404))
async def list_events(conn: Conn, caller: CallerOf, school_id: FromPath[uuid.UUID],
                      status: FromQuery[EventStatus | None] = None,
                      drill: FromQuery[bool | None] = None,
                      since: QueryInstant = None, until: QueryInstant = None,
                      limit: Limit = 50, cursor: Cursor = None) -> EventPage:
    caller.role_at(school_id)
    where = db.EventFilter(status=status, drill=drill, since=instant_from_query(since, "since"),
                           until=instant_from_query(until, "until"))
    after = decode_cursor(cursor, ByTime)
    rows = await db.list_events(conn, school_id, where, after, limit + 1)
    items, next_cursor = paginate(rows, limit, lambda e: (e.started_at, e.id))
    return EventPage(items, next_cursor)


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
            await db.record(conn, event, TimelineKind.ACTION, caller.user_id, now)
            await queue_alert(conn, event, message, now)
        else:
            await db.record(conn, event, TimelineKind.STATUS, caller.user_id, now)
            await queue_ending(conn, event, message)
    state.events.forget(event_id)
    if event.status is not EventStatus.ACTIVE:
        await keep_record(conn, event, now)
    return event


@get("/events/{event_id:uuid}", summary="An event and its accountability",
     responses=problem_specs(400, 401, 403, 404))
async def get_event(conn: Conn, caller: CallerOf, event_id: FromPath[uuid.UUID]) -> EventDetail:
    ctx, role = await load_event_as(conn, caller, event_id)
    accountability = await accountability_of(conn, ctx, role)
    return EventDetail(**msgspec.structs.asdict(ctx.event), accountability=accountability)


@post("/events/{event_id:uuid}/actions", status_code=200, summary="Change the event's action",
      responses=problem_specs(400, 401, 403, 404, 409))
async def change_action(state: State, conn: Conn, caller: CallerOf, now: Now,
                        event_id: FromPath[uuid.UUID], data: JSONBody[ActionIn]) -> Event:
    request = msgspec.convert(msgspec.structs.asdict(data), rules.ActionRequest)

    def decide(ctx: EventContext, role: Role) -> Event:
        return rules.change_action(ctx.event, request, actor_id=caller.user_id, role=role,
                                   policy=ctx.policy, now=now).event

    return await _change(state, conn, caller, now, event_id, MessageKind.ACTION, decide)


@post("/events/{event_id:uuid}/all-clear", status_code=200, summary="End the event: all clear",
      responses=problem_specs(400, 401, 403, 404, 409))
async def all_clear(state: State, conn: Conn, caller: CallerOf, now: Now,
                    event_id: FromPath[uuid.UUID], data: JSONBody[AllClearIn]) -> Event:
    def decide(ctx: EventContext, role: Role) -> Event:
        return rules.all_clear(ctx.event, actor_id=caller.user_id, role=role,
                               policy=ctx.policy, now=now, message=data.message)

    return await _change(state, conn, caller, now, event_id, MessageKind.ALL_CLEAR, decide)


@post("/events/{event_id:uuid}/cancel", status_code=200, summary="Cancel a false alarm",
      responses=problem_specs(400, 401, 403, 404, 409))
async def cancel(state: State, conn: Conn, caller: CallerOf, now: Now,
                 event_id: FromPath[uuid.UUID], data: JSONBody[CancelIn]) -> Event:
    def decide(ctx: EventContext, role: Role) -> Event:
        return rules.cancel(ctx.event, data.reason, actor_id=caller.user_id, role=role,
                            policy=ctx.policy, now=now)

    return await _change(state, conn, caller, now, event_id, MessageKind.CANCELLED, decide)


@post("/events/{event_id:uuid}/ack", status_code=204, summary="I received the alert",
      responses=problem_specs(400, 401, 404))
async def acknowledge(conn: Conn, caller: CallerOf, now: Now,
                      event_id: FromPath[uuid.UUID]) -> None:
    ctx, _ = await load_event_as(conn, caller, event_id)
    await db.record_ack(conn, ctx.event.id, caller.user_id, now)


router = Router("/", route_handlers=[start_event, list_events, get_event, change_action,
                                     all_clear, cancel, acknowledge], tags=["events"])
