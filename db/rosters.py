"""A school's roster as stored (students, guardians, classes and who is linked to whom),
and a roster plan (domain/student_roster.py) written in the caller's transaction: rows by
arrays (`unnest`), one statement per table, so that a 2,000-student school takes a few
round trips, not thousands."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime

import msgspec

from db.pool import Connection
from domain.oneroster import SchoolRef
from domain.schools import Room
from domain.student_roster import RosterPlan, SchoolClass, StoredRoster, Term
from domain.students import Guardian, Restriction, Student

# district_schools -- a district's schools as matching orgs needs them, locked (no key
# update) so that two imports of one district take turns; none when it does not exist
_DISTRICT_SCHOOLS = """
select id, name, source_id from schools where district_id = $1 order by id for no key update
"""
_DISTRICT_EXISTS = "select exists (select 1 from districts where id = $1)"


async def district_schools(conn: Connection, district_id: uuid.UUID) -> list[SchoolRef] | None:
    """The district's schools; None when there is no such district."""
    if not await conn.fetchval(_DISTRICT_EXISTS, district_id):
        return None
    return [SchoolRef(**dict(r)) for r in await conn.fetch(_DISTRICT_SCHOOLS, district_id)]


# set_school_sources -- store each school's OneRoster org the first time it is matched
_SET_SOURCES = """
update schools s set source_id = u.source_id
from unnest($1::uuid[], $2::text[]) as u(id, source_id)
where s.id = u.id and s.source_id is distinct from u.source_id
"""


async def set_school_sources(conn: Connection, sources: Mapping[uuid.UUID, str]) -> None:
    await conn.execute(_SET_SOURCES, list(sources), list(sources.values()))


# stored_* -- everything of one school's roster that an import compares with
_STUDENTS = """
select id, school_id, source_id, given_name, family_name, grade, homeroom_id, active
from students where school_id = $1
"""
_GUARDIANS = """
select id, school_id, source_id, name, phone, email, language from guardians
where school_id = $1
"""
# (a class's terms as [first day, last day] pairs: a date range's upper bound is the day
# after its last)
_CLASSES = """
select id, source_id, title, room_id, periods, homeroom, active,
       case when terms is not null
            then array(select array[lower(t), upper(t) - 1] from unnest(terms) t) end as terms
from classes where school_id = $1
"""
_LINKS = """
select student_id, guardian_id, relationship from student_guardians where school_id = $1
"""
_RESTRICTIONS = """
select id, student_id, kind, adult_name, guardian_id, note from student_restrictions
where school_id = $1
"""
_ENROLLMENTS = """
select student_id, class_id, begins, ends from enrollments where school_id = $1
"""


def _terms(days: list[list[date]] | None) -> tuple[Term, ...] | None:
    return None if days is None else tuple(Term(first, last) for first, last in days)


def _multirange(terms: Sequence[Term] | None) -> str | None:
    """The terms as a datemultirange literal (days both included), or null: arrays of
    multiranges do not travel as parameters, so each class's goes as one text."""
    if terms is None:
        return None
    return "{" + ",".join(f"[{t.starts},{t.ends}]" for t in terms) + "}"


async def stored_roster(conn: Connection, school_id: uuid.UUID) -> StoredRoster:
    return StoredRoster(
        students=[msgspec.convert(dict(r), Student)
                  for r in await conn.fetch(_STUDENTS, school_id)],
        guardians=[msgspec.convert(dict(r), Guardian)
                   for r in await conn.fetch(_GUARDIANS, school_id)],
        classes=[msgspec.convert(dict(r) | {"terms": _terms(r["terms"])}, SchoolClass)
                 for r in await conn.fetch(_CLASSES, school_id)],
        links=[tuple(r) for r in await conn.fetch(_LINKS, school_id)],
        restrictions=[msgspec.convert(dict(r), Restriction)
                      for r in await conn.fetch(_RESTRICTIONS, school_id)],
        enrollments=[tuple(r)
                     for r in await conn.fetch(_ENROLLMENTS, school_id)])


# upsert_students -- new students and changed ones, by id (an id is never another
# school's: the plan took it from this school's rows or minted it)
_UPSERT_STUDENTS = """
insert into students (id, school_id, source_id, given_name, family_name, grade, homeroom_id,
                      active, updated_at)
select u.id, $1, u.source_id, u.given_name, u.family_name, u.grade, u.homeroom_id, u.active, $9
from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[],
            $8::bool[]) as u(id, source_id, given_name, family_name, grade, homeroom_id, active)
on conflict (id) do update set
    source_id = excluded.source_id, given_name = excluded.given_name,
    family_name = excluded.family_name, grade = excluded.grade,
    homeroom_id = excluded.homeroom_id, active = excluded.active,
    updated_at = excluded.updated_at
where students.school_id = excluded.school_id
"""

# upsert_guardians -- new guardians and changed ones, by id
_UPSERT_GUARDIANS = """
insert into guardians (id, school_id, source_id, name, phone, email, language, updated_at)
select u.id, $1, u.source_id, u.name, u.phone, u.email, u.language, $8
from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    as u(id, source_id, name, phone, email, language)
on conflict (id) do update set
    source_id = excluded.source_id, name = excluded.name, phone = excluded.phone,
    email = excluded.email, language = excluded.language, updated_at = excluded.updated_at
where guardians.school_id = excluded.school_id
"""

# upsert_classes -- new classes and changed ones, by id (periods as one text per class:
# arrays of arrays must be rectangular, so each travels joined by a line break; terms as
# one multirange literal per class, null when it meets every day)
_UPSERT_CLASSES = """
insert into classes (id, school_id, source_id, title, room_id, periods, homeroom, active,
                     terms, updated_at)
select u.id, $1, u.source_id, u.title, u.room_id,
       case when u.periods = '' then '{}'::text[] else string_to_array(u.periods, E'\\n') end,
       u.homeroom, u.active, u.terms::datemultirange, $10
from unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::bool[],
            $8::bool[], $9::text[])
    as u(id, source_id, title, room_id, periods, homeroom, active, terms)
on conflict (id) do update set
    source_id = excluded.source_id, title = excluded.title, room_id = excluded.room_id,
    periods = excluded.periods, homeroom = excluded.homeroom, active = excluded.active,
    terms = excluded.terms, updated_at = excluded.updated_at
where classes.school_id = excluded.school_id
"""

# replace_links -- these students' guardians, replaced whole
_DELETE_LINKS = "delete from student_guardians where school_id = $1 and student_id = any($2)"
_INSERT_LINKS = """
insert into student_guardians (student_id, guardian_id, school_id, relationship)
select u.student_id, u.guardian_id, $1, u.relationship
from unnest($2::uuid[], $3::uuid[], $4::text[]) as u(student_id, guardian_id, relationship)
"""

# replace_restrictions -- these students' restrictions, replaced whole
_DELETE_RESTRICTIONS = """
delete from student_restrictions where school_id = $1 and student_id = any($2)
"""
_INSERT_RESTRICTIONS = """
insert into student_restrictions (id, student_id, school_id, kind, adult_name, guardian_id,
                                  note)
select u.id, u.student_id, $1, u.kind, u.adult_name, u.guardian_id, u.note
from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::text[])
    as u(id, student_id, kind, adult_name, guardian_id, note)
"""

# replace_enrollments -- these students' enrollments (class and dates), replaced whole
_DELETE_ENROLLMENTS = "delete from enrollments where school_id = $1 and student_id = any($2)"
_INSERT_ENROLLMENTS = """
insert into enrollments (class_id, student_id, school_id, begins, ends)
select u.class_id, u.student_id, $1, u.begins, u.ends
from unnest($2::uuid[], $3::uuid[], $4::date[], $5::date[])
    as u(class_id, student_id, begins, ends)
"""


def _columns(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    """Rows as one list per column, as unnest takes them."""
    return [[row[i] for row in rows] for i in range(width)]


async def apply_plan(conn: Connection, school_id: uuid.UUID, plan: RosterPlan,
                     now: datetime) -> None:
    """Write the plan (guardians and classes first: students' links refer to them)."""
    await conn.execute(_UPSERT_GUARDIANS, school_id, *_columns(
        [(g.id, g.source_id, g.name, g.phone, g.email, str(g.language))
         for g in plan.guardians], 6), now)
    await conn.execute(_UPSERT_CLASSES, school_id, *_columns(
        [(c.id, c.source_id, c.title, c.room_id, "\n".join(c.periods), c.homeroom, c.active,
          _multirange(c.terms)) for c in plan.classes], 8), now)
    await conn.execute(_UPSERT_STUDENTS, school_id, *_columns(
        [(s.id, s.source_id, s.given_name, s.family_name, s.grade, s.homeroom_id, s.active)
         for s in plan.students], 7), now)
    await conn.execute(_DELETE_LINKS, school_id, list(plan.links))
    await conn.execute(_INSERT_LINKS, school_id, *_columns(
        [(s, g, r) for s, links in plan.links.items() for g, r in links], 3))
    await conn.execute(_DELETE_RESTRICTIONS, school_id, list(plan.restrictions))
    await conn.execute(_INSERT_RESTRICTIONS, school_id, *_columns(
        [(r.id, r.student_id, str(r.kind), r.adult_name, r.guardian_id, r.note)
         for rs in plan.restrictions.values() for r in rs], 6))
    await conn.execute(_DELETE_ENROLLMENTS, school_id, list(plan.enrollments))
    await conn.execute(_INSERT_ENROLLMENTS, school_id, *_columns(
        [(c, s, begins, ends) for s, enrolled in plan.enrollments.items()
         for c, begins, ends in enrolled], 4))


# school_rooms -- every room of the school, to map class locations and homerooms to
_ROOMS = "select id, code, name, building, floor, capacity from rooms where school_id = $1"


async def school_rooms(conn: Connection, school_id: uuid.UUID) -> list[Room]:
    return [Room(**dict(r)) for r in await conn.fetch(_ROOMS, school_id)]
