"""Roll call: each student's status across the rooms' current reports, each room's roll,
and when every expected student first had a status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.checkins import CheckIn, CheckInReport, CheckInStatus, latest_per_room, received
from domain.errors import Invalid
from domain.roll_call import expect, full_accountability_at, roll_call, student_states
from domain.students import SEEN, StudentMark, StudentStatus
from tests import builders

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
ROOM_A, ROOM_B, ROOM_C = (uuid.UUID(int=n) for n in (1, 2, 3))
ANA, BEN, CAL, DEE = (uuid.UUID(int=n) for n in (11, 12, 13, 14))
TEACHER = uuid.UUID(int=77)
P, M, AB, HURT, X = (StudentStatus.PRESENT, StudentStatus.MISSING, StudentStatus.ABSENT,
                  StudentStatus.INJURED, StudentStatus.EXTRA)


def report(room: uuid.UUID, observed: float, *marks: tuple[uuid.UUID, StudentStatus],
           client: int | None = None) -> CheckIn:
    """A report of `room` observed `observed` minutes after T0 naming `marks`."""
    at = T0 + timedelta(minutes=observed)
    client_id = uuid.UUID(int=client if client is not None else int(observed * 1000) + room.int)
    return CheckIn(id=uuid.uuid4(), event_id=uuid.UUID(int=900), room_id=room,
                   client_id=client_id, status=CheckInStatus.OK, students_present=0,
                   observed_at=at, received_at=at, reported_by=TEACHER,
                   students=tuple(StudentMark(s, st_) for s, st_ in marks))


EXPECTED = {ANA: ROOM_A, BEN: ROOM_A, CAL: ROOM_B, DEE: None}


def test_a_sighting_anywhere_wins_over_missing_elsewhere() -> None:
    """A student room A reports missing and room B reports extra is accounted, not missing."""
    states = student_states(EXPECTED, [report(ROOM_A, 1, (ANA, M), (BEN, P)),
                                       report(ROOM_B, 0.5, (ANA, X), (CAL, P))])
    assert (states[ANA].status, states[ANA].room_id) == (X, ROOM_B)
    assert states[ANA].expected_room_id == ROOM_A


def test_among_sightings_the_newest_observed_report_decides() -> None:
    """Seen injured in B after being seen present in A: injured, in B."""
    states = student_states(EXPECTED, [report(ROOM_A, 1, (ANA, P)),
                                       report(ROOM_B, 2, (ANA, HURT))])
    assert (states[ANA].status, states[ANA].room_id) == (HURT, ROOM_B)


def test_a_missing_student_carries_the_room_that_reported_them_missing() -> None:
    """Missing from B (not their expected room A): last known room is B."""
    call = roll_call(expect(EXPECTED), [report(ROOM_B, 1, (ANA, M))])
    assert [(s.student_id, s.room_id, s.expected_room_id) for s in call.missing] == [
        (ANA, ROOM_B, ROOM_A)]


MARKS = st.lists(st.tuples(st.sampled_from([ROOM_A, ROOM_B, ROOM_C]), st.integers(0, 20),
                           st.lists(st.tuples(st.sampled_from([ANA, BEN, CAL, DEE]),
                                              st.sampled_from(list(StudentStatus))),
                                    max_size=4, unique_by=lambda m: m[0])),
                 max_size=8)


@given(MARKS)
def test_each_students_status_is_the_best_ranked_mark_naming_them(plan) -> None:
    """The rule as stated, mark by mark: a sighting over anything else, then the newest
    observed report (observed, received, client id), whatever order the reports come in."""
    reports = [report(room, minute, *marks, client=n + 1)
               for n, (room, minute, marks) in enumerate(plan)]
    states = student_states(EXPECTED, reversed(reports))
    for student in (ANA, BEN, CAL, DEE):
        naming = [(m.status in SEEN, (r.observed_at, r.received_at, r.client_id), r, m.status)
                  for r in reports for m in r.students if m.student_id == student]
        best = max(naming, key=lambda n: n[:2], default=None)
        assert (states[student].status, states[student].room_id) == (
            (best[3], best[2].room_id) if best else (None, EXPECTED[student]))


def test_students_never_named_are_not_yet_reported() -> None:
    """A student no report names has no status, and their expected room."""
    states = student_states(EXPECTED, [report(ROOM_A, 1, (ANA, P))])
    assert (states[BEN].status, states[BEN].room_id) == (None, ROOM_A)
    assert states[DEE].status is None and states[DEE].room_id is None


def test_the_school_wide_figures_and_each_rooms_roll() -> None:
    """Accounted counts sightings (injured too); absent, missing, not reported apart; a
    student named but not expected (an inactive one) is counted where named."""
    stranger = uuid.UUID(int=99)
    call = roll_call(expect(EXPECTED), [report(ROOM_A, 1, (ANA, HURT), (BEN, AB)),
                                report(ROOM_C, 1, (CAL, M), (stranger, X))])
    assert (call.expected, call.accounted, call.absent, call.not_reported) == (4, 2, 1, 1)
    assert [s.student_id for s in call.missing] == [CAL]
    assert [(s.student_id, s.room_id) for s in call.injured] == [(ANA, ROOM_A)]
    assert {(r.room_id, r.expected, r.named) for r in call.rooms} == {
        (ROOM_A, 2, 2), (ROOM_B, 1, 0), (ROOM_C, 0, 2)}
    rolls = {r.room_id: (r.accounted, r.missing, r.absent, r.injured, r.not_reported)
             for r in call.rooms}
    # B expects Cal, whom C reported missing: Cal counts in C, not as unreported in B
    assert rolls == {ROOM_A: (1, 0, 1, 1, 0), ROOM_B: (0, 0, 0, 0, 0),
                     ROOM_C: (1, 1, 0, 0, 0)}


@given(MARKS)
def test_the_roll_call_adds_up_each_students_status(plan) -> None:
    """The school-wide figures and the lists are each student's status (student_states)
    counted: one current report per room, a stranger among the students named."""
    stranger = uuid.UUID(int=99)
    reports = latest_per_room(report(room, minute, *marks, (stranger, X), client=n + 1)
                              for n, (room, minute, marks) in enumerate(plan)).values()
    states = student_states(EXPECTED, reports).values()
    call = roll_call(expect(EXPECTED), reversed(list(reports)))
    expected = [s for s in states if s.student_id in EXPECTED]
    assert (call.accounted, call.absent, call.not_reported) == (
        sum(s.status in SEEN for s in states), sum(s.status is AB for s in states),
        sum(s.status is None for s in expected))
    for listed, status in ((call.missing, M), (call.injured, HURT)):
        assert {s.student_id: s for s in listed} == {
            s.student_id: s for s in states if s.status is status}
    for room in call.rooms:  # each student counted in the room that decided their status
        here = [s for s in states if s.status is not None and s.room_id == room.room_id]
        assert (room.accounted, room.missing, room.absent, room.injured) == (
            sum(s.status in SEEN for s in here), sum(s.status is M for s in here),
            sum(s.status is AB for s in here), sum(s.status is HURT for s in here))
        assert room.not_reported == sum(s.status is None and s.room_id == room.room_id
                                        for s in expected)
    assert sum(r.accounted for r in call.rooms) == call.accounted
    assert sum(r.missing for r in call.rooms) == len(call.missing)


def test_no_roster_no_reports_is_an_empty_roll() -> None:
    call = roll_call(expect({}), [])
    assert (call.expected, call.accounted, call.not_reported, call.rooms) == (0, 0, 0, ())


def test_full_accountability_is_when_the_last_expected_student_first_has_a_status() -> None:
    """Missing counts as a status; students not expected do not matter."""
    reports = [report(ROOM_A, 1, (ANA, P)), report(ROOM_B, 3, (CAL, M), (DEE, X)),
               report(ROOM_C, 2, (uuid.UUID(int=99), X)), report(ROOM_A, 4, (ANA, P), (BEN, AB)),
               report(ROOM_B, 5, (CAL, P), (DEE, X))]
    assert full_accountability_at(set(EXPECTED), reports) == T0 + timedelta(minutes=4)
    assert full_accountability_at(set(EXPECTED), reports[::-1]) == T0 + timedelta(minutes=4)


def test_a_newer_report_that_drops_a_student_undoes_their_status() -> None:
    """Room A names Ben, then a newer report of A does not: he has no status until B
    names him."""
    reports = [report(ROOM_A, 1, (ANA, P), (BEN, P)), report(ROOM_B, 1.5, (CAL, P), (DEE, P)),
               report(ROOM_A, 2, (ANA, P)), report(ROOM_B, 3, (CAL, P), (DEE, P), (BEN, X))]
    assert full_accountability_at(set(EXPECTED), reports) == T0 + timedelta(minutes=1.5)
    assert full_accountability_at(set(EXPECTED), reports[2:]) == T0 + timedelta(minutes=3)


def test_no_roster_or_never_complete_has_no_time() -> None:
    assert full_accountability_at(set(), [report(ROOM_A, 1, (ANA, P))]) is None
    assert full_accountability_at(set(EXPECTED), [report(ROOM_A, 1, (ANA, P))]) is None


@given(MARKS)
def test_full_accountability_agrees_with_the_roll_call_at_each_moment(plan) -> None:
    """The incremental replay equals asking `roll_call` of the reports observed by each
    moment: the first moment nobody expected is unreported."""
    reports = [report(room, minute, *marks, client=n + 1)
               for n, (room, minute, marks) in enumerate(plan)]
    found = full_accountability_at(set(EXPECTED), reports)
    moments = sorted({r.observed_at for r in reports})
    oracle = next((at for at in moments if roll_call(expect(EXPECTED), latest_per_room(
        r for r in reports if r.observed_at <= at).values()).not_reported == 0), None)
    assert found == oracle


def test_a_report_naming_a_student_twice_is_refused_naming_the_field() -> None:
    """Two statuses for one student in one report cannot both be true."""
    body = CheckInReport(client_id=uuid.uuid4(), room_id=ROOM_A, status=CheckInStatus.OK,
                         students_present=2, students=(StudentMark(ANA, P), StudentMark(ANA, M)))
    event = builders.event(by=TEACHER, started_at=T0)
    with pytest.raises(Invalid) as refused:
        received(body, checkin_id=uuid.uuid4(), event=event, reported_by=TEACHER,
                 received_at=T0)
    assert refused.value.field == "students"


def test_a_report_keeps_its_students_by_id() -> None:
    """The stored order (by id) is the order they are read back in."""
    body = CheckInReport(client_id=uuid.uuid4(), room_id=ROOM_A, status=CheckInStatus.OK,
                         students_present=2, students=(StudentMark(BEN, P), StudentMark(ANA, M)))
    kept = received(body, checkin_id=uuid.uuid4(), event=builders.event(by=TEACHER, started_at=T0),
                    reported_by=TEACHER, received_at=T0)
    assert [m.student_id for m in kept.students] == [ANA, BEN]
