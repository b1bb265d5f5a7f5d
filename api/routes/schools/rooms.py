"""A school's rooms, saved in bulk by code: as a JSON list or a CSV file.

A room's code is how it is found again: a known code keeps its id (and so its
check-ins) and takes the new description; a new code is a new room. Rooms left out
are not touched, and no room is ever deleted here (past check-ins refer to them).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import asyncpg
import msgspec
from litestar import Request, Router, post, put
from litestar.params import FromPath, JSONBody

from api.http.deps import CallerOf, Conn, Now
from api.http.problems import problem_specs
from api.routes.schools.admin import (
    IMPORT_RESPONSES,
    ROW_PROBLEMS,
    TRIMMED,
    Name,
    csv_body,
    csv_upload,
    school_as,
)
from db import audit
from db import schools as db
from domain import roster
from domain.admin import Actor, AdminChange
from domain.errors import Invalid
from domain.policy import Permission
from domain.roster import RoomPlan, RoomRow
from domain.schools import Room, School

MAX_ROOMS = 2000  # in one request


class RoomIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=roster.CODE_MAX, pattern=TRIMMED)]
    name: Name
    building: Annotated[str, msgspec.Meta(min_length=1, max_length=roster.BUILDING_MAX,
                                          pattern=TRIMMED)] | None = None
    floor: Annotated[int, msgspec.Meta(ge=roster.FLOORS[0], le=roster.FLOORS[1])] | None = None
    capacity: Annotated[int, msgspec.Meta(ge=roster.CAPACITIES[0],
                                          le=roster.CAPACITIES[1])] | None = None


class SavedRooms(msgspec.Struct, frozen=True, kw_only=True):
    """The rooms as saved, in the order sent; how many were new, changed or as they were."""

    items: list[Room]
    created: int
    updated: int
    unchanged: int


async def save_rooms(conn: asyncpg.Connection, school: School, actor: Actor,
                     rows: list[RoomRow], kind: AdminChange, now: datetime) -> SavedRooms:
    """Upsert the rows by code and record it (inside the caller's transaction)."""
    existing = await db.rooms_by_code(conn, school.id, [r.code for r in rows])
    plan: RoomPlan = roster.plan_rooms(existing, rows, uuid.uuid4)
    await db.save_rooms(conn, school.id, plan.created, plan.updated)
    saved = SavedRooms(items=plan.rooms, created=len(plan.created), updated=len(plan.updated),
                       unchanged=len(rows) - len(plan.created) - len(plan.updated))
    counts = {"created": saved.created, "updated": saved.updated, "unchanged": saved.unchanged}
    await audit.record(conn, school, actor, kind, counts, now)
    return saved


async def import_rooms(conn: asyncpg.Connection, school: School, actor: Actor, body: bytes,
                       now: datetime) -> SavedRooms:
    """A rooms CSV file, all rows or none (`muster import rooms` too)."""
    rows = roster.room_rows(roster.decode(body))
    return await save_rooms(conn, school, actor, rows, AdminChange.ROOMS_IMPORTED, now)


@put("/{school_id:uuid}/rooms", summary="Add or update rooms by code",
     responses=problem_specs(400, 401, 403, 404))
async def put_rooms(conn: Conn, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                    data: JSONBody[list[RoomIn]]) -> SavedRooms:
    """Rooms not in the list are left as they are; none is ever deleted."""
    if not 1 <= len(data) <= MAX_ROOMS:
        raise Invalid(f"send 1 to {MAX_ROOMS} rooms, not {len(data)}", field="body")
    again = roster.repeats(r.code for r in data)
    if again:
        i, j = next(iter(again.items()))
        raise Invalid(f"{data[i].code} is also item {j}", field=f"[{i}].code")
    rows = [RoomRow(**msgspec.structs.asdict(r)) for r in data]
    async with conn.transaction():
        school, actor = await school_as(conn, caller, school_id, Permission.MANAGE_ROOMS,
                                        lock=True)
        return await save_rooms(conn, school, actor, rows, AdminChange.ROOMS_SAVED, now)


@post("/{school_id:uuid}/rooms/import", status_code=200, summary="Import rooms from CSV",
      responses=IMPORT_RESPONSES, operation_class=csv_upload("code, name, building?, floor?, "
                                                             "capacity?"))
async def post_rooms_import(conn: Conn, caller: CallerOf, now: Now, request: Request,
                            school_id: FromPath[uuid.UUID]) -> SavedRooms:
    """Every row is checked first; one bad row and nothing is imported (400, per row)."""
    body = await csv_body(request)
    async with conn.transaction():
        school, actor = await school_as(conn, caller, school_id, Permission.MANAGE_ROOMS,
                                        lock=True)
        return await import_rooms(conn, school, actor, body, now)


router = Router("/", route_handlers=[put_rooms, post_rooms_import],
                exception_handlers=ROW_PROBLEMS, tags=["administration"])
