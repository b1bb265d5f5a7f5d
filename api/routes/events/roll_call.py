"""A room's roll call: its expected students with their status, and the school's students
by name (to add one from another room)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Router, get
from litestar.params import FromPath, QueryParameter

from api.http.deps import CallerOf, Conn
from api.http.problems import problem_specs
from api.usecases import roll_call
from api.usecases.roll_call import RoomStudents
from db.students import FoundStudent
from domain.text import NO_NUL

# What a search box sends: part of a name (or a student id), typed.
Words = Annotated[str, QueryParameter(min_length=1, max_length=100, pattern=NO_NUL,
                                      description="part of a student's name, or their id")]


@get("/{event_id:uuid}/rooms/{room_id:uuid}/students",
     summary="A room's expected students at the event's start, with their status",
     responses=problem_specs(400, 401, 403, 404))
async def room_students(conn: Conn, caller: CallerOf, event_id: FromPath[uuid.UUID],
                        room_id: FromPath[uuid.UUID]) -> RoomStudents:
    return await roll_call.room_students_as(conn, caller, event_id, room_id)


@get("/{event_id:uuid}/students", summary="The school's students by name (at most 20)",
     responses=problem_specs(400, 401, 403, 404))
async def find_students(conn: Conn, caller: CallerOf, event_id: FromPath[uuid.UUID],
                        q: Words) -> list[FoundStudent]:
    return await roll_call.find_students_as(conn, caller, event_id, q)


router = Router("/", route_handlers=[room_students, find_students], tags=["check-ins"])
