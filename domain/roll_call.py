"""Roll call: every student accounted for by name, from the rooms' reports.

A room's report may name students, each with a status (domain/students.py). Across the
event's rooms' current reports, a student's status is:
- a sighting (present, injured, extra) wherever one is, over missing or absent anywhere
  else: a student one room reports extra is not missing from the room that expected them;
  among sightings, the newest observed report's (the same total order as a room's current
  report, domain/checkins.py);
- else missing or absent, as the newest observed report naming them says; a missing
  student's last known room is the room that reported them missing;
- else not yet reported.
Injured students are accounted for, and flagged. Each room expects the students the
school expected there at the event's start (its class then, else its homeroom).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from domain.checkins import CheckIn, supersedes
from domain.students import SEEN, StudentStatus
from domain.values import Value

Expected = Mapping[uuid.UUID, uuid.UUID | None]  # student -> the room expecting them, if any


class StudentState(Value, kw_only=True):
    """A student in this event: `status` None until a report names them; `room_id` the
    room of the report that decided their status (the last known room of a missing
    student), else the room expecting them."""

    student_id: uuid.UUID
    status: StudentStatus | None
    room_id: uuid.UUID | None
    expected_room_id: uuid.UUID | None


class RoomCall(Value, kw_only=True):
    """A room's roll: how many students it expects, how many its current report names."""

    room_id: uuid.UUID
    expected: int
    named: int


class RollCall(Value, kw_only=True):
    """The school's students in this event. `expected` counts the students expected at
    the start; `accounted` those seen (present, injured or extra: an extra student not on
    the roster counts too); `not_reported` expected students no report names yet."""

    expected: int
    accounted: int
    absent: int
    not_reported: int
    missing: tuple[StudentState, ...]
    injured: tuple[StudentState, ...]
    rooms: tuple[RoomCall, ...]


def _order(checkin: CheckIn) -> tuple[datetime, datetime, uuid.UUID]:
    return checkin.observed_at, checkin.received_at, checkin.client_id


class _Decided(Value):
    """What decides a student's status: whether it is a sighting and the report's order
    (the rank), the report, the status."""

    rank: tuple[bool, tuple[datetime, datetime, uuid.UUID]]
    checkin: CheckIn
    status: StudentStatus


def _decide(current: Iterable[CheckIn]) -> dict[uuid.UUID, _Decided]:
    """Each named student's deciding mark: a sighting over any other, then the newest."""
    deciding: dict[uuid.UUID, _Decided] = {}
    for checkin in current:
        order = _order(checkin)
        ranks = {True: (True, order), False: (False, order)}
        for mark in checkin.students:
            rank = ranks[mark.status in SEEN]
            held = deciding.get(mark.student_id)
            if held is None or rank > held.rank:
                deciding[mark.student_id] = _Decided(rank, checkin, mark.status)
    return deciding


def _state(student_id: uuid.UUID, decided: _Decided | None, expected: Expected) -> StudentState:
    room = expected.get(student_id)
    if decided is None:
        return StudentState(student_id=student_id, status=None, room_id=room,
                            expected_room_id=room)
    return StudentState(student_id=student_id, status=decided.status,
                        room_id=decided.checkin.room_id, expected_room_id=room)


def student_states(expected: Expected, current: Iterable[CheckIn]) -> dict[uuid.UUID, StudentState]:
    """Each student expected or named, with their status across the rooms' current
    reports (the module's rules); expected students first, in the order given."""
    deciding = _decide(current)
    return {s: _state(s, deciding.get(s), expected)
            for s in [*expected, *(s for s in deciding if s not in expected)]}


def roll_call(expected: Expected, current: Iterable[CheckIn]) -> RollCall:
    """Add up the students: `expected` (student -> room), `current` each room's current
    report (one per room). The missing and the injured in the order they were named."""
    reports = list(current)
    deciding = _decide(reports)
    tally: dict[StudentStatus, int] = {}
    for decided in deciding.values():
        tally[decided.status] = tally.get(decided.status, 0) + 1
    expecting: dict[uuid.UUID, int] = {}
    for room in expected.values():
        if room is not None:
            expecting[room] = expecting.get(room, 0) + 1
    named = {c.room_id: len(c.students) for c in reports}

    def listed(status: StudentStatus) -> tuple[StudentState, ...]:
        return tuple(_state(s, d, expected) for s, d in deciding.items() if d.status is status)

    return RollCall(
        expected=len(expected),
        accounted=sum(tally.get(s, 0) for s in SEEN),
        absent=tally.get(StudentStatus.ABSENT, 0),
        not_reported=sum(s not in deciding for s in expected),
        missing=listed(StudentStatus.MISSING),
        injured=listed(StudentStatus.INJURED),
        rooms=tuple(RoomCall(room_id=r, expected=expecting.get(r, 0), named=named.get(r, 0))
                    for r in dict.fromkeys([*expecting, *named])),
    )


def full_accountability_at(expected: Collection[uuid.UUID],
                           checkins: Iterable[CheckIn]) -> datetime | None:
    """The first moment (observed time) every expected student had a status in the rooms'
    current reports, replaying the event's reports in observed order (a room's newer
    report replaces its older one, and may stop naming a student); None with no roster,
    or if it never happened."""
    if not expected:
        return None
    wanted = set(expected)
    left = len(wanted)
    naming: dict[uuid.UUID, int] = {}  # student -> rooms whose current report names them
    current: dict[uuid.UUID, CheckIn] = {}
    ordered = sorted(checkins, key=_order)
    for n, checkin in enumerate(ordered):
        before = current.get(checkin.room_id)
        if before is not None and not supersedes(checkin, before):
            continue  # the same report twice
        current[checkin.room_id] = checkin
        for mark in before.students if before is not None else ():
            naming[mark.student_id] -= 1
            left += naming[mark.student_id] == 0 and mark.student_id in wanted
        for mark in checkin.students:
            naming[mark.student_id] = naming.get(mark.student_id, 0) + 1
            left -= naming[mark.student_id] == 1 and mark.student_id in wanted
        # a moment is complete once every report observed at it is in
        last_of_moment = n + 1 == len(ordered) or ordered[n + 1].observed_at != checkin.observed_at
        if left == 0 and last_of_moment:
            return checkin.observed_at
    return None
