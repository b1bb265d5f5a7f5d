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


# expected_students -- each active student of the school with their expected room at a
# period (domain/schedule.py): the room of their class meeting in it, the first by the
# class's source id when two are (co-taught sections), else their homeroom; no period:
# their homeroom. One room's, or every room's when $3 is null; by name.
_EXPECTED = """
select * from (
    select s.id, s.given_name, s.family_name, s.grade,
           coalesce((select c.room_id from enrollments e join classes c on c.id = e.class_id
                     where e.student_id = s.id and c.active and c.room_id is not null
                       and $2::text = any(c.periods)
                     order by c.source_id limit 1), s.homeroom_id) as room_id
    from students s
    where s.school_id = $1 and s.active
) expected
where $3::uuid is null or room_id = $3
order by family_name, given_name, id
"""


async def expected_students(conn: Connection, school_id: uuid.UUID, period: str | None,
                            room_id: uuid.UUID | None = None) -> list[ExpectedStudent]:
    rows = await conn.fetch(_EXPECTED, school_id, period, room_id)
    return [msgspec.convert(dict(r), ExpectedStudent) for r in rows]


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


# students_named -- these students of the school (active or not) by name ("Given Family")
_NAMED = """
select id, given_name || ' ' || family_name as name, grade from students
where school_id = $1 and id = any($2::uuid[])
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
