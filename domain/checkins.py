"""Room reports ("green card / red card") and the accountability they add up to.

Phones queue reports while offline and replay them late and in any order, so a room's
current report is chosen by when the phone observed it, never by when it arrived; and
the choice is a total order, so every server and every replay agrees on the winner.
"""

import itertools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

import msgspec

from domain.errors import EventClosed, Invalid
from domain.events import Event
from domain.srp import EventStatus
from domain.students import StudentMark
from domain.text import Instant, Text200, Text1000
from domain.values import Value

Count = Annotated[int, msgspec.Meta(ge=0)]
Headcount = Annotated[int, msgspec.Meta(ge=0, le=10000)]  # what one room can report
MAX_MARKS = 500  # students one report may name: a gym or a cafeteria full, not the school
Marks = Annotated[tuple[StudentMark, ...], msgspec.Meta(max_length=MAX_MARKS)]

# A phone clock this far ahead of ours is wrong, not early: trust our clock instead.
MAX_CLOCK_SKEW = timedelta(minutes=2)


class CheckInStatus(StrEnum):
    """Green card (everyone here is safe) or red card (this room needs help)."""

    OK = "ok"
    NEEDS_HELP = "needs_help"


class CheckInReport(Value, kw_only=True):
    """A room's report as a phone sends it. `client_id` is minted by the phone once per
    report, so a retry of the same report is recognised; `observed_at` is the phone's
    clock."""

    client_id: uuid.UUID
    room_id: uuid.UUID
    status: CheckInStatus
    students_present: Headcount
    students_missing: Headcount = 0
    students_extra: Headcount = 0
    injured: Headcount = 0
    location: Text200 | None = None
    note: Text1000 | None = None
    observed_at: Instant | None = None
    # The roll call: each student the room names, with their status (domain/roll_call.py).
    students: Marks = ()


class CheckIn(Value, kw_only=True, gc=False):
    """One room's report during one event, as stored; `client_id` makes replays harmless.
    Not tracked by the garbage collector: frozen, it holds only values and a tuple of
    marks, so it can be in no cycle."""

    id: uuid.UUID
    event_id: uuid.UUID
    room_id: uuid.UUID
    client_id: uuid.UUID
    status: CheckInStatus
    students_present: Count
    students_missing: Count = 0
    students_extra: Count = 0
    injured: Count = 0
    location: str | None = None
    note: str | None = None
    observed_at: datetime
    received_at: datetime
    clock_skew_flagged: bool = False
    reported_by: uuid.UUID
    students: tuple[StudentMark, ...] = ()  # by student id


def observed_time(observed_at: datetime | None, received_at: datetime,
                  started_at: datetime) -> tuple[datetime, bool]:
    """When the report was observed, and whether the phone's clock was flagged as wrong.

    No phone time means the report is as fresh as its arrival. A time more than
    MAX_CLOCK_SKEW ahead of arrival would win over every later report of the room, and
    one more than MAX_CLOCK_SKEW before the event started cannot belong to it (a clock
    reset to 1970 would also slip past the all-clear): both are clamped to the arrival
    time and flagged for the record.
    """
    if observed_at is None:
        return received_at, False
    if observed_at.utcoffset() is None:
        raise Invalid("observed_at must carry a UTC offset, e.g. 2026-11-29T08:00:00Z",
                      field="observed_at")
    if observed_at - received_at > MAX_CLOCK_SKEW or started_at - observed_at > MAX_CLOCK_SKEW:
        return received_at, True
    return observed_at, False


def received(report: CheckInReport, *, checkin_id: uuid.UUID, event: Event,
             reported_by: uuid.UUID, received_at: datetime) -> CheckIn:
    """The report as it is kept, its observed time as `observed_time` takes it, its
    students by id (as they are read back); a student named twice is refused."""
    observed, flagged = observed_time(report.observed_at, received_at, event.started_at)
    marks = tuple(sorted(report.students, key=lambda m: m.student_id))
    twice = [a.student_id for a, b in itertools.pairwise(marks) if a.student_id == b.student_id]
    if twice:
        raise Invalid(f"student {twice[0]} is named twice in this report: give each student "
                      "one status", field="students")
    return CheckIn(id=checkin_id, event_id=event.id, received_at=received_at,
                   clock_skew_flagged=flagged, reported_by=reported_by,
                   **msgspec.structs.asdict(report) | {"observed_at": observed,
                                                       "students": marks})


def accept_late_checkin(event: Event, observed_at: datetime) -> None:
    """Take a report for an ended event only if it was observed strictly before the end:
    one observed at the very instant of the all-clear cannot be shown to belong to it."""
    if event.status is EventStatus.ACTIVE:
        return
    if event.ended_at is not None and observed_at < event.ended_at:
        return
    raise too_late(event, observed_at)


def too_late(event: Event, observed_at: datetime) -> EventClosed:
    """The refusal of a report observed at or after the event's end (409)."""
    ended = event.ended_at.isoformat() if event.ended_at else "an unknown time"
    return EventClosed(
        f"event {event.id} ended with {event.status} at {ended}; a report observed at "
        f"{observed_at.isoformat()} is too late for it"
    )


def _order(checkin: CheckIn) -> tuple[datetime, datetime, uuid.UUID]:
    return checkin.observed_at, checkin.received_at, checkin.client_id


def supersedes(new: CheckIn, current: CheckIn) -> bool:
    """Whether `new` replaces `current` as its room's report: the newest observation wins,
    then the latest arrival, then the larger client_id, so that arrival order never
    matters. A replay of the same report never supersedes itself."""
    return _order(new) > _order(current)


def latest_of(current: CheckIn | None, new: CheckIn) -> CheckIn:
    """The room's report after `new` arrives: one arrival of the incremental merge."""
    return new if current is None or supersedes(new, current) else current


def latest_per_room(checkins: Iterable[CheckIn]) -> dict[uuid.UUID, CheckIn]:
    """Each room's current report, whatever order the reports arrived in."""
    latest: dict[uuid.UUID, CheckIn] = {}
    for checkin in checkins:
        latest[checkin.room_id] = latest_of(latest.get(checkin.room_id), checkin)
    return latest


class StudentCounts(Value, kw_only=True):
    """Students across the reported rooms, from each room's current report."""

    present: int
    missing: int
    extra: int
    injured: int


class RoomState(Value, kw_only=True):
    """A room and its current report; `checkin` is None until the room reports."""

    room_id: uuid.UUID
    checkin: CheckIn | None


class Accountability(Value, kw_only=True):
    """The school filling in, room by room, in the order the rooms were given."""

    rooms_total: int
    rooms_reported: int
    rooms_ok: int
    rooms_needs_help: int
    unreported_room_ids: tuple[uuid.UUID, ...]
    students: StudentCounts
    rooms: tuple[RoomState, ...]


def account(room_ids: Sequence[uuid.UUID], latest: Mapping[uuid.UUID, CheckIn]) -> Accountability:
    """Add up the school's rooms. A report for a room not in `room_ids` (a room deleted
    since) is left out, so that totals always describe the rooms the school has now; a
    room listed twice counts once."""
    rooms = tuple(RoomState(room_id=r, checkin=latest.get(r)) for r in dict.fromkeys(room_ids))
    reports = [room.checkin for room in rooms if room.checkin is not None]
    return Accountability(
        rooms_total=len(rooms),
        rooms_reported=len(reports),
        rooms_ok=sum(c.status == CheckInStatus.OK for c in reports),
        rooms_needs_help=sum(c.status == CheckInStatus.NEEDS_HELP for c in reports),
        unreported_room_ids=tuple(room.room_id for room in rooms if room.checkin is None),
        students=StudentCounts(
            present=sum(c.students_present for c in reports),
            missing=sum(c.students_missing for c in reports),
            extra=sum(c.students_extra for c in reports),
            injured=sum(c.injured for c in reports),
        ),
        rooms=rooms,
    )
