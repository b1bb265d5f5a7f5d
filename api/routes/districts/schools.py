"""A district admin adds a school to the district (described as in
api/routes/schools/admin.py, with its audit entry: api/usecases/schools.py)."""

from __future__ import annotations

import uuid

from litestar import Router, post
from litestar.params import FromPath, JSONBody

from api.http.deps import CallerOf, Now, Work
from api.http.problems import problem_specs
from api.routes.schools.admin import SchoolIn
from api.routes.schools.schools import SchoolOut, school_out
from api.usecases import schools


@post("/{district_id:uuid}/schools", summary="Add a school to the district",
      responses=problem_specs(400, 401, 403, 404))
async def create_school(uow: Work, caller: CallerOf, now: Now,
                        district_id: FromPath[uuid.UUID], data: JSONBody[SchoolIn]) -> SchoolOut:
    school, role = await schools.add_school(
        uow, caller, district_id, name=data.name, timezone=data.timezone, state=data.state,
        school_year_start=data.school_year_start, address=data.address, now=now)
    return school_out(school, role)


router = Router("/", route_handlers=[create_school], tags=["administration"])
