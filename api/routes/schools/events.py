"""A school's events: start one (idempotently), list them."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from api.http.deps import CallerOf, Conn, Now
from api.http.pagination import ByTime, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.http.text import QueryInstant, instant_from_query
from api.routes.events.lifecycle import ActionIn
from api.usecases.drill_record import keep_record
from db import events as db
from db import idempotency
from domain import events as rules
from domain.alerts import MessageKind
from domain.events import Event
from domain.idempotency import KeyScope, KeyUse, Replay, fingerprint, replay_decision
from domain.srp import EventStatus
from notifications.queueing import queue_alert

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", min_length=1, max_length=200,
                    description="A retry by the same caller to the same method and path, "
                                "with the same key and body, gets the first answer; the same "
                                "key with another body is 422. A key is kept for 24 h."),
]


class EventIn(ActionIn, frozen=True, kw_only=True, forbid_unknown_fields=True):
    drill: bool


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


@post("/{school_id:uuid}/events", summary="Start an event (real or drill)",
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
            await db.record(conn, started.superseded, "status", caller.user_id, now)
        await db.record(conn, started.event, "started", caller.user_id, now, new=True)
        await queue_alert(conn, started.event, MessageKind.ALERT, now)
        if key:
            await idempotency.store(conn, key, use, 201, msgspec.json.encode(started.event))
    if started.superseded:
        state.events.forget(started.superseded.id)
        await keep_record(conn, started.superseded, now)
    return Response(started.event, status_code=201)


@get("/{school_id:uuid}/events", summary="A school's events, newest first",
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


router = Router("/", route_handlers=[start_event, list_events], tags=["events"])
