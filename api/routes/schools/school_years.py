"""A school's dates for a school year over HTTP, and who may see which schools' years:
the drill logs and compliance (api/routes/schools/ and api/routes/districts/) build on
both.

School routes need READ_REPORTS at the school (setting its dates, SET_SCHOOL_YEAR);
district routes need a district_admin membership of that district. Another tenant's
school or district is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Router, get, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.http.deps import CallerOf, Conn, Now
from api.http.problems import problem_specs
from api.usecases.callers import Caller
from db import compliance as db
from db import events as events_db
from db.compliance import LogWindow, SchoolWithYear
from domain import calendar
from domain.calendar import GradeBand, SchoolYear, Source, default_year, year_label
from domain.errors import Forbidden, Invalid, NotFound
from domain.policy import Permission
from domain.roles import Role

SchoolYearQuery = Annotated[str | None, QueryParameter(
    description="Required: the school year, two consecutive years, e.g. 2026-2027.",
    max_length=20)]


def school_year_asked(text: str | None) -> int:
    """The required ?school_year= of a request, as its first calendar year."""
    if text is None:
        raise Invalid("school_year is required, e.g. ?school_year=2026-2027", field="school_year")
    return calendar.parse_school_year(text)


# ---------------------------------------------------------------- who may see what

async def school_in_year(conn: Conn, caller: Caller, school_id: uuid.UUID, start_year: int,
                         permission: Permission, now: datetime) -> SchoolWithYear:
    """The school and its dates for the year, if the caller may do `permission` there."""
    role = caller.role_at(school_id)
    (await events_db.load_school_policy(conn, school_id)).require(role, permission)
    found = await db.school_with_year(conn, school_id, start_year, now)
    if found is None:
        raise NotFound(f"no school {school_id}")
    return found


async def require_district_admin(conn: Conn, caller: Caller, district_id: uuid.UUID,
                                 now: datetime, doing: str) -> None:
    """Refuse anyone but a district admin of this district (404 for an outsider)."""
    roles = await db.district_roles(conn, caller.user_id, district_id, now)
    if not roles:
        raise NotFound(f"no district {district_id}")
    if Role.DISTRICT_ADMIN not in roles:
        raise Forbidden(f"only a district admin of this district may {doing}")


async def district_schools_in_year(conn: Conn, caller: Caller, district_id: uuid.UUID,
                                   start_year: int, now: datetime,
                                   doing: str) -> list[SchoolWithYear]:
    """A district admin's schools of the district, with their dates for the year."""
    await require_district_admin(conn, caller, district_id, now, doing)
    return await db.district_schools_with_year(conn, district_id, start_year, now)


def years_of(found: SchoolWithYear, start_year: int) -> tuple[SchoolYear, SchoolYear]:
    """The school's dates for the year (its own, else the default) and the default."""
    s = found.school
    default = default_year(start_year, s.school_year_start_month, s.school_year_start_day)
    return found.own or default, default


def log_windows(found: list[SchoolWithYear], start_year: int) -> list[LogWindow]:
    """The days whose events are in each school's log of the year."""
    return [LogWindow(f.school.id, *calendar.log_window(*years_of(f, start_year)))
            for f in found]


# ---------------------------------------------------------------- school years

class SchoolYearOut(msgspec.Struct, frozen=True, kw_only=True):
    """A school's dates for a school year; `source` is `default` when the school set none
    (from its school_year_start to the day before the next, semester 2 halfway)."""

    school_id: uuid.UUID
    school_year: str
    first_day: date
    last_day: date
    second_semester_start: date
    grade_band: GradeBand | None
    source: Source


class SchoolYearIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A school's own dates; a date left out keeps the default (semester 2 halfway)."""

    first_day: date | None = None
    last_day: date | None = None
    second_semester_start: date | None = None
    grade_band: GradeBand | None = None


def year_out(school_id: uuid.UUID, year: SchoolYear) -> SchoolYearOut:
    return SchoolYearOut(school_id=school_id, school_year=year_label(year.start_year),
                         first_day=year.first_day, last_day=year.last_day,
                         second_semester_start=year.second_semester_start,
                         grade_band=year.grade_band, source=year.source)


@get("/{school_id:uuid}/school-years/{school_year:str}",
     summary="A school's dates for a school year (its own or the default)",
     responses=problem_specs(400, 401, 403, 404))
async def get_school_year(conn: Conn, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                          school_year: FromPath[str]) -> SchoolYearOut:
    start = calendar.parse_school_year(school_year)
    found = await school_in_year(conn, caller, school_id, start, Permission.READ_REPORTS, now)
    return year_out(school_id, years_of(found, start)[0])


@put("/{school_id:uuid}/school-years/{school_year:str}",
     summary="Set a school's dates for a school year",
     description="First and last day, the second semester's first day and the grade band "
                 "(for rules such as California's); what is left out keeps the default.",
     responses=problem_specs(400, 401, 403, 404))
async def set_school_year(conn: Conn, caller: CallerOf, now: Now,
                          school_id: FromPath[uuid.UUID], school_year: FromPath[str],
                          data: JSONBody[SchoolYearIn]) -> SchoolYearOut:
    start = calendar.parse_school_year(school_year)
    found = await school_in_year(conn, caller, school_id, start, Permission.SET_SCHOOL_YEAR,
                                 now)
    year = calendar.school_year(years_of(found, start)[1], **msgspec.structs.asdict(data))
    await db.save_school_year(conn, school_id, year, caller.user_id, now)
    return year_out(school_id, year)


router = Router("/", route_handlers=[get_school_year, set_school_year], tags=["compliance"])
