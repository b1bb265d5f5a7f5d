"""Room check-ins: one room, one report; the newest observation wins."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Response, Router, get, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from msgspec.structs import replace

from api.http.deps import SignedIn, caller_and_now
from api.http.problems import problem_specs
from api.http.text import Instant, Text200, Text1000
from api.usecases.access import read_event_as
from api.usecases.accountability import AccountabilityOut, accountability_of
from api.usecases.drill_record import keep_record
from db import checkins as db
from db.events import load_event
from domain.checkins import CheckIn, CheckInStatus, observed_time, too_late
from domain.errors import Invalid
from domain.policy import Permission

Count = Annotated[int, msgspec.Meta(ge=0, le=10000)]


class CheckInIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A room's report. `client_id` is minted by the phone once per report, so a retry
    of the same report is recognised; `observed_at` is the phone's clock."""

    client_id: uuid.UUID
    room_id: uuid.UUID
    status: CheckInStatus
    students_present: Count
    students_missing: Count = 0
    students_extra: Count = 0
    injured: Count = 0
    location: Text200 | None = None
    note: Text1000 | None = None
    observed_at: Instant | None = None


@post("/{event_id:uuid}/checkins", summary="Check in a room (201 new, 200 replayed client_id)",
      responses={200: ResponseSpec(CheckIn, description="The same client_id was stored "
                                   "before: nothing changed; the stored check-in",
                                   generate_examples=False),
                 **problem_specs(400, 401, 403, 404, 409)}, status_code=201)
async def check_in(request: SignedIn, state: State, event_id: FromPath[uuid.UUID],
                   data: JSONBody[CheckInIn]) -> Response[CheckIn]:
    """Takes no pooled connection in a storm: the event is this process's recent copy,
    and the report waits for its batch (db/checkin_writer.py) without one."""
    caller, now = caller_and_now(request)
    ctx, role = await read_event_as(state.events, state.pool, caller, event_id, now)
    ctx.policy.require(role, Permission.CHECK_IN)
    observed, flagged = observed_time(data.observed_at, now, ctx.event.started_at)
    fields = msgspec.structs.asdict(data) | {"observed_at": observed}
    checkin = CheckIn(id=uuid.uuid4(), event_id=event_id, received_at=now,
                      clock_skew_flagged=flagged, reported_by=caller.user_id, **fields)
    # the report's statement decides, under the event's lock: this process's copy of the
    # event may be a second old
    match await state.checkins.write(checkin, ctx.event.school_id):
        case db.Replayed(earlier):  # a phone retrying: the report it sent, even after the end
            return Response(earlier, status_code=200)
        case db.TooLate(status, ended_at):
            state.events.forget(event_id)
            raise too_late(replace(ctx.event, status=status, ended_at=ended_at), observed)
        case db.ForeignRoom(room_id):
            raise Invalid(f"room {room_id} is not a room of this event's school",
                          field="room_id")
        case db.Stored(late=True):  # a late report changes the record
            state.events.forget(event_id)
            async with state.pool.acquire() as conn:
                await keep_record(conn, (await load_event(conn, event_id)).event, now)
    return Response(checkin, status_code=201)


@get("/{event_id:uuid}/accountability", summary="Rooms reported, needing help, unreported",
     responses=problem_specs(400, 401, 403, 404))
async def accountability(request: SignedIn, state: State,
                         event_id: FromPath[uuid.UUID]) -> AccountabilityOut:
    """Dashboards poll this all through a storm: the event is this process's recent copy."""
    caller, now = caller_and_now(request)
    ctx, role = await read_event_as(state.events, state.pool, caller, event_id, now)
    async with state.pool.acquire() as conn:
        return await accountability_of(conn, ctx, role)


router = Router("/", route_handlers=[check_in, accountability], tags=["check-ins"])
