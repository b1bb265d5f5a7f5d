"""Queries about a school's students: who is expected in which room at a period."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import msgspec

from db.pool import Connection
from domain.values import Value


class ExpectedStudent(Value, kw_only=True):
    """An active student and the room they are expected in (None: no class meeting in a
    room at that period and no homeroom)."""

    id: uuid.UUID
    given_name: str
    family_name: str
    grade: str | None
    room_id: uuid.UUID | None


# The room each active student of school $1 is expected in at period $2
# (domain/schedule.py): the room of their class meeting in it, the first by the class's
# source id when two are (co-taught sections), else their homeroom; no period: their
# homeroom. Set-based (the period's classes joined once to their enrollments), not a probe
# of the classes per student: a 2,000-student school answers in milliseconds.
_EXPECTED_ROOMS = """
with in_class as (
    select distinct on (e.student_id) e.student_id, c.room_id
    from classes c join enrollments e on e.class_id = c.id
    where c.school_id = $1 and c.active and c.room_id is not null
      and $2::text = any(c.periods)
    order by e.student_id, c.source_id
)
select s.id, s.given_name, s.family_name, s.grade,
       coalesce(k.room_id, s.homeroom_id) as room_id
from students s left join in_class k on k.student_id = s.id
where s.school_id = $1 and s.active
"""

# expected_students -- each active student with their expected room at a period, by
# name; one room's, or every room's when $3 is null
_EXPECTED = f"""
select * from ({_EXPECTED_ROOMS}) expected
where $3::uuid is null or room_id = $3
order by family_name, given_name, id
"""


async def expected_students(conn: Connection, school_id: uuid.UUID, period: str | None,
                            room_id: uuid.UUID | None = None) -> list[ExpectedStudent]:
    rows = await conn.fetch(_EXPECTED, school_id, period, room_id)
    return [msgspec.convert(dict(r), ExpectedStudent) for r in rows]


# expected_rooms -- each active student's expected room at a period, unordered and
# unnamed: what accountability adds up (it names only the students it lists)
_ROOMS_ONLY = f"select id, room_id from ({_EXPECTED_ROOMS}) expected"


async def expected_rooms(conn: Connection, school_id: uuid.UUID,
                         period: str | None) -> dict[uuid.UUID, uuid.UUID | None]:
    return {r[0]: r[1] for r in await conn.fetch(_ROOMS_ONLY, school_id, period)}


# students_of_school -- which of these ids are the school's students (active or not: a
# report may name one who left since the roster was read)
_OF_SCHOOL = "select id from students where school_id = $1 and id = any($2::uuid[])"


async def students_of_school(conn: Connection, school_id: uuid.UUID,
                             ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    return {r["id"] for r in await conn.fetch(_OF_SCHOOL, school_id, list(ids))}


def _like(words: str) -> str:
    """A LIKE pattern finding `words` anywhere, taken literally (no wildcards of theirs)."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# search_students -- the school's active students whose name ("Given Family" or "Family,
# Given") has the words, or whose SIS id is them, by name; at most $3
_SEARCH = """
select id, given_name || ' ' || family_name as name, grade from students
where school_id = $1 and active
  and (given_name || ' ' || family_name ilike $2 or family_name || ', ' || given_name ilike $2
       or source_id = $4)
order by family_name, given_name, id
limit $3
"""


class FoundStudent(Value, kw_only=True):
    id: uuid.UUID
    name: str
    grade: str | None


# students_named -- these students of the school (active or not) by name ("Given Family"),
# in family-name order
_NAMED = """
select id, given_name || ' ' || family_name as name, grade from students
where school_id = $1 and id = any($2::uuid[])
order by family_name, given_name, id
"""


async def students_named(conn: Connection, school_id: uuid.UUID,
                         ids: Collection[uuid.UUID]) -> dict[uuid.UUID, FoundStudent]:
    rows = await conn.fetch(_NAMED, school_id, list(ids))
    return {r["id"]: FoundStudent(id=r["id"], name=r["name"], grade=r["grade"]) for r in rows}


async def search_students(conn: Connection, school_id: uuid.UUID, words: str,
                          most: int) -> list[FoundStudent]:
    words = " ".join(words.split())
    rows = await conn.fetch(_SEARCH, school_id, _like(words), most, words)
    return [FoundStudent(id=r["id"], name=r["name"], grade=r["grade"]) for r in rows]
