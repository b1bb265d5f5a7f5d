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
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from domain.checkins import CheckIn, supersedes
from domain.students import SEEN, StudentStatus
from domain.values import Value

Expecting = Mapping[uuid.UUID, uuid.UUID | None]  # student -> the room expecting them, if any


class Expected(Value):
    """The students an event's rooms expect, each with their room (None: no room), and how
    many each room expects: fixed at the event's start, so worked out once per event.
    `students` is the same students as a set, which keeps each id's hash: counting those
    not yet reported against it hashes none of them again."""

    rooms: dict[uuid.UUID, uuid.UUID | None]
    per_room: dict[uuid.UUID, int]
    students: frozenset[uuid.UUID]


def expect(rooms: Expecting) -> Expected:
    """The event's expectation from each expected student's room."""
    return Expected(dict(rooms), dict(Counter(filter(None, rooms.values()))), frozenset(rooms))


class StudentState(Value, kw_only=True):
    """A student in this event: `status` None until a report names them; `room_id` the
    room of the report that decided their status (the last known room of a missing
    student), else the room expecting them."""

    student_id: uuid.UUID
    status: StudentStatus | None
    room_id: uuid.UUID | None
    expected_room_id: uuid.UUID | None


class RoomCall(Value, kw_only=True):
    """A room's roll: how many students it expects, how many its current report names;
    of the students whose status its report decided (each student counts in one room),
    how many it saw (`accounted`: present, injured or extra), reported missing or absent,
    and saw injured; `not_reported` the students it expects that no report names yet."""

    room_id: uuid.UUID
    expected: int
    named: int
    accounted: int = 0
    missing: int = 0
    absent: int = 0
    injured: int = 0
    not_reported: int = 0


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


# a student's deciding mark: the room whose report decided it, and the status
_Decided = tuple[uuid.UUID, StudentStatus]
_MISSING, _INJURED = StudentStatus.MISSING, StudentStatus.INJURED  # read once, not per mark


def _marks(current: Iterable[CheckIn]) -> tuple[dict[uuid.UUID, _Decided],
                                                  dict[uuid.UUID, _Decided]]:
    """Each named student's newest sighting, and their newest other mark. The reports are
    taken oldest first, so that each mark replaces an older one of its kind."""
    seen: dict[uuid.UUID, _Decided] = {}
    unseen: dict[uuid.UUID, _Decided] = {}
    for checkin in sorted(current, key=_order):
        for mark in checkin.students:
            (seen if mark.status in SEEN else unseen)[mark.student_id] = (checkin.room_id,
                                                                           mark.status)
    return seen, unseen


def _decide(current: Iterable[CheckIn]) -> dict[uuid.UUID, _Decided]:
    """Each named student's deciding mark: a sighting over any other, then the newest."""
    seen, unseen = _marks(current)
    return unseen | seen


def _state(student_id: uuid.UUID, decided: _Decided | None,
           expected: Expecting) -> StudentState:
    room = expected.get(student_id)
    if decided is None:
        return StudentState(student_id=student_id, status=None, room_id=room,
                            expected_room_id=room)
    decided_in, status = decided
    return StudentState(student_id=student_id, status=status, room_id=decided_in,
                        expected_room_id=room)


def student_states(expected: Expecting,
                   current: Iterable[CheckIn]) -> dict[uuid.UUID, StudentState]:
    """Each student expected or named, with their status across the rooms' current
    reports (the module's rules); expected students first, in the order given."""
    deciding = _decide(current)
    return {s: _state(s, deciding.get(s), expected)
            for s in [*expected, *(s for s in deciding if s not in expected)]}


def roll_call(expected: Expected, current: Iterable[CheckIn]) -> RollCall:
    """Add up the students: `expected` at the start, `current` each room's current report
    (one per room). Counted with the containers' own loops, and each student's id hashed
    as few times as may be (a UUID's hash is Python code): a 2,000-student school is added
    up on every read of a dashboard that polls through a storm. Only the missing are
    looked for among the other marks (a student seen anywhere is not missing), and only
    the injured among the sightings."""
    reports = list(current)
    seen, unseen = _marks(reports)
    deciding = unseen | seen
    by_room = Counter(deciding.values())  # (room, status) -> students
    tally: Counter[StudentStatus] = Counter()
    for (_, status), count in by_room.items():
        tally[status] += count
    rooms = expected.rooms
    unreported = expected.students.difference(deciding)
    unreported_in = Counter(map(rooms.__getitem__, unreported))
    named = {c.room_id: len(c.students) for c in reports}
    return RollCall(
        expected=len(rooms),
        accounted=sum(tally[s] for s in SEEN),
        absent=tally[StudentStatus.ABSENT],
        not_reported=len(unreported),
        missing=tuple(_state(s, d, rooms) for s, d in unseen.items()
                      if d[1] is _MISSING and s not in seen),
        injured=tuple(_state(s, d, rooms) for s, d in seen.items()
                      if d[1] is _INJURED),
        rooms=tuple(_room_call(r, expected.per_room.get(r, 0), named.get(r, 0), by_room,
                               unreported_in[r])
                    for r in dict.fromkeys([*expected.per_room, *named])),
    )


def _room_call(room: uuid.UUID, expects: int, named: int,
               by_room: Counter[_Decided], not_reported: int) -> RoomCall:
    return RoomCall(room_id=room, expected=expects, named=named,
                    accounted=sum(by_room[room, s] for s in SEEN),
                    missing=by_room[room, StudentStatus.MISSING],
                    absent=by_room[room, StudentStatus.ABSENT],
                    injured=by_room[room, StudentStatus.INJURED],
                    not_reported=not_reported)


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
