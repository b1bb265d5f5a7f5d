"""Queries about a school's students: who they are (a page of them, one with their
guardians, restrictions and classes), and who is expected in which room at a period."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date

import asyncpg
import msgspec

from db.pool import Connection
from domain.language import Language
from domain.students import RestrictionKind
from domain.values import Value


class ExpectedStudent(Value, kw_only=True):
    """An active student and the room they are expected in (None: no class meeting in a
    room at that period and no homeroom)."""

    id: uuid.UUID
    given_name: str
    family_name: str
    grade: str | None
    room_id: uuid.UUID | None


def _in_class_on(day: str) -> str:
    """SQL: on the date of parameter `day`, class `c` meets (in one of its terms, or
    every day when it has none) and enrollment `e` counts (between its dates, both
    included; an open end is no bound): one rule for who is expected where and for a
    student's classes."""
    return (f"(c.terms is null or c.terms @> {day}) "
            f"and (e.begins is null or e.begins <= {day}) "
            f"and (e.ends is null or e.ends >= {day})")


def _room_of_class(which: str) -> str:
    """SQL: each student of school $1 with the room of the first (by source id: co-taught
    sections) of their active classes in a room that are `which` and that they are in on
    date $3 (_in_class_on)."""
    return f"""
    select distinct on (e.student_id) e.student_id, c.room_id
    from classes c join enrollments e on e.class_id = c.id
    where c.school_id = $1 and c.active and c.room_id is not null and {which}
      and {_in_class_on("$3::date")}
    order by e.student_id, c.source_id"""


# The room each active student of school $1 is expected in at period $2
# (domain/schedule.py) on date $3 (the school's): the room of their class meeting in it
# that day (in one of its terms, or every day when it has none) while they are enrolled in
# it (between the enrollment's dates); else their homeroom that day: the room of their
# homeroom class then (a student who changed homeroom mid-year), else the homeroom the
# roster gave them (a plain CSV's, or OneRoster's first homeroom class). No period: their
# homeroom. Set-based (the classes joined once to their enrollments), not a probe of the
# classes per student: a 2,000-student school answers in milliseconds.
_EXPECTED_ROOMS = f"""
with in_class as ({_room_of_class("$2::text = any(c.periods)")}),
     in_homeroom as ({_room_of_class("c.homeroom")})
select s.id, s.given_name, s.family_name, s.grade,
       coalesce(k.room_id, h.room_id, s.homeroom_id) as room_id
from students s left join in_class k on k.student_id = s.id
left join in_homeroom h on h.student_id = s.id
where s.school_id = $1 and s.active
"""

# expected_students -- each active student with their expected room at a period of a
# day, by name; one room's, or every room's when $4 is null
_EXPECTED = f"""
select * from ({_EXPECTED_ROOMS}) expected
where $4::uuid is null or room_id = $4
order by family_name, given_name, id
"""


async def expected_students(conn: Connection, school_id: uuid.UUID, period: str | None,
                            day: date, room_id: uuid.UUID | None = None
                            ) -> list[ExpectedStudent]:
    rows = await conn.fetch(_EXPECTED, school_id, period, day, room_id)
    return [msgspec.convert(dict(r), ExpectedStudent) for r in rows]


# freeze_expected -- the students the rooms of event $4 expect, fixed at its start: each
# active student's expected room at the period then ($2; null: homerooms) on that day ($3)
_FREEZE = f"""
insert into event_students (event_id, school_id, student_id, room_id)
select $4, $1, id, room_id from ({_EXPECTED_ROOMS}) expected
"""


async def freeze_expected(conn: Connection, school_id: uuid.UUID, period: str | None,
                          day: date, event_id: uuid.UUID) -> None:
    await conn.execute(_FREEZE, school_id, period, day, event_id)


# expected_in_event -- the students the event's rooms expect (one room's, or every room's
# when $2 is null), by name
_IN_EVENT = """
select s.id, s.given_name, s.family_name, s.grade, x.room_id
from event_students x join students s on s.id = x.student_id
where x.event_id = $1 and ($2::uuid is null or x.room_id = $2)
order by s.family_name, s.given_name, s.id
"""


async def expected_in_event(conn: Connection, event_id: uuid.UUID,
                            room_id: uuid.UUID | None = None) -> list[ExpectedStudent]:
    rows = await conn.fetch(_IN_EVENT, event_id, room_id)
    return [msgspec.convert(dict(r), ExpectedStudent) for r in rows]


# expected_rooms_in_event -- each student the event's rooms expect, and their room:
# unordered and unnamed, what accountability adds up (it names only those it lists)
_ROOMS_IN_EVENT = "select student_id, room_id from event_students where event_id = $1"


async def expected_rooms_in_event(conn: Connection,
                                  event_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID | None]:
    return {r[0]: r[1] for r in await conn.fetch(_ROOMS_IN_EVENT, event_id)}


# students_of_school -- which of these ids are the school's students (active or not: a
# report may name one who left since the roster was read)
_OF_SCHOOL = "select id from students where school_id = $1 and id = any($2::uuid[])"


async def students_of_school(conn: Connection, school_id: uuid.UUID,
                             ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    return {r["id"] for r in await conn.fetch(_OF_SCHOOL, school_id, list(ids))}


def _name_has(words: str) -> str:
    """SQL: student `s`'s name, as "Given Family" or "Family, Given", has the text of
    parameter `words` (case aside, taken literally: no wildcards)."""
    return (f"(strpos(lower(s.given_name || ' ' || s.family_name), lower({words})) > 0 "
            f"or strpos(lower(s.family_name || ', ' || s.given_name), lower({words})) > 0)")


def _words(text: str) -> str:
    """What a person typed, runs of spaces as one (names are stored that way)."""
    return " ".join(text.split())


# search_students -- the school's active students whose name has the words ($2), or whose
# SIS id is them, by name; at most $3
_SEARCH = f"""
select s.id, s.given_name || ' ' || s.family_name as name, s.grade from students s
where s.school_id = $1 and s.active and ({_name_has("$2")} or s.source_id = $2)
order by s.family_name, s.given_name, s.id
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
    rows = await conn.fetch(_SEARCH, school_id, _words(words), most)
    return [FoundStudent(id=r["id"], name=r["name"], grade=r["grade"]) for r in rows]


class Homeroom(Value):
    id: uuid.UUID
    code: str


class StudentItem(Value, kw_only=True):
    """A student as a list of the school's students shows them: never their guardians."""

    id: uuid.UUID
    given_name: str
    family_name: str
    grade: str | None
    homeroom: Homeroom | None
    active: bool


class StudentFilter(Value, kw_only=True):
    """Which students a list shows: `q` a piece of their name (case aside), their grade,
    their homeroom, and those who left too (`include_inactive`)."""

    q: str | None = None
    grade: str | None = None
    room_id: uuid.UUID | None = None
    include_inactive: bool = False


_STUDENT = """
select s.id, s.given_name, s.family_name, s.grade, s.active, s.homeroom_id, r.code as homeroom_code
from students s left join rooms r on r.id = s.homeroom_id
"""


def _student(row: asyncpg.Record) -> StudentItem:
    homeroom = row["homeroom_id"] and Homeroom(row["homeroom_id"], row["homeroom_code"])
    return StudentItem(id=row["id"], given_name=row["given_name"],
                       family_name=row["family_name"], grade=row["grade"], homeroom=homeroom,
                       active=row["active"])


# list_students -- a page of the school's students by (family name, given name, id) after
# the keyset, filtered. `q` is found anywhere in "given family" or "family, given" (case
# aside): the school's index bounds the scan to its own students, a few thousand rows.
_LIST = _STUDENT + f"""
where s.school_id = $1
  and ($2 or s.active)
  and ($3::text is null or s.grade = $3)
  and ($4::uuid is null or s.homeroom_id = $4)
  and ($5::text is null or {_name_has("$5::text")})
  and ($6::text is null or (s.family_name, s.given_name, s.id) > ($6, $7::text, $8::uuid))
order by s.family_name, s.given_name, s.id
limit $9
"""


async def list_students(conn: Connection, school_id: uuid.UUID, which: StudentFilter,
                        after: tuple[str, str, uuid.UUID] | None,
                        limit: int) -> list[StudentItem]:
    family, given, last_id = after or (None, None, None)
    rows = await conn.fetch(_LIST, school_id, which.include_inactive, which.grade,
                            which.room_id, which.q and _words(which.q), family, given, last_id,
                            limit)
    return [_student(r) for r in rows]


# get_student -- one student of the school, active or not
_GET = _STUDENT + "where s.school_id = $1 and s.id = $2"


async def get_student(conn: Connection, school_id: uuid.UUID,
                      student_id: uuid.UUID) -> StudentItem | None:
    row = await conn.fetchrow(_GET, school_id, student_id)
    return _student(row) if row else None


# count_students -- how many active students the school has
_COUNT = "select count(*) from students where school_id = $1 and active"


async def count_students(conn: Connection, school_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(_COUNT, school_id)
    return count


class GuardianOut(Value, kw_only=True):
    """An adult on a student's record as staff releasing the student need them."""

    id: uuid.UUID
    name: str
    relationship: str
    phone: str | None
    language: Language


# guardians_of -- the adults on a student's record, by name
_GUARDIANS = """
select g.id, g.name, sg.relationship, g.phone, g.language
from student_guardians sg join guardians g on g.id = sg.guardian_id
where sg.school_id = $1 and sg.student_id = $2
order by g.name, g.id
"""


async def guardians_of(conn: Connection, school_id: uuid.UUID,
                       student_id: uuid.UUID) -> list[GuardianOut]:
    rows = await conn.fetch(_GUARDIANS, school_id, student_id)
    return [msgspec.convert(dict(r), GuardianOut) for r in rows]


class RestrictionOut(Value, kw_only=True):
    """An adult the student must not be released to."""

    kind: RestrictionKind
    adult_name: str
    note: str | None


# restrictions_of -- the adults a student must not be released to, by name
_RESTRICTIONS = """
select kind, adult_name, note from student_restrictions
where school_id = $1 and student_id = $2
order by adult_name, id
"""


async def restrictions_of(conn: Connection, school_id: uuid.UUID,
                          student_id: uuid.UUID) -> list[RestrictionOut]:
    rows = await conn.fetch(_RESTRICTIONS, school_id, student_id)
    return [msgspec.convert(dict(r), RestrictionOut) for r in rows]


class ClassOut(Value, kw_only=True):
    """A class a student is in: where it meets (if in a room) and in which periods."""

    id: uuid.UUID
    title: str
    room: Homeroom | None
    periods: list[str]
    homeroom: bool


# classes_of -- a student's active classes on date $3 (the school's today: a class they
# left or have yet to join, or one outside its terms, is not theirs now), by title
_CLASSES = f"""
select c.id, c.title, c.room_id, r.code as room_code, c.periods, c.homeroom
from enrollments e join classes c on c.id = e.class_id
left join rooms r on r.id = c.room_id
where e.school_id = $1 and e.student_id = $2 and c.active and {_in_class_on("$3::date")}
order by c.title, c.id
"""


async def classes_of(conn: Connection, school_id: uuid.UUID, student_id: uuid.UUID,
                     day: date) -> list[ClassOut]:
    rows = await conn.fetch(_CLASSES, school_id, student_id, day)
    return [ClassOut(id=r["id"], title=r["title"], periods=list(r["periods"]),
                     homeroom=r["homeroom"],
                     room=r["room_id"] and Homeroom(r["room_id"], r["room_code"]))
            for r in rows]


# room_codes -- the codes of the school's rooms, by id
_ROOM_CODES = "select id, code from rooms where school_id = $1"


async def room_codes(conn: Connection, school_id: uuid.UUID) -> dict[uuid.UUID, str]:
    return {r["id"]: r["code"] for r in await conn.fetch(_ROOM_CODES, school_id)}
