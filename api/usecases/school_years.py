"""A school's dates for a school year, and who may see which schools' years: the drill
logs and compliance build on both.

School years need READ_REPORTS at the school (setting its dates, SET_SCHOOL_YEAR);
a district's need a district_admin membership of that district. Another tenant's
school or district is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg

from api.usecases.callers import Caller
from api.usecases.unit_of_work import UnitOfWork
from db import compliance as db
from db import events as events_db
from db.compliance import LogWindow, SchoolWithYear
from domain import calendar
from domain.calendar import GradeBand, SchoolYear, default_year
from domain.errors import Forbidden, NotFound
from domain.policy import Permission
from domain.roles import Role


async def school_in_year(conn: asyncpg.Connection, caller: Caller, school_id: uuid.UUID,
                         start_year: int, permission: Permission,
                         now: datetime) -> SchoolWithYear:
    """The school and its dates for the year, if the caller may do `permission` there."""
    role = caller.role_at(school_id)
    (await events_db.load_school_policy(conn, school_id)).require(role, permission)
    found = await db.school_with_year(conn, school_id, start_year, now)
    if found is None:
        raise NotFound(f"no school {school_id}")
    return found


async def require_district_admin(conn: asyncpg.Connection, caller: Caller,
                                 district_id: uuid.UUID, now: datetime, doing: str) -> None:
    """Refuse anyone but a district admin of this district (404 for an outsider)."""
    roles = await db.district_roles(conn, caller.user_id, district_id, now)
    if not roles:
        raise NotFound(f"no district {district_id}")
    if Role.DISTRICT_ADMIN not in roles:
        raise Forbidden(f"only a district admin of this district may {doing}")


async def district_schools_in_year(conn: asyncpg.Connection, caller: Caller,
                                   district_id: uuid.UUID, start_year: int, now: datetime,
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


async def set_school_year(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                          start_year: int, now: datetime, *, first_day: date | None,
                          last_day: date | None, second_semester_start: date | None,
                          grade_band: GradeBand | None) -> SchoolYear:
    """The school's own dates for the year, replacing any it had; a date left out keeps
    the default (semester 2 halfway)."""
    async with uow:
        found = await school_in_year(uow.conn, caller, school_id, start_year,
                                     Permission.SET_SCHOOL_YEAR, now)
        year = calendar.school_year(years_of(found, start_year)[1], first_day=first_day,
                                    last_day=last_day,
                                    second_semester_start=second_semester_start,
                                    grade_band=grade_band)
        await db.save_school_year(uow.conn, school_id, year, caller.user_id, now)
    return year
