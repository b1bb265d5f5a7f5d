"""A school's students as its staff read them: a page of them (never their guardians),
one student with their guardians, restrictions and classes, who is expected in which
room at a moment; and the erasure of all of it by the school's district.

Student data is the most sensitive thing Muster holds: only members of the student's
school (and its district's admins) reach it, another school's student is a 404 like
none, and every read of one student's guardians and restrictions is on the audit trail
(`student_read`, naming the student by id), in the transaction that read them.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime

import asyncpg
import msgspec

from api.usecases.callers import Caller
from api.usecases.expected import school_date, school_time
from api.usecases.schools import school_as
from api.usecases.unit_of_work import UnitOfWork
from db import audit, erasure
from db import events as events_db
from db import students as db
from db.erasure import Erased
from db.students import (
    ClassOut,
    ExpectedStudent,
    GuardianOut,
    RestrictionOut,
    StudentFilter,
    StudentItem,
)
from domain.admin import AdminChange
from domain.errors import NotFound
from domain.policy import Permission
from domain.students import check_erasure, sees_guardians
from domain.values import Value


class StudentRecord(StudentItem, kw_only=True):
    """One student; `guardians` and `restrictions` are null for a caller who may neither
    release students (REUNIFY) nor load the roster (MANAGE_ROSTER)."""

    classes: list[ClassOut]
    guardians: list[GuardianOut] | None
    restrictions: list[RestrictionOut] | None


class ExpectedRoom(Value, kw_only=True):
    """A room's expected students; `room_id` null: those expected in no room (their class
    meets nowhere then and they have no homeroom)."""

    room_id: uuid.UUID | None
    code: str | None
    students: list[ExpectedStudent]


class Expected(Value, kw_only=True):
    """Who is expected where at `at`: `period` is the bell schedule's then (null: none,
    so each student is expected in their homeroom)."""

    at: datetime
    period: str | None
    rooms: list[ExpectedRoom]


async def list_students(conn: asyncpg.Connection, caller: Caller, school_id: uuid.UUID,
                        which: StudentFilter, after: tuple[str, str, uuid.UUID] | None,
                        limit: int) -> list[StudentItem]:
    await school_as(conn, caller, school_id, Permission.READ_STUDENTS)
    return await db.list_students(conn, school_id, which, after, limit)


async def read_student(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                       student_id: uuid.UUID, now: datetime) -> StudentRecord:
    """The student with their classes today (the school's date at `now`: those they left,
    or that meet in another term, are not theirs now), and with their guardians and
    restrictions for those who see them, that read audited."""
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, Permission.READ_STUDENTS)
        student = await db.get_student(uow.conn, school_id, student_id)
        if student is None:
            raise NotFound(f"no student {student_id}")
        guardians = restrictions = None
        if sees_guardians(await events_db.load_school_policy(uow.conn, school_id), actor.role):
            guardians = await db.guardians_of(uow.conn, school_id, student_id)
            restrictions = await db.restrictions_of(uow.conn, school_id, student_id)
            await audit.record(uow.conn, school, actor, AdminChange.STUDENT_READ,
                               {"student_id": str(student_id)}, now)
        return StudentRecord(**msgspec.structs.asdict(student),
                             classes=await db.classes_of(uow.conn, school_id, student_id,
                                                         school_date(school.timezone, now)),
                             guardians=guardians, restrictions=restrictions)


async def expected(conn: asyncpg.Connection, caller: Caller, school_id: uuid.UUID,
                   at: datetime, room_id: uuid.UUID | None) -> Expected:
    """Each room's expected students at `at` by code (those expected nowhere last), or
    only `room_id`'s (listed even if nobody is expected there)."""
    school, _ = await school_as(conn, caller, school_id, Permission.READ_STUDENTS)
    codes = await db.room_codes(conn, school_id)
    if room_id is not None and room_id not in codes:
        raise NotFound(f"no room {room_id}")
    day, period = await school_time(conn, school_id, school.timezone, at)
    found = await db.expected_students(conn, school_id, period, day, room_id)
    # a stable sort: each room's students stay in the query's order, by name
    by_room = {room: list(students) for room, students in itertools.groupby(
        sorted(found, key=lambda s: _room_order(s.room_id, codes)), key=lambda s: s.room_id)}
    if room_id is not None:
        by_room.setdefault(room_id, [])
    return Expected(at=at, period=period, rooms=[
        ExpectedRoom(room_id=room, code=codes[room] if room else None, students=students)
        for room, students in by_room.items()])


def _room_order(room_id: uuid.UUID | None, codes: dict[uuid.UUID, str]) -> tuple[bool, str]:
    return room_id is None, codes.get(room_id, "") if room_id else ""


async def erase_roster(uow: UnitOfWork, caller: Caller | None, school_id: uuid.UUID,
                       confirm: str, now: datetime) -> Erased:
    """The school's student data erased (db/erasure.py) by a district admin who typed the
    school's name, or by an operator (`muster roster erase`); audited with its counts."""
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, None, lock=True)
        check_erasure(actor.role, school.name, confirm)
        erased = await erasure.erase_roster(uow.conn, school_id, now)
        await audit.record(uow.conn, school, actor, AdminChange.ROSTER_ERASED,
                           msgspec.to_builtins(erased), now)
    return erased
