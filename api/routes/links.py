"""A person's link to an event (/v1/links/{token}): the JSON behind the page an alert's
SMS and push open. The token in the path is the credential (no sign-in); it reaches its
one event, for its one person (api/usecases/links.py)."""

from __future__ import annotations

import uuid

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from api.http.deps import Now, Work
from api.http.problems import problem_specs
from api.routes.events.checkins import CheckInIn
from api.routes.events.roll_call import Words
from api.usecases import links
from api.usecases.links import Door, LinkPage
from api.usecases.roll_call import RoomStudents
from db.students import FoundStudent
from domain.checkins import CheckIn


def _door(state: State) -> Door:
    return Door(state.pool, state.events, state.callers, state.students)


@get("/{token:str}", summary="The event a link is for, its rooms, the person's reports",
     responses=problem_specs(400, 404, 410))
async def link_page(state: State, now: Now, token: FromPath[str]) -> LinkPage:
    """Reading it changes nothing (an SMS app's link preview fetches it): the page
    acknowledges with POST .../ack once it is open on the phone."""
    return await links.page(_door(state), token, now)


@post("/{token:str}/ack", status_code=204, summary="I received the alert (once)",
      responses=problem_specs(400, 404, 410))
async def acknowledge(state: State, uow: Work, now: Now, token: FromPath[str]) -> None:
    await links.acknowledge(_door(state), uow, token, now)


@post("/{token:str}/checkins",
      summary="Check in a room by link (201 new, 200 replayed client_id)",
      responses={200: ResponseSpec(CheckIn, description="The same client_id was stored "
                                   "before: nothing changed; the stored check-in",
                                   generate_examples=False),
                 **problem_specs(400, 404, 409, 410)}, status_code=201)
async def check_in(request: Request, state: State, token: FromPath[str],
                   data: JSONBody[CheckInIn]) -> Response[CheckIn]:
    """As POST /v1/events/{id}/checkins, and as light: no dependency injection."""
    now = state.clock()
    checkin, new = await links.check_in(_door(state), state.checkins, token, data, now)
    return Response(checkin, status_code=201 if new else 200)


@get("/{token:str}/rooms/{room_id:uuid}/students",
     summary="A room's expected students at the event's start, with their status",
     responses=problem_specs(400, 404, 410))
async def room_students(state: State, now: Now, token: FromPath[str],
                        room_id: FromPath[uuid.UUID]) -> RoomStudents:
    return await links.room_students(_door(state), token, room_id, now)


@get("/{token:str}/students", summary="The school's students by name (at most 20)",
     responses=problem_specs(400, 404, 410))
async def find_students(state: State, now: Now, token: FromPath[str],
                        q: Words) -> list[FoundStudent]:
    return await links.find_students(_door(state), token, q, now)


router = Router("/v1/links", route_handlers=[link_page, acknowledge, check_in, room_students,
                                             find_students],
                tags=["links"])
