"""Reunifications stored: opening and closing, students and adults at the site, approvals,
releases (once per student: the table's unique key decides a race), the live view, the
record, and the audit entry every read and every step writes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from db.directory import entry_name
from db.pool import Connection
from domain.admin import AdminChange
from domain.errors import NotFound
from domain.reunification import (
    Adult,
    EarlierRelease,
    GuardianPhone,
    Reunification,
    RosterAdult,
    Verification,
)
from domain.students import Restriction
from domain.values import Value

_COLUMNS = "id, school_id, event_id, site, address, opened_at, opened_by, closed_at, closed_by"


def _reunification(row: Any) -> Reunification:
    return msgspec.convert(dict(row), Reunification)


# insert -- a new reunification, unless the school has one open or the event has one
# (the caller holds the school's lock: this only guards against a bug)
_INSERT = f"""
insert into reunifications ({_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
on conflict do nothing returning id
"""


async def insert(conn: Connection, r: Reunification) -> bool:
    return await conn.fetchval(_INSERT, r.id, r.school_id, r.event_id, r.site, r.address,
                               r.opened_at, r.opened_by, r.closed_at, r.closed_by) is not None


# load -- one reunification; shared lock: a release or a check-in waits for a close
_LOAD = f"select {_COLUMNS} from reunifications where id = $1"


async def load(conn: Connection, reunification_id: uuid.UUID, *,
               lock: str | None = None) -> Reunification:
    """The reunification, locked `for share` (a step at the site) or `for update` (its
    close) if asked; NotFound when there is none."""
    query = _LOAD + (f" for {lock}" if lock in ("share", "update") else "")
    row = await conn.fetchrow(query, reunification_id)
    if row is None:
        raise NotFound(f"no reunification {reunification_id}")
    return _reunification(row)


# open_at_school -- the school's open reunification, or its event's
_OPEN_OR_EVENTS = f"""
select {_COLUMNS} from reunifications
where school_id = $1 and (closed_at is null or event_id = $2)
order by (event_id is not distinct from $2) desc limit 1
"""


async def open_or_events(conn: Connection, school_id: uuid.UUID,
                         event_id: uuid.UUID | None) -> Reunification | None:
    """The school's reunification that stands in the way of a new one: that of the event
    if it has one, else the school's open one."""
    row = await conn.fetchrow(_OPEN_OR_EVENTS, school_id, event_id)
    return _reunification(row) if row else None


# list_for_school -- a school's reunifications, newest first, after a keyset
_LIST = f"""
select {_COLUMNS} from reunifications
where school_id = $1 and ($2::timestamptz is null or (opened_at, id) < ($2, $3::uuid))
order by opened_at desc, id desc limit $4
"""


async def list_for_school(conn: Connection, school_id: uuid.UUID,
                          after: tuple[datetime, uuid.UUID] | None,
                          limit: int) -> list[Reunification]:
    opened_at, last_id = after or (None, None)
    return [_reunification(r)
            for r in await conn.fetch(_LIST, school_id, opened_at, last_id, limit)]


# close -- the reunification ends
_CLOSE = "update reunifications set closed_at = $2, closed_by = $3 where id = $1"


async def close(conn: Connection, r: Reunification) -> None:
    await conn.execute(_CLOSE, r.id, r.closed_at, r.closed_by)


# guardians_to_text -- each guardian with a phone of the school's active students, once
_GUARDIANS_TO_TEXT = """
select g.id as guardian_id, g.phone, g.language from guardians g
where g.school_id = $1 and g.phone is not null
  and exists (select 1 from student_guardians sg join students s on s.id = sg.student_id
              where sg.guardian_id = g.id and s.active)
order by g.id
"""


async def guardians_to_text(conn: Connection, school_id: uuid.UUID) -> list[GuardianPhone]:
    rows = await conn.fetch(_GUARDIANS_TO_TEXT, school_id)
    return [msgspec.convert(dict(r), GuardianPhone) for r in rows]


class StudentAtSite(Value, kw_only=True):
    """A student of the school, and where they stand at this reunification."""

    id: uuid.UUID
    name: str
    grade: str | None
    arrived_at: datetime | None
    earlier: EarlierRelease | None


# student_at_site -- a student of the school (active or not: one who left may still be
# here today), with their arrival and release at this reunification
_STUDENT_AT_SITE = """
select s.id, s.given_name || ' ' || s.family_name as name, s.grade, rs.arrived_at,
       r.released_at, a.name as released_to
from students s
left join reunification_students rs on rs.reunification_id = $1 and rs.student_id = s.id
left join releases r on r.reunification_id = $1 and r.student_id = s.id
left join reunification_adults a on a.id = r.adult_id
where s.id = $2 and s.school_id = $3
"""


async def student_at_site(conn: Connection, reunification_id: uuid.UUID,
                          school_id: uuid.UUID, student_id: uuid.UUID) -> StudentAtSite | None:
    row = await conn.fetchrow(_STUDENT_AT_SITE, reunification_id, student_id, school_id)
    if row is None:
        return None
    earlier = None if row["released_at"] is None else EarlierRelease(
        adult_name=row["released_to"], released_at=row["released_at"])
    return StudentAtSite(id=row["id"], name=row["name"], grade=row["grade"],
                         arrived_at=row["arrived_at"], earlier=earlier)


# school_students -- which of these ids are students of the school (others are foreign)
_SCHOOL_STUDENTS = "select id from students where school_id = $1 and id = any($2::uuid[])"


async def school_students(conn: Connection, school_id: uuid.UUID,
                          ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    return {r["id"] for r in await conn.fetch(_SCHOOL_STUDENTS, school_id, list(ids))}


# add_student -- a student checked in at the site, once
_ADD_STUDENT = """
insert into reunification_students (reunification_id, student_id, school_id, arrived_at,
                                    checked_in_by)
values ($1, $2, $3, $4, $5) on conflict do nothing returning arrived_at
"""


async def add_student(conn: Connection, r: Reunification, student_id: uuid.UUID,
                      now: datetime, actor_id: uuid.UUID) -> bool:
    """Whether the student is newly checked in (False: they were already)."""
    return await conn.fetchval(_ADD_STUDENT, r.id, student_id, r.school_id, now,
                               actor_id) is not None


# add_adult -- an adult checked in, and the students they came for
_ADD_ADULT = """
insert into reunification_adults (id, reunification_id, school_id, guardian_id, name,
                                  relationship, id_seen, arrived_at, checked_in_by)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
_ADD_ADULT_STUDENTS = """
insert into reunification_adult_students (adult_id, reunification_id, student_id, school_id)
select $1, $2, unnest($3::uuid[]), $4
"""


async def add_adult(conn: Connection, school_id: uuid.UUID, adult: Adult,
                    student_ids: Sequence[uuid.UUID]) -> None:
    await conn.execute(_ADD_ADULT, adult.id, adult.reunification_id, school_id,
                       adult.guardian_id, adult.name, adult.relationship, adult.id_seen,
                       adult.arrived_at, adult.checked_in_by)
    await conn.execute(_ADD_ADULT_STUDENTS, adult.id, adult.reunification_id,
                       list(student_ids), school_id)


# school_guardian -- the guardian, if one of the school's
_SCHOOL_GUARDIAN = "select name from guardians where id = $1 and school_id = $2"


async def guardian_name(conn: Connection, school_id: uuid.UUID,
                        guardian_id: uuid.UUID) -> str | None:
    name: str | None = await conn.fetchval(_SCHOOL_GUARDIAN, guardian_id, school_id)
    return name


# load_adult -- an adult checked in at this reunification
_LOAD_ADULT = """
select id, reunification_id, guardian_id, name, relationship, id_seen, arrived_at,
       checked_in_by
from reunification_adults where id = $1 and reunification_id = $2
"""


async def load_adult(conn: Connection, reunification_id: uuid.UUID,
                     adult_id: uuid.UUID) -> Adult | None:
    row = await conn.fetchrow(_LOAD_ADULT, adult_id, reunification_id)
    return msgspec.convert(dict(row), Adult) if row else None


# roster_adults -- the guardians the roster lists for each of these students
_ROSTER_ADULTS = """
select sg.student_id, g.id as guardian_id, g.name, sg.relationship
from student_guardians sg join guardians g on g.id = sg.guardian_id
where sg.student_id = any($1::uuid[])
order by g.name, g.id
"""


async def roster_adults(conn: Connection, student_ids: Sequence[uuid.UUID]
                        ) -> dict[uuid.UUID, list[RosterAdult]]:
    found: dict[uuid.UUID, list[RosterAdult]] = {s: [] for s in student_ids}
    for r in await conn.fetch(_ROSTER_ADULTS, list(student_ids)):
        found[r["student_id"]].append(RosterAdult(guardian_id=r["guardian_id"], name=r["name"],
                                                  relationship=r["relationship"]))
    return found


# restrictions -- each of these students' restrictions
_RESTRICTIONS = """
select id, student_id, kind, adult_name, guardian_id, note from student_restrictions
where student_id = any($1::uuid[]) order by adult_name, id
"""


async def restrictions(conn: Connection, student_ids: Sequence[uuid.UUID]
                       ) -> dict[uuid.UUID, list[Restriction]]:
    found: dict[uuid.UUID, list[Restriction]] = {s: [] for s in student_ids}
    for r in await conn.fetch(_RESTRICTIONS, list(student_ids)):
        found[r["student_id"]].append(msgspec.convert(dict(r), Restriction))
    return found


# approved -- whether an administrator approved releasing the student to the adult, by whom
_APPROVED = """
select approved_by from release_approvals
where reunification_id = $1 and student_id = $2 and adult_id = $3
"""


async def approved_by(conn: Connection, reunification_id: uuid.UUID, student_id: uuid.UUID,
                      adult_id: uuid.UUID) -> uuid.UUID | None:
    approver: uuid.UUID | None = await conn.fetchval(_APPROVED, reunification_id,
                                                     student_id, adult_id)
    return approver


# approve -- an approval, once (a second changes nothing)
_APPROVE = """
insert into release_approvals (reunification_id, student_id, adult_id, approved_by,
                               approved_at, note)
values ($1, $2, $3, $4, $5, $6) on conflict do nothing returning approved_at
"""


async def approve(conn: Connection, reunification_id: uuid.UUID, student_id: uuid.UUID,
                  adult_id: uuid.UUID, actor_id: uuid.UUID, now: datetime,
                  note: str | None) -> bool:
    return await conn.fetchval(_APPROVE, reunification_id, student_id, adult_id, actor_id,
                               now, note) is not None


# release -- the student handed over; none when an earlier release has (the unique key
# waits for a concurrent one's commit, then finds it)
_RELEASE = """
insert into releases (id, reunification_id, school_id, student_id, adult_id, verification,
                      approved_by, released_at, released_by, note)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
on conflict (reunification_id, student_id) do nothing returning id
"""


async def release(conn: Connection, r: Reunification, release_id: uuid.UUID,
                  student_id: uuid.UUID, adult_id: uuid.UUID, verification: Verification,
                  approved_by: uuid.UUID | None, now: datetime, actor_id: uuid.UUID,
                  note: str | None) -> bool:
    return await conn.fetchval(_RELEASE, release_id, r.id, r.school_id, student_id, adult_id,
                               verification, approved_by, now, actor_id, note) is not None


class SiteCounts(Value, kw_only=True):
    """Students checked in at the site, of them still waiting and released; the school's
    active students not checked in."""

    arrived: int
    awaiting_pickup: int
    released: int
    not_arrived: int


# counts -- the live view's figures
_COUNTS = """
select (select count(*) from reunification_students where reunification_id = $1) as arrived,
       (select count(*) from releases where reunification_id = $1) as released,
       (select count(*) from students s where s.school_id = $2 and s.active
          and not exists (select 1 from reunification_students rs
                          where rs.reunification_id = $1 and rs.student_id = s.id))
           as not_arrived
"""


async def counts(conn: Connection, r: Reunification) -> SiteCounts:
    row = await conn.fetchrow(_COUNTS, r.id, r.school_id)
    assert row is not None
    return SiteCounts(arrived=row["arrived"], awaiting_pickup=row["arrived"] - row["released"],
                  released=row["released"], not_arrived=row["not_arrived"])


class SiteStudent(Value, kw_only=True):
    """A student in the live view: checked in at the site (`arrived_at`) or not yet."""

    id: uuid.UUID
    name: str
    grade: str | None
    arrived_at: datetime | None
    released_at: datetime | None
    released_to: str | None
    restricted: bool


# site_students -- the students checked in at the site, by name; with $3, also the
# school's active students not checked in
_SITE_STUDENTS = """
select s.id, s.given_name || ' ' || s.family_name as name, s.grade, rs.arrived_at,
       r.released_at, a.name as released_to,
       exists (select 1 from student_restrictions x where x.student_id = s.id) as restricted
from students s
left join reunification_students rs on rs.reunification_id = $1 and rs.student_id = s.id
left join releases r on r.reunification_id = $1 and r.student_id = s.id
left join reunification_adults a on a.id = r.adult_id
where s.school_id = $2 and (rs.student_id is not null or ($3 and s.active))
order by s.family_name, s.given_name, s.id
"""


async def site_students(conn: Connection, r: Reunification,
                        with_roster: bool) -> list[SiteStudent]:
    rows = await conn.fetch(_SITE_STUDENTS, r.id, r.school_id, with_roster)
    return [msgspec.convert(dict(row), SiteStudent) for row in rows]


class WaitingAdult(Value, kw_only=True):
    """An adult at the site with students they came for not yet released."""

    id: uuid.UUID
    name: str
    relationship: str | None
    id_seen: bool
    arrived_at: datetime
    for_students: list[uuid.UUID]


# waiting_adults -- adults checked in, each with the students they came for who are not
# released yet; those with none left are no longer waiting
_WAITING = """
select a.id, a.name, a.relationship, a.id_seen, a.arrived_at,
       array_agg(x.student_id order by x.student_id) as for_students
from reunification_adults a
join reunification_adult_students x on x.adult_id = a.id
where a.reunification_id = $1
  and not exists (select 1 from releases r
                  where r.reunification_id = $1 and r.student_id = x.student_id)
group by a.id
order by a.arrived_at, a.id
"""


async def waiting_adults(conn: Connection, reunification_id: uuid.UUID) -> list[WaitingAdult]:
    rows = await conn.fetch(_WAITING, reunification_id)
    return [msgspec.convert(dict(r), WaitingAdult) for r in rows]


class ReleaseEntry(Value, kw_only=True):
    """One release as the record shows it."""

    student_id: uuid.UUID
    student: str
    adult_id: uuid.UUID
    adult: str
    relationship: str | None
    id_seen: bool
    verification: Verification
    approved_by: str | None
    released_by: str
    released_at: datetime
    note: str | None


# releases -- every release of the reunification, in order; people as the school names them
_RELEASES = f"""
select r.student_id, s.given_name || ' ' || s.family_name as student, r.adult_id,
       a.name as adult, a.relationship, a.id_seen, r.verification,
       {entry_name("r.approved_by", "$2")} as approved_by,
       coalesce({entry_name("r.released_by", "$2")}, '?') as released_by,
       r.released_at, r.note
from releases r
join students s on s.id = r.student_id
join reunification_adults a on a.id = r.adult_id
where r.reunification_id = $1
order by r.released_at, r.id
"""


async def releases(conn: Connection, r: Reunification) -> list[ReleaseEntry]:
    rows = await conn.fetch(_RELEASES, r.id, r.school_id)
    return [msgspec.convert(dict(row), ReleaseEntry) for row in rows]


# audit -- one entry of the school's audit trail, in the caller's transaction: a single
# insert (a read of the live view writes one every few seconds per phone)
_AUDIT = """
insert into admin_audit (at, actor_id, district_id, school_id, kind, detail)
select $1, $2, s.district_id, s.id, $4, $5 from schools s where s.id = $3
"""


async def audit(conn: Connection, r: Reunification, actor_id: uuid.UUID, kind: AdminChange,
                detail: dict[str, Any], at: datetime) -> None:
    await conn.execute(_AUDIT, at, actor_id, r.school_id, kind,
                       {"reunification_id": str(r.id), **detail})
