"""Students by name, the adults on their record, and what a room's report says of each.

A student belongs to one school; the roster (OneRoster or a plain CSV) says who they are,
which adults may collect them and which may not (a restriction: a no-contact order or a
custody note naming an adult). A room's report may give each student it names a status;
across the event's current reports, each student's status is what accountability shows.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from domain.errors import Forbidden, Invalid
from domain.language import Language
from domain.policy import Permission, Policy
from domain.roles import Role
from domain.values import Value

# What an erased student is called: their id stays, so that past reports and releases
# still count them, but nothing says who they were.
ERASED = "Erased"


class StudentStatus(StrEnum):
    """A student as a room reports them. `extra` is a student of another room who is here;
    `absent` one not at school today; `missing` one expected here and not here."""

    PRESENT = "present"
    MISSING = "missing"
    ABSENT = "absent"
    INJURED = "injured"
    EXTRA = "extra"


# Seen by an adult in a room: the student is accounted for, wherever else they are missing.
SEEN = frozenset({StudentStatus.PRESENT, StudentStatus.INJURED, StudentStatus.EXTRA})


class StudentMark(Value, gc=False):
    """One student's status in one room's report. Not tracked by the garbage collector
    (it holds no container, so it can be in no cycle): a dashboard's read makes 2,000."""

    student_id: uuid.UUID
    status: StudentStatus


class Student(Value, kw_only=True):
    """A student of a school; `source_id` is the SIS's id (OneRoster sourcedId or the
    plain CSV's student id), the key a re-import updates by; one who left is inactive,
    never deleted (past reports and releases name them)."""

    id: uuid.UUID
    school_id: uuid.UUID
    source_id: str
    given_name: str
    family_name: str
    grade: str | None = None
    homeroom_id: uuid.UUID | None = None
    active: bool = True


class Guardian(Value, kw_only=True):
    """An adult on students' records; `phone` receives reunification texts in
    `language`. Guardians never sign in: they are data, not users."""

    id: uuid.UUID
    school_id: uuid.UUID
    source_id: str
    name: str
    phone: str | None = None
    email: str | None = None
    language: Language = Language.EN


class RestrictionKind(StrEnum):
    NO_CONTACT = "no_contact"
    CUSTODY = "custody"


class Restriction(Value, kw_only=True):
    """An adult the student must not be released to, by name (and guardian if linked)."""

    id: uuid.UUID
    student_id: uuid.UUID
    kind: RestrictionKind
    adult_name: str
    guardian_id: uuid.UUID | None = None
    note: str | None = None


def same_person(a: str, b: str) -> bool:
    """Whether two written names are one name: case, accents' case and spacing aside."""
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def sees_guardians(policy: Policy, role: Role) -> bool:
    """Whether `role` sees a student's guardians and restrictions: those who release
    students (REUNIFY) and those who load the roster (MANAGE_ROSTER) do; a school that
    narrows both leaves the rest with names and classes only."""
    return policy.allows(role, Permission.REUNIFY) or policy.allows(role,
                                                                     Permission.MANAGE_ROSTER)


def check_erasure(role: Role, school_name: str, confirm: str) -> None:
    """Erasing a school's student data is its district's decision, and is confirmed by
    typing the school's name (case and spacing aside), so that no slip erases another's."""
    if role is not Role.DISTRICT_ADMIN:
        raise Forbidden(f"a {role} may not erase the school's student data; a district "
                        "admin may")
    if not same_person(confirm, school_name):
        raise Invalid(f"type the school's name, {school_name}, to confirm", field="confirm")
