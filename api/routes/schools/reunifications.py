"""A school's reunifications: open one on its own (not after an event), list them."""

from __future__ import annotations

import uuid

from litestar import Router, get, post
from litestar.params import FromPath, JSONBody

from api.http.body import Body
from api.http.deps import CallerOf, Conn, Now, Work
from api.http.pagination import ByTime, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.usecases import reunification as usecase
from domain.reunification import Reunification
from domain.values import Value


class OpeningIn(usecase.Opening, Body, kw_only=True):
    """Where families go: the site, and its address."""


class ReunificationPage(Value):
    items: list[Reunification]
    next_cursor: str | None


@post("/{school_id:uuid}/reunifications", status_code=201,
      summary="Open a reunification on its own (texts the guardians)",
      responses=problem_specs(400, 401, 403, 404, 409))
async def open_reunification(uow: Work, caller: CallerOf, now: Now,
                             school_id: FromPath[uuid.UUID],
                             data: JSONBody[OpeningIn]) -> Reunification:
    """Safety leads; 409 while another is open at the school. Each guardian with a phone
    of the school's active students gets one SMS in their language: the school, the site,
    its address, bring photo ID; no student's name, no link."""
    return await usecase.open_for_school(uow, caller, school_id, data, now)


@get("/{school_id:uuid}/reunifications", summary="A school's reunifications, newest first",
     responses=problem_specs(400, 401, 404))
async def list_reunifications(conn: Conn, caller: CallerOf, school_id: FromPath[uuid.UUID],
                              limit: Limit = 50, cursor: Cursor = None) -> ReunificationPage:
    after = decode_cursor(cursor, ByTime)
    rows = await usecase.list_for_school(conn, caller, school_id, after, limit + 1)
    items, next_cursor = paginate(rows, limit, lambda r: (r.opened_at, r.id))
    return ReunificationPage(items, next_cursor)


router = Router("/", route_handlers=[open_reunification, list_reunifications],
                tags=["reunification"])
