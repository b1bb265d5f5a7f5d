"""A school's dates for a school year over HTTP, and the ?school_year= the drill logs
and compliance (api/routes/schools/ and api/routes/districts/) are asked for. Who may
see and set which schools' years: api/usecases/school_years.py.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import msgspec
from litestar import Router, get, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.http.body import Body
from api.http.deps import CallerOf, Conn, Now, Work
from api.http.problems import problem_specs
from api.usecases import school_years
from api.usecases.school_years import school_in_year, years_of
from domain import calendar
from domain.calendar import GradeBand, SchoolYear, Source, year_label
from domain.errors import Invalid
from domain.policy import Permission
from domain.values import Value

SchoolYearQuery = Annotated[str | None, QueryParameter(
    description="Required: the school year, two consecutive years, e.g. 2026-2027.",
    max_length=20)]


def school_year_asked(text: str | None) -> int:
    """The required ?school_year= of a request, as its first calendar year."""
    if text is None:
        raise Invalid("school_year is required, e.g. ?school_year=2026-2027", field="school_year")
    return calendar.parse_school_year(text)


# ---------------------------------------------------------------- school years

class SchoolYearOut(Value, kw_only=True):
    """A school's dates for a school year; `source` is `default` when the school set none
    (from its school_year_start to the day before the next, semester 2 halfway)."""

    school_id: uuid.UUID
    school_year: str
    first_day: date
    last_day: date
    second_semester_start: date
    grade_band: GradeBand | None
    source: Source


class SchoolYearIn(Body, kw_only=True):
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
async def set_school_year(uow: Work, caller: CallerOf, now: Now,
                          school_id: FromPath[uuid.UUID], school_year: FromPath[str],
                          data: JSONBody[SchoolYearIn]) -> SchoolYearOut:
    start = calendar.parse_school_year(school_year)
    year = await school_years.set_school_year(uow, caller, school_id, start, now,
                                              **msgspec.structs.asdict(data))
    return year_out(school_id, year)


router = Router("/", route_handlers=[get_school_year, set_school_year], tags=["compliance"])
