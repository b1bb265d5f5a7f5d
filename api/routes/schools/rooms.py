"""A school's rooms, saved in bulk by code: as a JSON list or a CSV file (the work is
api/usecases/rooms.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Request, Router, post, put
from litestar.params import FromPath, JSONBody

from api.http.body import Body
from api.http.deps import CallerOf, Now, Work
from api.http.problems import problem_specs
from api.http.text import TRIMMED, Name
from api.routes.schools.admin import IMPORT_RESPONSES, ROW_PROBLEMS, csv_body, csv_upload
from api.usecases import rooms
from api.usecases.rooms import SavedRooms
from domain import roster
from domain.errors import Invalid
from domain.roster import RoomRow

MAX_ROOMS = 2000  # in one request


class RoomIn(Body, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=roster.CODE_MAX, pattern=TRIMMED)]
    name: Name
    building: Annotated[str, msgspec.Meta(min_length=1, max_length=roster.BUILDING_MAX,
                                          pattern=TRIMMED)] | None = None
    floor: Annotated[int, msgspec.Meta(ge=roster.FLOORS[0], le=roster.FLOORS[1])] | None = None
    capacity: Annotated[int, msgspec.Meta(ge=roster.CAPACITIES[0],
                                          le=roster.CAPACITIES[1])] | None = None


@put("/{school_id:uuid}/rooms", summary="Add or update rooms by code",
     responses=problem_specs(400, 401, 403, 404))
async def put_rooms(uow: Work, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                    data: JSONBody[list[RoomIn]]) -> SavedRooms:
    """Rooms not in the list are left as they are; none is ever deleted."""
    if not 1 <= len(data) <= MAX_ROOMS:
        raise Invalid(f"send 1 to {MAX_ROOMS} rooms, not {len(data)}", field="body")
    again = roster.repeats(r.code for r in data)
    if again:
        i, j = next(iter(again.items()))
        raise Invalid(f"{data[i].code} is also item {j}", field=f"[{i}].code")
    rows = [RoomRow(**msgspec.structs.asdict(r)) for r in data]
    return await rooms.save_rooms(uow, caller, school_id, rows, now)


@post("/{school_id:uuid}/rooms/import", status_code=200, summary="Import rooms from CSV",
      responses=IMPORT_RESPONSES, operation_class=csv_upload("code, name, building?, floor?, "
                                                             "capacity?"))
async def post_rooms_import(uow: Work, caller: CallerOf, now: Now, request: Request,
                            school_id: FromPath[uuid.UUID]) -> SavedRooms:
    """Every row is checked first; one bad row and nothing is imported (400, per row)."""
    body = await csv_body(request)
    return await rooms.import_rooms(uow, caller, school_id, body, now)


router = Router("/", route_handlers=[put_rooms, post_rooms_import],
                exception_handlers=ROW_PROBLEMS, tags=["administration"])
