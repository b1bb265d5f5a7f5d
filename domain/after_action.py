"""After-action notes: what states and auditors ask of an event besides its timing.

Scheduled vs. actual start, whether it ran during instruction, lunch or passing time,
who took part and who observed (a fire marshal or police officer, with their
certification), how people were told, the problems found, the lessons learned and the
after-action report that some states require. Each edit is kept as a new revision with
who made it and when, so the record shows how the notes came to say what they say.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec.structs import replace

from domain.errors import Conflict, Invalid
from domain.events import Event, given_text
from domain.policy import Permission, Policy
from domain.roles import Role
from domain.srp import EventStatus
from domain.text import NO_NUL, Instant, Text200, Text1000
from domain.values import Value

Name = Text200
Detail = Text1000
Lessons = Annotated[str, msgspec.Meta(max_length=4000, pattern=NO_NUL)]
ReportText = Annotated[str, msgspec.Meta(max_length=20000, pattern=NO_NUL)]
Headcount = Annotated[int, msgspec.Meta(ge=0, le=100000)]


class During(StrEnum):
    """What the school was doing when the drill began (some states want each covered)."""

    INSTRUCTION = "instruction"
    LUNCH = "lunch"
    PASSING = "passing"
    OTHER = "other"


class ProblemKind(StrEnum):
    ALARM_NOT_HEARD = "alarm_not_heard"
    DOOR_WOULD_NOT_LOCK = "door_would_not_lock"
    WINDOWS_NOT_COVERED = "windows_not_covered"
    PERSON_UNACCOUNTED = "person_unaccounted"
    OTHER = "other"  # says what in `detail`


class Observer(Value, kw_only=True, forbid_unknown_fields=True):
    """Someone who watched the drill, e.g. a fire marshal with their certification."""

    name: Name
    agency: Name | None = None
    role: Name | None = None
    certification: Name | None = None


class ProblemFound(Value, kw_only=True, forbid_unknown_fields=True):
    kind: ProblemKind
    detail: Detail | None = None  # where, who, what; required for `other`


class Participants(Value, kw_only=True, forbid_unknown_fields=True):
    students: Headcount | None = None
    staff: Headcount | None = None
    visitors: Headcount | None = None


class AfterAction(Value, kw_only=True, forbid_unknown_fields=True):
    """The notes as a whole; an edit states all of them (what it leaves out is cleared)."""

    scheduled_at: Instant | None = None
    during: During | None = None
    participants: Participants = msgspec.field(default_factory=Participants)
    observers: Annotated[list[Observer], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list)
    notification_method: Name | None = None  # e.g. "PA announcement and Muster push"
    problems: Annotated[list[ProblemFound], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list)
    lessons_learned: Lessons | None = None
    report: ReportText | None = None  # the after-action report itself


class AfterActionRevision(AfterAction, kw_only=True):
    """The notes as stored by one edit: revision 1, 2, ... with who and when."""

    revision: int
    edited_by: uuid.UUID
    edited_at: datetime


def _observer(observer: Observer, n: int) -> Observer:
    name = given_text(observer.name)
    if name is None:
        raise Invalid("an observer needs a name", field=f"observers[{n}].name")
    return Observer(name=name, agency=given_text(observer.agency), role=given_text(observer.role),
                    certification=given_text(observer.certification))


def _problem(problem: ProblemFound, n: int) -> ProblemFound:
    detail = given_text(problem.detail)
    if problem.kind is ProblemKind.OTHER and detail is None:
        raise Invalid("a problem of kind 'other' needs a detail saying what it was",
                      field=f"problems[{n}].detail")
    return ProblemFound(kind=problem.kind, detail=detail)


def revise(event: Event, notes: AfterAction, *, previous: int, actor_id: uuid.UUID,
           role: Role, policy: Policy, now: datetime) -> AfterActionRevision:
    """The next revision of an ended event's notes (`previous` is the current revision
    number, 0 for none). Blank texts count as not given. While the event is active there
    is nothing to review yet, and a mid-drill edit would be mistaken for the record."""
    policy.require(role, Permission.EDIT_AFTER_ACTION)
    if event.status is EventStatus.ACTIVE:
        raise Conflict(f"event {event.id} is still active; after-action notes are written "
                       "once it has ended")
    cleaned = replace(
        notes,
        observers=[_observer(o, n) for n, o in enumerate(notes.observers)],
        problems=[_problem(p, n) for n, p in enumerate(notes.problems)],
        notification_method=given_text(notes.notification_method),
        lessons_learned=given_text(notes.lessons_learned), report=given_text(notes.report))
    return AfterActionRevision(**msgspec.structs.asdict(cleaned), revision=previous + 1,
                               edited_by=actor_id, edited_at=now)
