"""Room check-ins: one room, one report; the newest observation wins."""

from __future__ import annotations

import uuid

from litestar import Response, Router, get, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from api.http.body import Body
from api.http.deps import SignedIn, caller_and_now
from api.http.problems import problem_specs
from api.usecases import checkins
from api.usecases.access import read_event_as
from api.usecases.accountability import AccountabilityOut, accountability_of
from domain.checkins import CheckIn, CheckInReport


class CheckInIn(CheckInReport, Body, kw_only=True):
    """The domain's report as a body (named as the OpenAPI document has always named it)."""


@post("/{event_id:uuid}/checkins", summary="Check in a room (201 new, 200 replayed client_id)",
      responses={200: ResponseSpec(CheckIn, description="The same client_id was stored "
                                   "before: nothing changed; the stored check-in",
                                   generate_examples=False),
                 **problem_specs(400, 401, 403, 404, 409)}, status_code=201)
async def check_in(request: SignedIn, state: State, event_id: FromPath[uuid.UUID],
                   data: JSONBody[CheckInIn]) -> Response[CheckIn]:
    """Takes no pooled connection in a storm (api/usecases/checkins.py)."""
    caller, now = caller_and_now(request)
    checkin, new = await checkins.check_in(state.events, state.pool, state.checkins,
                                           state.students, caller,
                                           event_id, data, now)
    return Response(checkin, status_code=201 if new else 200)


@get("/{event_id:uuid}/accountability", summary="Rooms reported, needing help, unreported",
     responses=problem_specs(400, 401, 403, 404))
async def accountability(request: SignedIn, state: State,
                         event_id: FromPath[uuid.UUID]) -> AccountabilityOut:
    """Dashboards poll this all through a storm: the event is this process's recent copy."""
    caller, now = caller_and_now(request)
    ctx, role = await read_event_as(state.events, state.pool, caller, event_id, now)
    async with state.pool.acquire() as conn:
        return await accountability_of(conn, ctx, role, now, state.expected)


router = Router("/", route_handlers=[check_in, accountability], tags=["check-ins"])
