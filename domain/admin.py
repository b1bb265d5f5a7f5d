"""Administering a school: who may change whose membership, substitutes' expiry, the
school year's first day, and the kinds of change the audit trail records."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.errors import Forbidden, Invalid
from domain.roles import Role, strongest
from domain.values import Value

# A substitute is temporary; someone needed for longer than this is staff.
LONGEST_SUBSTITUTE = timedelta(days=366)


class AdminChange(StrEnum):
    """What an entry of the administrative audit trail records."""

    SCHOOL_CREATED = "school_created"
    SCHOOL_UPDATED = "school_updated"
    ROOMS_SAVED = "rooms_saved"
    ROOMS_IMPORTED = "rooms_imported"
    STAFF_ADDED = "staff_added"
    STAFF_UPDATED = "staff_updated"
    STAFF_REMOVED = "staff_removed"
    STAFF_IMPORTED = "staff_imported"
    PHONE_CHANGED = "phone_changed"  # a person's sign-in phone: at each of their schools
    LANGUAGE_CHANGED = "language_changed"  # a person's language: at each of their schools
    CONTACTS_SAVED = "contacts_saved"  # the school's list of contacts for real events
    ROSTER_IMPORTED = "roster_imported"  # a OneRoster export: students, guardians, classes
    STUDENTS_IMPORTED = "students_imported"  # a plain students CSV
    BELL_SCHEDULE_SAVED = "bell_schedule_saved"
    ROSTER_ERASED = "roster_erased"  # the school's student data deleted by its district
    REUNIFICATION_OPENED = "reunification_opened"
    REUNIFICATION_CLOSED = "reunification_closed"
    REUNIFICATION_READ = "reunification_read"  # someone saw the list of students and adults
    STUDENT_ARRIVED = "student_arrived"  # at the reunification site
    ADULT_ARRIVED = "adult_arrived"
    RELEASE_APPROVED = "release_approved"  # a principal approved an adult not on the list
    STUDENT_RELEASED = "student_released"
    STUDENT_READ = "student_read"  # someone saw a student's guardians and restrictions


class Actor(Value, kw_only=True):
    """Who makes an administrative change: a member with their role at the school, or an
    operator at the command line (no user, the powers of a district admin)."""

    user_id: uuid.UUID | None
    role: Role


OPERATOR = Actor(user_id=None, role=Role.DISTRICT_ADMIN)


def _at_most(role: Role, limit: Role) -> bool:
    return strongest((role, limit)) is limit


def check_membership_change(actor: Actor, target_id: uuid.UUID, current: Role | None,
                            new: Role | None) -> None:
    """May `actor` take a person's membership from `current` to `new` (None: not a member,
    or removed)? Nobody grants a role above their own or changes someone above them, and
    nobody changes their own membership (a slip would lock them out, or in)."""
    if target_id == actor.user_id:
        raise Forbidden("you may not change your own membership; ask another administrator")
    if current is not None and not _at_most(current, actor.role):
        raise Forbidden(f"a {actor.role} may not change the membership of a {current}")
    if new is not None and not _at_most(new, actor.role):
        raise Forbidden(f"a {actor.role} may not grant the {new} role")


def check_expiry(expires_at: datetime | None, now: datetime, field: str = "expires_at") -> None:
    """A substitute's membership ends in the future, and within LONGEST_SUBSTITUTE."""
    if expires_at is None:
        return
    if expires_at <= now:
        raise Invalid(f"{expires_at.isoformat()} is not in the future", field=field)
    if expires_at > now + LONGEST_SUBSTITUTE:
        raise Invalid(f"{expires_at.isoformat()} is more than {LONGEST_SUBSTITUTE.days} days "
                      "ahead; a substitute needed that long is staff", field=field)


def school_year_start(text: str, field: str = "school_year_start") -> tuple[int, int]:
    """"MM-DD" as (month, day), a day that every year has (so not 02-29)."""
    month, _, day = text.partition("-")
    try:
        date(2026, int(month), int(day))  # any year without a 29 February
    except ValueError:
        raise Invalid(f"{text!r} is not a day of the year as MM-DD, e.g. 08-12",
                      field=field) from None
    return int(month), int(day)


def check_school_change(role: Role) -> None:
    """Schools are the district's to add and describe."""
    if role is not Role.DISTRICT_ADMIN:
        raise Forbidden(f"a {role} may not add or change schools; a district admin may")


def check_entry_change(actor: Actor, target_id: uuid.UUID, current: Role) -> None:
    """May `actor` change the school's directory entry (name, email) for a person? Their
    own, or those of people whose role here is no stronger than the actor's. The entry is
    the school's alone; a phone is the person's everywhere (domain/identity.py)."""
    if target_id != actor.user_id and not _at_most(current, actor.role):
        raise Forbidden(f"a {actor.role} may not change the details of a {current}")
