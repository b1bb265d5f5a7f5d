"""Describing schools: a district admin adds one to the district or changes its name,
time zone, state, school year or address; and the school an administrator acts on, which the
rooms and staff use cases share.

Every change is written with its audit entry in one transaction, under a lock on the
school's row, so two administrators' changes to one school take turns.
"""

from __future__ import annotations

import functools
import uuid
import zoneinfo
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from api.usecases.callers import Caller
from api.usecases.unit_of_work import UnitOfWork
from db import audit
from db import events as events_db
from db import schools as db
from db import staff as staff_db
from domain.admin import OPERATOR, Actor, AdminChange, check_school_change
from domain.admin import school_year_start as parse_school_year_start
from domain.errors import Invalid, NotFound
from domain.policy import Permission
from domain.roles import Role
from domain.schools import School


async def school_as(conn: asyncpg.Connection, caller: Caller | None, school_id: uuid.UUID,
                    permission: Permission | None, *,
                    lock: bool = False) -> tuple[School, Actor]:
    """The school (locked for a change) and the caller acting on it: 404 outside their
    reach, 403 without `permission` there. No caller is an operator at the command line
    (`muster import`), with a district admin's powers."""
    if caller is None:
        return await _school(conn, school_id, lock), OPERATOR
    role = caller.role_at(school_id)
    school = await _school(conn, school_id, lock)
    if permission is not None:
        (await events_db.load_school_policy(conn, school_id)).require(role, permission)
    return school, Actor(user_id=caller.user_id, role=role)


async def _school(conn: asyncpg.Connection, school_id: uuid.UUID, lock: bool) -> School:
    school = await db.get_school(conn, school_id, lock=lock)
    if school is None:
        raise NotFound(f"no school {school_id}")
    return school


def year_start(school: School) -> str:
    """The first day of the school's year, "MM-DD"."""
    return f"{school.school_year_start_month:02d}-{school.school_year_start_day:02d}"


async def add_school(uow: UnitOfWork, caller: Caller, district_id: uuid.UUID, *, name: str,
                     timezone: str, state: str | None, school_year_start: str,
                     address: str | None, now: datetime) -> tuple[School, Role]:
    """A new school of the district (`state` left out: the district's), and the caller's
    role there. They reach it from their next request on."""
    async with uow:
        role = await staff_db.district_role(uow.conn, caller.user_id, district_id, now)
        if role is None:
            raise NotFound(f"no district {district_id}")
        check_school_change(role)
        blank = School(id=uuid.uuid4(), district_id=district_id, name="", timezone="",
                       state="", school_year_start_month=8, school_year_start_day=1)
        school = _described(blank, name=name, timezone=timezone,
                            state=state or await db.district_state(uow.conn, district_id),
                            school_year_start=school_year_start, address=address)
        await db.insert_school(uow.conn, school)
        await audit.record(uow.conn, school, Actor(user_id=caller.user_id, role=role),
                           AdminChange.SCHOOL_CREATED, _description(school), now)
        uow.forget_callers([caller.user_id])
    return school, role


async def change_school(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                        wanted: dict[str, str], now: datetime) -> tuple[School, Role]:
    """The school described anew by `wanted` (name, timezone, state, school_year_start,
    address; what is left out keeps its value), and the caller's role there; audited if it
    changed anything."""
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, None, lock=True)
        check_school_change(actor.role)
        was = _description(school)
        changed = _described(school, **(was | wanted))
        changes = {k: [was[k], v] for k, v in _description(changed).items() if v != was[k]}
        if changes:
            await db.update_school(uow.conn, changed)
            await audit.record(uow.conn, changed, actor, AdminChange.SCHOOL_UPDATED, changes,
                               now)
    return changed, actor.role


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"})


def _checked_zone(name: str) -> str:
    if name not in _zones():
        raise Invalid(f"{name!r} is not a time zone name, e.g. America/Chicago",
                      field="timezone")
    return name


def _described(school: School, *, name: str, timezone: str, state: str,
               school_year_start: str, address: str | None) -> School:
    month, day = parse_school_year_start(school_year_start)
    return msgspec.structs.replace(school, name=name, timezone=_checked_zone(timezone),
                                   state=state, school_year_start_month=month,
                                   school_year_start_day=day, address=address)


def _description(school: School) -> dict[str, Any]:
    return {"name": school.name, "timezone": school.timezone, "state": school.state,
            "school_year_start": year_start(school), "address": school.address}
