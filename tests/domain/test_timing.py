"""The drill timing record: every figure of docs/records.md's table, from stored facts."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.checkins import CheckIn, CheckInStatus, StudentCounts
from domain.events import Event
from domain.schools import Room
from domain.srp import Action, EventStatus
from domain.timing import (
    Acknowledgement,
    ActionTaken,
    Marker,
    MarkerKind,
    RoomRef,
    SentMessage,
    TimingFacts,
    timing_record,
)
from tests import builders

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
ROOMS = [Room(id=uuid.UUID(int=n), code=f"R-{n:03d}", name=f"Room {n}") for n in range(1, 5)]
PEOPLE = [uuid.UUID(int=100 + n) for n in range(4)]
TEACHER = uuid.UUID(int=77)
_clients = iter(range(1, 10**6))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(status: EventStatus = EventStatus.ALL_CLEAR, ended: float | None = 600) -> Event:
    return builders.event(by=TEACHER, started_at=T0, status=status,
                          ended_at=None if ended is None else at(ended))


def report(room: int, observed: float, *, received: float | None = None,
           status: CheckInStatus = CheckInStatus.OK, present: int = 20, missing: int = 0,
           by: uuid.UUID = TEACHER, note: str | None = None) -> CheckIn:
    """A report for ROOMS[room]."""
    client = next(_clients)
    return CheckIn(
        id=uuid.UUID(int=5000 + client), event_id=uuid.UUID(int=900), room_id=ROOMS[room].id,
        client_id=uuid.UUID(int=client), status=status, students_present=present,
        students_missing=missing, note=note, observed_at=at(observed),
        received_at=at(observed if received is None else received), reported_by=by)


def alert(person: int, handed_off: float | None, *, kind: str = "alert",
          failed: bool = False) -> SentMessage:
    return SentMessage(user_id=PEOPLE[person], kind=kind,
                       handed_off_at=None if handed_off is None else at(handed_off),
                       failed=failed)


def ack(person: int, seconds: float) -> Acknowledgement:
    return Acknowledgement(user_id=PEOPLE[person], at=at(seconds))


def facts(*, rooms=ROOMS, checkins=(), messages=(), acks=(), actions=None) -> TimingFacts:
    return TimingFacts(rooms=rooms, checkins=checkins, messages=messages,
                       acknowledgements=acks,
                       actions=[ActionTaken(at=T0, action=Action.LOCKDOWN)]
                       if actions is None else actions)


DRILL = facts(
    checkins=[report(0, 30), report(1, 45, status=CheckInStatus.NEEDS_HELP, missing=1),
              report(2, 90)],
    messages=[alert(0, 1.0), alert(1, 2.5), alert(2, 1.7), alert(2, None, failed=True),
              alert(0, 200, kind="action"), alert(1, 601, kind="all_clear")],
    acks=[ack(0, 20), ack(1, 70), ack(3, 5)],  # person 3 was never alerted
)


def test_a_drill_with_every_figure() -> None:
    """A ten-minute drill: alerts, acknowledgements, three of four rooms, the all-clear."""
    record = timing_record(event(), DRILL, now=at(9999))
    figures = {k: getattr(record, k) for k in (
        "as_of_s", "duration_s", "notified_first_s", "notified_all_s", "alerts",
        "alerts_handed_off", "alerts_failed", "recipients", "acknowledged", "acknowledged_60s",
        "acknowledged_pct_60s", "first_checkin_s", "rooms_50_s", "rooms_90_s", "rooms_100_s",
        "rooms_total", "rooms_reported", "rooms_ok", "rooms_needs_help")}
    assert figures == {
        "as_of_s": 600.0, "duration_s": 600.0, "notified_first_s": 1.0, "notified_all_s": 2.5,
        "alerts": 4, "alerts_handed_off": 3, "alerts_failed": 1, "recipients": 3,
        "acknowledged": 2, "acknowledged_60s": 1, "acknowledged_pct_60s": 33.3,
        "first_checkin_s": 30.0, "rooms_50_s": 45.0, "rooms_90_s": None, "rooms_100_s": None,
        "rooms_total": 4, "rooms_reported": 3, "rooms_ok": 2, "rooms_needs_help": 1}
    assert record.students == StudentCounts(present=60, missing=1, extra=0, injured=0)
    assert record.unreported_rooms == [RoomRef(room_id=ROOMS[3].id, code="R-004", name="Room 4")]
    assert [(r.code, r.time_to_report_s, r.status) for r in record.rooms] == [
        ("R-001", 30.0, "ok"), ("R-002", 45.0, "needs_help"), ("R-003", 90.0, "ok"),
        ("R-004", None, None)]
    assert record.chart.handoffs_s == [1.0, 1.7, 2.5]
    assert record.chart.acknowledgements_s == [20.0, 70.0]
    assert record.chart.markers == [
        Marker(at_s=0.0, kind=MarkerKind.ACTION, label="lockdown"),
        Marker(at_s=600.0, kind=MarkerKind.END, label="all_clear")]


@pytest.mark.parametrize(("rooms_total", "reported_at", "expected"), [
    (1, [12], (12, 12, 12)),
    (2, [12], (12, None, None)),
    (3, [10, 20, 30], (20, 30, 30)),
    (3, [10, 20], (20, None, None)),
    (4, [10, 20, 30, 40], (20, 40, 40)),
    (4, [40, 10], (40, None, None)),  # the order of arrival does not matter
    (0, [], (None, None, None)),
], ids=["one-room", "half-of-two", "three", "two-of-three", "four", "out-of-order",
        "no-rooms"])
def test_time_to_half_ninety_percent_and_all_rooms(rooms_total, reported_at, expected) -> None:
    """rooms_50/90/100_s: when that share of rooms, rounded up to whole rooms, had reported."""
    checkins = [report(n, s) for n, s in enumerate(reported_at)]
    record = timing_record(event(), facts(rooms=ROOMS[:rooms_total], checkins=checkins),
                           now=at(9999))
    assert (record.rooms_50_s, record.rooms_90_s, record.rooms_100_s) == expected
    assert record.first_checkin_s == (min(reported_at) if reported_at else None)


def test_ten_rooms_ninety_percent_is_the_ninth() -> None:
    """With ten rooms, 90 % is reached at the ninth room's report."""
    rooms = [Room(id=uuid.UUID(int=200 + n), code=f"X{n}", name=f"X{n}") for n in range(10)]
    checkins = [CheckIn(id=uuid.uuid4(), event_id=uuid.UUID(int=900), room_id=r.id,
                        client_id=uuid.uuid4(), status=CheckInStatus.OK, students_present=1,
                        observed_at=at(10 * (n + 1)), received_at=at(10 * (n + 1)),
                        reported_by=TEACHER) for n, r in enumerate(rooms)]
    record = timing_record(event(), facts(rooms=rooms, checkins=checkins), now=at(9999))
    assert (record.rooms_50_s, record.rooms_90_s, record.rooms_100_s) == (50, 90, 100)


NOTHING = {
    "no-rooms": (facts(rooms=[], messages=[alert(0, 1)]),
                 {"rooms_total": 0, "first_checkin_s": None, "rooms_100_s": None,
                  "notified_first_s": 1.0, "acknowledged_pct_60s": 0.0, "rooms": [],
                  "unreported_rooms": []}),
    "no-checkins": (facts(messages=[alert(0, 1)]),
                    {"rooms_total": 4, "first_checkin_s": None, "rooms_100_s": None,
                     "notified_first_s": 1.0, "acknowledged_pct_60s": 0.0,
                     "unreported_rooms": [RoomRef(room_id=r.id, code=r.code, name=r.name)
                                          for r in ROOMS]}),
    "no-notifications": (facts(rooms=ROOMS[:1], checkins=[report(0, 5)]),
                         {"rooms_total": 1, "first_checkin_s": 5.0, "rooms_100_s": 5.0,
                          "notified_first_s": None, "notified_all_s": None, "recipients": 0,
                          "acknowledged_pct_60s": None}),
}


@pytest.mark.parametrize("case", NOTHING)
def test_what_never_happened_is_none(case) -> None:
    """No rooms, no reports or nobody alerted: those figures are None, never 0 or a crash."""
    given, expected = NOTHING[case]
    record = timing_record(event(), given, now=at(9999))
    assert {k: getattr(record, k) for k in expected} == expected
    assert record.duration_s == 600


@pytest.mark.parametrize(("status", "label"), [
    (EventStatus.ALL_CLEAR, "all_clear"),
    (EventStatus.CANCELLED, "cancelled"),
    (EventStatus.SUPERSEDED, "superseded"),
])
def test_the_end_is_the_duration_however_it_ended(status, label) -> None:
    """An all-clear, a cancellation or a real event superseding the drill ends the record."""
    record = timing_record(event(status, ended=95.25), DRILL, now=at(9999))
    assert (record.duration_s, record.as_of_s) == (95.2, 95.2)  # tenths, rounded half even
    assert record.chart.markers[-1] == Marker(at_s=95.2, kind=MarkerKind.END, label=label)


def test_an_active_event_is_timed_so_far() -> None:
    """While active: as of now, no duration and no end marker."""
    record = timing_record(event(EventStatus.ACTIVE, ended=None), DRILL, now=at(120))
    assert (record.as_of_s, record.duration_s) == (120.0, None)
    assert [m.kind for m in record.chart.markers] == [MarkerKind.ACTION]


def test_action_changes_are_markers_in_time_order() -> None:
    """Hold, then lockdown, then evacuate: one marker each, in the order they happened."""
    actions = [ActionTaken(at=at(300), action=Action.EVACUATE),
               ActionTaken(at=T0, action=Action.HOLD),
               ActionTaken(at=at(40), action=Action.LOCKDOWN)]
    record = timing_record(event(), facts(actions=actions), now=at(9999))
    assert [(m.at_s, m.label) for m in record.chart.markers] == [
        (0, "hold"), (40, "lockdown"), (300, "evacuate"), (600, "all_clear")]


def test_a_report_observed_before_the_start_counts_at_the_start() -> None:
    """A phone clock a little behind (within the allowed skew) reports at 0 s, not -30 s."""
    record = timing_record(event(), facts(checkins=[report(0, -30)]), now=at(9999))
    assert (record.first_checkin_s, record.rooms[0].time_to_report_s) == (0.0, 0.0)


def test_a_late_offline_report_counts_when_it_was_observed() -> None:
    """A report made at 5 min and replayed at 20 min, after the all-clear at 10 min, counts
    at 5 min and is marked as having arrived after the end."""
    record = timing_record(event(), facts(checkins=[report(0, 300, received=1200),
                                                    report(1, 60)]), now=at(9999))
    first, second = record.rooms[:2]
    assert (first.time_to_report_s, first.arrived_after_end) == (300.0, True)
    assert (second.time_to_report_s, second.arrived_after_end) == (60.0, False)


def test_a_room_reporting_twice_is_timed_by_its_first_and_shown_by_its_latest() -> None:
    """Time to report is the first report; status, counts and reporter are the current one
    (the newest observation), whatever the arrival order."""
    other = uuid.UUID(int=78)
    checkins = [report(0, 200, status=CheckInStatus.NEEDS_HELP, missing=2, by=other,
                       note="two students hurt, need nurse"),
                report(0, 50, received=250, note="all here")]
    room = timing_record(event(), facts(checkins=checkins), now=at(9999)).rooms[0]
    assert (room.time_to_report_s, room.status, room.students_missing, room.reported_by,
            room.reports, room.note) == (50.0, CheckInStatus.NEEDS_HELP, 2, other, 2,
                                         "two students hurt, need nurse")


def test_a_later_report_without_a_note_clears_the_note() -> None:
    """The note is the current report's, like its counts: a newer report without one means
    the room has nothing to add any more; a room that never reported has no note."""
    checkins = [report(0, 30, note="door will not lock"), report(0, 90)]
    rooms = timing_record(event(), facts(checkins=checkins), now=at(9999)).rooms
    assert [r.note for r in rooms[:2]] == [None, None]


def test_a_report_for_a_room_the_school_no_longer_has_is_left_out() -> None:
    """Like accountability, the record describes the rooms the school has."""
    record = timing_record(event(), facts(rooms=ROOMS[:2], checkins=[report(3, 10)]),
                           now=at(9999))
    assert (record.rooms_reported, record.first_checkin_s) == (0, None)
    assert [r.code for r in record.rooms] == ["R-001", "R-002"]


@pytest.mark.parametrize(("ack_at", "within"), [(59.9, 1), (60, 1), (60.1, 0)])
def test_acknowledged_within_60_s_includes_the_60th_second(ack_at, within) -> None:
    """An acknowledgement at exactly 60 s counts as within the minute."""
    record = timing_record(event(), facts(messages=[alert(0, 1)], acks=[ack(0, ack_at)]),
                           now=at(9999))
    assert (record.acknowledged_60s, record.acknowledged_pct_60s) == (within, 100.0 * within)


def test_only_the_start_alerts_time_the_notification() -> None:
    """Action changes, reminders and endings go later and do not stretch notified_all_s."""
    messages = [alert(0, 3), alert(1, 90, kind="reminder"), alert(2, 100, kind="action"),
                alert(3, 700, kind="all_clear")]
    record = timing_record(event(), facts(messages=messages), now=at(9999))
    assert (record.notified_first_s, record.notified_all_s, record.recipients) == (3, 3, 1)
