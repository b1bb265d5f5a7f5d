"""A school's requests for help: ask (idempotently), list them, and choose who answers
them (its responders)."""

from __future__ import annotations

import uuid

from litestar import Request, Response, Router, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from api.http.body import Body
from api.http.deps import CallerOf, Conn, Now, Work
from api.http.idempotency import IdempotencyKey, idempotently
from api.http.pagination import ByTime, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.usecases import assists
from db import assists as db
from domain.assists import Assist, AssistRequest, Responders
from domain.values import Value


class AssistIn(AssistRequest, Body, kw_only=True):
    """The domain's request as a body."""


class RespondersIn(Responders, Body, kw_only=True):
    """The school's responders as a body: the whole list, replacing the one stored."""


class AssistPage(Value):
    items: list[Assist]
    next_cursor: str | None


@post("/{school_id:uuid}/assists", summary="Ask the school's responders for help",
      responses=problem_specs(400, 401, 404, 422))
async def request_assist(uow: Work, caller: CallerOf, now: Now, request: Request,
                         school_id: FromPath[uuid.UUID], data: JSONBody[AssistIn],
                         idempotency_key: IdempotencyKey = None) -> Response[Assist]:
    """Any member; responders are alerted on push and SMS at once, the asker is not."""
    caller.role_at(school_id)  # a retry is answered only while its caller is still a member
    return await idempotently(request, uow, caller, now, idempotency_key, 201,
                              lambda: assists.request_assist(uow, caller, school_id, data, now))


@get("/{school_id:uuid}/assists", summary="A school's requests for help, newest first",
     responses=problem_specs(400, 401, 404))
async def list_assists(conn: Conn, caller: CallerOf, school_id: FromPath[uuid.UUID],
                       open: FromQuery[bool | None] = None, limit: Limit = 50,
                       cursor: Cursor = None) -> AssistPage:
    """`open=true`: those not yet resolved; `open=false`: those resolved."""
    caller.role_at(school_id)
    after = decode_cursor(cursor, ByTime)
    rows = await db.list_assists(conn, school_id, open, after, limit + 1)
    items, next_cursor = paginate(rows, limit, lambda a: (a.requested_at, a.id))
    return AssistPage(items, next_cursor)


@get("/{school_id:uuid}/responders", summary="Who the school's requests for help reach",
     responses=problem_specs(400, 401, 404))
async def get_responders(conn: Conn, caller: CallerOf,
                         school_id: FromPath[uuid.UUID]) -> Responders:
    return await assists.responders(conn, caller, school_id)


@put("/{school_id:uuid}/responders", summary="Choose who the school's requests for help reach",
     responses=problem_specs(400, 401, 403, 404))
async def set_responders(uow: Work, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                         data: JSONBody[RespondersIn]) -> Responders:
    """By role and by name (the nurse); a named person must be a member of the school."""
    return await assists.set_responders(uow, caller, school_id, data, now)


router = Router("/", route_handlers=[request_assist, list_assists, get_responders,
                                     set_responders], tags=["assists"])
