"""A school's students as its staff read them, its bell schedule, who is expected where
at a moment, and the erasure of its student data by its district (the work:
api/usecases/students.py and api/usecases/bell_schedules.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Router, delete, get, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.http.body import Body
from api.http.deps import CallerOf, Conn, Now, Work
from api.http.pagination import ByFamilyName, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.http.text import QueryInstant, Text200, instant_from_query
from api.usecases import bell_schedules, students
from api.usecases.students import Expected, StudentRecord
from db.erasure import Erased
from db.students import StudentFilter, StudentItem
from domain.schedule import BellSchedule
from domain.text import NO_NUL
from domain.values import Value

Search = Annotated[str | None, QueryParameter(
    min_length=1, max_length=100, pattern=NO_NUL,
    description="A piece of the student's name, case aside: 'ali', 'smith, al'.")]
Grade = Annotated[str | None, QueryParameter(min_length=1, max_length=20, pattern=NO_NUL)]
HomeroomQuery = Annotated[uuid.UUID | None, QueryParameter(
    description="Only the students of this homeroom (a room's id).")]
RoomQuery = Annotated[uuid.UUID | None, QueryParameter(
    description="Only this room's expected students (a room's id).")]
InactiveQuery = Annotated[bool, QueryParameter(
    description="Students who left too (default: only active ones).")]


class StudentPage(Value):
    items: list[StudentItem]
    next_cursor: str | None


class EraseIn(Body):
    """The school's name, typed, to confirm (case and spacing aside)."""

    confirm: Text200


@get("/{school_id:uuid}/students", summary="The school's students, by family name",
     responses=problem_specs(400, 401, 403, 404))
async def list_students(conn: Conn, caller: CallerOf, school_id: FromPath[uuid.UUID],
                        q: Search = None, grade: Grade = None, room_id: HomeroomQuery = None,
                        include_inactive: InactiveQuery = False, limit: Limit = 50,
                        cursor: Cursor = None) -> StudentPage:
    """Never their guardians: those are on one student's record."""
    which = StudentFilter(q=q, grade=grade, room_id=room_id, include_inactive=include_inactive)
    rows = await students.list_students(conn, caller, school_id, which,
                                        decode_cursor(cursor, ByFamilyName), limit + 1)
    items, next_cursor = paginate(rows, limit, lambda s: (s.family_name, s.given_name, s.id))
    return StudentPage(items, next_cursor)


@get("/{school_id:uuid}/students/expected", summary="Who is expected in which room at a time",
     responses=problem_specs(400, 401, 403, 404))
async def expected_students(conn: Conn, caller: CallerOf, now: Now,
                            school_id: FromPath[uuid.UUID], at: QueryInstant = None,
                            room_id: RoomQuery = None) -> Expected:
    """At `at` (default now): the bell schedule's period then, in the school's time zone,
    and each active student in the room of their class meeting in it; `period` null (no
    schedule, no day type that day, before the first period or after the last): in their
    homeroom."""
    when = instant_from_query(at, "at") or now
    return await students.expected(conn, caller, school_id, when, room_id)


@get("/{school_id:uuid}/students/{student_id:uuid}",
     summary="A student, their classes, guardians and restrictions",
     responses=problem_specs(400, 401, 403, 404))
async def get_student(uow: Work, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                      student_id: FromPath[uuid.UUID]) -> StudentRecord:
    """Guardians (with their phones) and restrictions are shown to those who release
    students or load the roster, and each such read is on the audit trail
    (`student_read`)."""
    return await students.read_student(uow, caller, school_id, student_id, now)


@delete("/{school_id:uuid}/students", status_code=200,
        summary="Erase the school's student data (district admins)",
        responses=problem_specs(400, 401, 403, 404))
async def erase_students(uow: Work, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                         data: JSONBody[EraseIn]) -> Erased:
    """Guardians, restrictions, classes, enrollments and the bell schedule are deleted;
    students keep their ids (past reports and releases still count them) but are named
    "Erased"; the adults of reunifications too. All or nothing, audited
    (`roster_erased`)."""
    return await students.erase_roster(uow, caller, school_id, data.confirm, now)


@get("/{school_id:uuid}/bell-schedule", summary="The school's bell schedule",
     responses=problem_specs(400, 401, 403, 404))
async def get_bell_schedule(conn: Conn, caller: CallerOf,
                            school_id: FromPath[uuid.UUID]) -> BellSchedule:
    """No day types: the school has none, and students are expected in their homeroom."""
    return await bell_schedules.read_bell_schedule(conn, caller, school_id)


@put("/{school_id:uuid}/bell-schedule", summary="Replace the school's bell schedule",
     responses=problem_specs(400, 401, 403, 404))
async def put_bell_schedule(uow: Work, caller: CallerOf, now: Now,
                            school_id: FromPath[uuid.UUID],
                            data: JSONBody[BellSchedule]) -> BellSchedule:
    """Replaced whole. Refused (400, naming the field) when it contradicts itself: two
    day types on one weekday or date, a period named twice in a day type, a period that
    ends before it starts, periods that overlap."""
    return await bell_schedules.save_bell_schedule(uow, caller, school_id, data, now)


router = Router("/", route_handlers=[list_students, expected_students, get_student,
                                     erase_students, get_bell_schedule, put_bell_schedule],
                tags=["students"])
