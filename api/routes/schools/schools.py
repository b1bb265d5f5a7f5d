"""Schools and rooms the caller belongs to."""

from __future__ import annotations

import uuid

from litestar import Router, get
from litestar.params import FromPath

from api.http.deps import CallerOf, Conn, Now
from api.http.pagination import ByName, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.usecases.schools import year_start
from db import audience
from db import events as events_db
from db import schools as db
from domain.errors import NotFound
from domain.policy import Permission
from domain.readiness import Unreachable, unreachable
from domain.roles import Role
from domain.schools import Room, School
from domain.values import Value


class SchoolOut(Value, kw_only=True):
    id: uuid.UUID
    name: str
    district_id: uuid.UUID
    timezone: str
    state: str
    school_year_start: str  # "MM-DD", the first day of the school year
    role: Role  # the caller's role here
    address: str | None = None  # where it is, for anyone coming


class SchoolPage(Value):
    items: list[SchoolOut]
    next_cursor: str | None


class RoomPage(Value):
    items: list[Room]
    next_cursor: str | None


def school_out(school: School, role: Role) -> SchoolOut:
    """The school as its members see it; `role` is the caller's there."""
    return SchoolOut(id=school.id, name=school.name, district_id=school.district_id,
                     timezone=school.timezone, state=school.state,
                     school_year_start=year_start(school), role=role,
                     address=school.address)


@get("/", summary="Schools the caller belongs to", responses=problem_specs(400, 401))
async def list_schools(conn: Conn, caller: CallerOf, limit: Limit = 50,
                       cursor: Cursor = None) -> SchoolPage:
    rows = await db.list_schools(conn, caller.roles, decode_cursor(cursor, ByName), limit + 1)
    items, next_cursor = paginate(rows, limit, lambda s: (s.name, s.id))
    return SchoolPage([school_out(s, caller.role_at(s.id)) for s in items], next_cursor)


@get("/{school_id:uuid}", summary="One school", responses=problem_specs(400, 401, 404))
async def get_school(conn: Conn, caller: CallerOf, school_id: FromPath[uuid.UUID]) -> SchoolOut:
    role = caller.role_at(school_id)
    school = await db.get_school(conn, school_id)
    if school is None:
        raise NotFound(f"no school {school_id}")
    return school_out(school, role)


@get("/{school_id:uuid}/rooms", summary="A school's rooms, by code",
     responses=problem_specs(400, 401, 404))
async def list_rooms(conn: Conn, caller: CallerOf, school_id: FromPath[uuid.UUID],
                     limit: Limit = 50, cursor: Cursor = None) -> RoomPage:
    caller.role_at(school_id)
    rows = await db.list_rooms(conn, school_id, decode_cursor(cursor, ByName), limit + 1)
    items, next_cursor = paginate(rows, limit, lambda r: (r.code, r.id))
    return RoomPage(items, next_cursor)


class Readiness(Value, kw_only=True):
    """Members an alert would not fully reach today, and why."""

    members_total: int
    unreachable: list[Unreachable]


@get("/{school_id:uuid}/readiness", summary="Staff an alert would not reach, and why",
     responses=problem_specs(400, 401, 403, 404))
async def readiness(conn: Conn, caller: CallerOf, now: Now,
                    school_id: FromPath[uuid.UUID]) -> Readiness:
    role = caller.role_at(school_id)
    (await events_db.load_school_policy(conn, school_id)).require(role, Permission.READ_REPORTS)
    members = await audience.member_reach(conn, school_id, now)
    return Readiness(members_total=len(members), unreachable=unreachable(members))


router = Router("/", route_handlers=[list_schools, get_school, list_rooms, readiness],
                tags=["schools"])
