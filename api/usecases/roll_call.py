"""What a room's roll call needs on a teacher's phone: the students the room expects
(those it had when the event started: its class then, else its homeroom), each with
their status in the room's current report, and the school's students by name, to add one
from another room who is here (an extra)."""

from __future__ import annotations

import uuid

import asyncpg

from api.usecases.access import load_event_as
from api.usecases.callers import Caller
from api.usecases.expected import expected_in_event
from db import checkins
from db.pool import Connection
from db.students import FoundStudent, search_students, students_named
from domain.errors import NotFound
from domain.events import Event
from domain.policy import Permission
from domain.roll_call import student_states
from domain.students import SEEN, StudentStatus
from domain.values import Value

MOST_FOUND = 20  # students a search answers: a name is typed until the one wanted shows


class RoomStudent(Value, kw_only=True):
    """A student on a room's list: `expected` (else named by the room's report: an extra),
    `status` as the room's current report gives it (None: not named there), and
    `seen_in`, the code of another room that saw them (present, injured or extra there)."""

    student_id: uuid.UUID
    name: str
    grade: str | None
    expected: bool
    status: StudentStatus | None
    seen_in: str | None


class RoomStudents(Value, kw_only=True):
    """The room's list: its expected students by name, then the extras it named."""

    room_id: uuid.UUID
    code: str
    name: str
    students: list[RoomStudent]


async def room_students(conn: Connection, event: Event,
                        room_id: uuid.UUID) -> RoomStudents:
    """The room's list; another school's room (or none) is a 404 naming only the room."""
    rooms, latest = await checkins.rooms_with_reports(conn, event.id, event.school_id)
    room = next((r for r in rooms if r.id == room_id), None)
    if room is None:
        raise NotFound(f"no room {room_id}")
    expected = await expected_in_event(conn, event, room_id)
    own = {m.student_id: m.status for m in latest[room_id].students} if room_id in latest else {}
    states = student_states({s.id: s.room_id for s in expected}, latest.values())
    codes = {r.id: r.code for r in rooms}
    extras = [s for s in own if s not in {e.id for e in expected}]
    named = await students_named(conn, event.school_id, extras) if extras else {}
    listed = [FoundStudent(id=s.id, name=f"{s.given_name} {s.family_name}", grade=s.grade)
              for s in expected] + [named[s] for s in extras if s in named]
    expected_ids = {s.id for s in expected}

    def elsewhere(student_id: uuid.UUID) -> str | None:
        state = states.get(student_id)
        if state is None or state.status not in SEEN or state.room_id in (None, room_id):
            return None
        return codes.get(state.room_id)

    return RoomStudents(room_id=room.id, code=room.code, name=room.name, students=[
        RoomStudent(student_id=s.id, name=s.name, grade=s.grade, expected=s.id in expected_ids,
                    status=own.get(s.id), seen_in=elsewhere(s.id))
        for s in listed])


async def find_students(conn: Connection, event: Event,
                        words: str) -> list[FoundStudent]:
    """The event's school's active students whose name has `words`, by name; at most
    MOST_FOUND."""
    return await search_students(conn, event.school_id, words, MOST_FOUND)


async def room_students_as(conn: asyncpg.Connection, caller: Caller, event_id: uuid.UUID,
                           room_id: uuid.UUID) -> RoomStudents:
    """A room's list, for a member of the event's school who may read accountability."""
    ctx, role = await load_event_as(conn, caller, event_id)
    ctx.policy.require(role, Permission.READ_ACCOUNTABILITY)
    return await room_students(conn, ctx.event, room_id)


async def find_students_as(conn: asyncpg.Connection, caller: Caller, event_id: uuid.UUID,
                           words: str) -> list[FoundStudent]:
    """The event's school's students by name, for a member who may read its students."""
    ctx, role = await load_event_as(conn, caller, event_id)
    ctx.policy.require(role, Permission.READ_STUDENTS)
    return await find_students(conn, ctx.event, words)
