"""What we know: an event's updates, posted by its safety leads to everyone it alerted."""

from __future__ import annotations

import uuid

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, JSONBody

from api.http.body import Body
from api.http.deps import AlertLinks, CallerOf, Conn, Now, Work
from api.http.idempotency import IdempotencyKey, idempotently
from api.http.pagination import ByTime, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.usecases import updates
from api.usecases.access import load_event_as
from domain import updates as rules
from domain.updates import Update
from domain.values import Value


class UpdateIn(rules.UpdateRequest, Body, kw_only=True):
    """The domain's request as a body."""


class UpdatePage(Value):
    items: list[Update]
    next_cursor: str | None


@post("/{event_id:uuid}/updates", summary="Send what we know to everyone the event alerted",
      responses=problem_specs(400, 401, 403, 404, 409, 422), status_code=201)
async def post_update(uow: Work, caller: CallerOf, now: Now, links: AlertLinks,
                      request: Request, event_id: FromPath[uuid.UUID], data: JSONBody[UpdateIn],
                      idempotency_key: IdempotencyKey = None) -> Response[Update]:
    """By push and SMS at normal priority, each in the person's language; 409 once the
    event has ended."""
    await load_event_as(uow.conn, caller, event_id)  # a retry is answered to members only
    return await idempotently(request, uow, caller, now, idempotency_key, 201,
                              lambda: updates.post_update(uow, caller, event_id, data, now,
                                                          links))


@get("/{event_id:uuid}/updates", summary="The event's updates, newest first",
     responses=problem_specs(400, 401, 404))
async def list_updates(conn: Conn, caller: CallerOf, event_id: FromPath[uuid.UUID],
                       limit: Limit = 50, cursor: Cursor = None) -> UpdatePage:
    rows = await updates.updates_of(conn, caller, event_id, decode_cursor(cursor, ByTime),
                                    limit + 1)
    items, next_cursor = paginate(rows, limit, lambda u: (u.posted_at, u.id))
    return UpdatePage(items, next_cursor)


router = Router("/", route_handlers=[post_update, list_updates], tags=["events"])
