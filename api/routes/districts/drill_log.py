"""The district's drill log: every school's, merged (district admins only)."""

from __future__ import annotations

import uuid

from litestar import Response, Router, get
from litestar.params import FromPath

from api.http.csv_download import JsonOrCsv
from api.http.deps import CallerOf, Conn, Now
from api.http.pagination import Cursor, Limit
from api.http.problems import problem_specs
from api.routes.schools.drill_log import LOG_SPEC, DrillLogPage, Format, LogFormat, log_response
from api.routes.schools.school_years import SchoolYearQuery, school_year_asked
from api.usecases.school_years import district_schools_in_year


@get("/{district_id:uuid}/drill-log",
     summary="Every school's drill log for a school year (district admins)",
     description="The drill logs of all the district's schools, merged oldest first.",
     responses={**LOG_SPEC, **problem_specs(400, 401, 403, 404)}, operation_class=JsonOrCsv)
async def district_drill_log(conn: Conn, caller: CallerOf, now: Now,
                             district_id: FromPath[uuid.UUID], school_year: SchoolYearQuery,
                             format: Format = LogFormat.JSON, limit: Limit = 50,
                             cursor: Cursor = None) -> Response[DrillLogPage]:
    start = school_year_asked(school_year)
    found = await district_schools_in_year(conn, caller, district_id, start, now,
                                           "see the district's drill log")
    return await log_response(conn, found, start, format, limit, cursor, str(district_id))


router = Router("/", route_handlers=[district_drill_log], tags=["compliance"])
