"""A district admin adds a school to the district (described as in
api/routes/schools/admin.py, with its audit entry)."""

from __future__ import annotations

import uuid

from litestar import Router, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from api.http.deps import CallerOf, Conn, Now
from api.http.problems import problem_specs
from api.routes.schools.admin import SchoolIn, described, description, forget
from api.routes.schools.schools import SchoolOut, school_out
from db import audit
from db import schools as db
from db import staff as staff_db
from domain.admin import Actor, AdminChange, check_school_change
from domain.errors import NotFound
from domain.schools import School


@post("/{district_id:uuid}/schools", summary="Add a school to the district",
      responses=problem_specs(400, 401, 403, 404))
async def create_school(conn: Conn, caller: CallerOf, now: Now, state: State,
                        district_id: FromPath[uuid.UUID], data: JSONBody[SchoolIn]) -> SchoolOut:
    async with conn.transaction():
        role = await staff_db.district_role(conn, caller.user_id, district_id, now)
        if role is None:
            raise NotFound(f"no district {district_id}")
        check_school_change(role)
        blank = School(id=uuid.uuid4(), district_id=district_id, name="", timezone="",
                       state="", school_year_start_month=8, school_year_start_day=1)
        school = described(blank, name=data.name, timezone=data.timezone,
                            state=data.state or await db.district_state(conn, district_id),
                            school_year_start=data.school_year_start)
        await db.insert_school(conn, school)
        await audit.record(conn, school, Actor(user_id=caller.user_id, role=role),
                           AdminChange.SCHOOL_CREATED, description(school), now)
    forget(state, [caller.user_id])  # so that their next request reaches the new school
    return school_out(school, role)


router = Router("/", route_handlers=[create_school], tags=["administration"])
