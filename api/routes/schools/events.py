"""A school's events: start one (idempotently), list them."""

from __future__ import annotations

import uuid

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.http.body import Body
from api.http.deps import AlertLinks, AlertRepeats, CallerOf, Conn, Now, Work
from api.http.idempotency import IdempotencyKey, idempotently
from api.http.pagination import ByTime, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.http.text import QueryInstant, instant_from_query
from api.usecases import events
from db import events as db
from domain import events as rules
from domain.events import Event
from domain.srp import EventStatus
from domain.values import Value


class EventIn(rules.EventRequest, Body, kw_only=True):
    """The domain's command as a body (named as the OpenAPI document has always named it)."""


class EventPage(Value):
    items: list[Event]
    next_cursor: str | None


@post("/{school_id:uuid}/events", summary="Start an event (real or drill)",
      responses=problem_specs(400, 401, 403, 404, 409, 422))
async def start_event(uow: Work, caller: CallerOf, now: Now, links: AlertLinks,
                      repeats: AlertRepeats, request: Request, school_id: FromPath[uuid.UUID],
                      data: JSONBody[EventIn],
                      idempotency_key: IdempotencyKey = None) -> Response[Event]:
    """A real event supersedes an active drill; anything else while one is active is 409."""
    caller.role_at(school_id)  # a retry is answered only while its caller is still a member
    return await idempotently(request, uow, caller, now, idempotency_key, 201,
                              lambda: events.start_event(uow, caller, school_id, data, now,
                                                         links, repeats=repeats))


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
