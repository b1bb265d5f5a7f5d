"""Erasing a school's student data, which its district decides (api/usecases/students.py).

One statement: the guardians (and the texts queued to them, with their delivery
receipts), the restrictions, classes, enrollments and bell schedule are deleted; the
names of the adults who came to collect students and the notes of releases are blanked;
each student keeps their id, so that past reports and releases still count them, but
their names become ERASED and nothing else of them is kept (their SIS id becomes their
id, they are inactive). A statement is all or nothing: nothing half-erased survives.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from db.pool import Connection
from domain.students import ERASED
from domain.values import Value


class Erased(Value, kw_only=True):
    """How many rows of each kind the erasure deleted (students and adults: blanked)."""

    students: int
    guardians: int
    restrictions: int
    classes: int
    enrollments: int
    bell_schedules: int
    reunification_adults: int
    guardian_texts: int


# erase_roster -- the school's student data, deleted or blanked in one statement (foreign
# keys are checked at its end, once children and parents are both gone)
_ERASE = """
with texts as (
    select o.id from notification_outbox o join guardians g on g.id = o.guardian_id
    where g.school_id = $1
), receipts as (
    delete from deliveries where outbox_id in (select id from texts) returning 1
), texts_gone as (
    delete from notification_outbox where id in (select id from texts) returning 1
), adults as (
    update reunification_adults set name = $2, relationship = null, guardian_id = null
    where school_id = $1 returning 1
), approval_notes as (
    update release_approvals set note = null
    where note is not null
      and reunification_id in (select id from reunifications where school_id = $1)
    returning 1
), release_notes as (
    update releases set note = null where school_id = $1 and note is not null returning 1
), restrictions as (
    delete from student_restrictions where school_id = $1 returning 1
), links as (
    delete from student_guardians where school_id = $1 returning 1
), guardians_gone as (
    delete from guardians where school_id = $1 returning 1
), enrolled as (
    delete from enrollments where school_id = $1 returning 1
), classes_gone as (
    delete from classes where school_id = $1 returning 1
), schedule as (
    delete from bell_schedules where school_id = $1 returning 1
), named as (
    update students
    set given_name = $2, family_name = $2, source_id = id::text, grade = null,
        homeroom_id = null, active = false, updated_at = $3
    where school_id = $1 returning 1
)
select (select count(*) from named) as students,
       (select count(*) from guardians_gone) as guardians,
       (select count(*) from restrictions) as restrictions,
       (select count(*) from classes_gone) as classes,
       (select count(*) from enrolled) as enrollments,
       (select count(*) from schedule) as bell_schedules,
       (select count(*) from adults) as reunification_adults,
       (select count(*) from texts_gone) as guardian_texts
"""


async def erase_roster(conn: Connection, school_id: uuid.UUID, at: datetime) -> Erased:
    # a data-modifying CTE runs whether or not the final select reads it
    row = await conn.fetchrow(_ERASE, school_id, ERASED, at)
    assert row is not None  # a select of counts has one row
    return Erased(**dict(row))
