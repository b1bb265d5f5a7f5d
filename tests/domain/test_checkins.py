"""Room reports: phone clocks, late reports, which report wins, and accountability."""

import functools
import uuid
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.checkins import (
    MAX_CLOCK_SKEW,
    CheckIn,
    CheckInReport,
    CheckInStatus,
    StudentCounts,
    accept_late_checkin,
    account,
    latest_of,
    latest_per_room,
    observed_time,
    received,
    supersedes,
)
from domain.errors import EventClosed, Invalid
from domain.events import Event
from domain.srp import EventStatus
from tests import builders

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
ROOMS = [uuid.UUID(int=n) for n in range(1, 5)]
TEACHER = uuid.UUID(int=77)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def report(room: uuid.UUID = ROOMS[0], *, observed: float = 1, received: float | None = None,
           client: int = 1, status: CheckInStatus = CheckInStatus.OK, present: int = 20,
           missing: int = 0, extra: int = 0, injured: int = 0) -> CheckIn:
    return CheckIn(
        id=uuid.UUID(int=1000 + client), event_id=uuid.UUID(int=900), room_id=room,
        client_id=uuid.UUID(int=client), status=status, students_present=present,
        students_missing=missing, students_extra=extra, injured=injured,
        observed_at=minutes(observed), received_at=minutes(observed if received is None
                                                           else received),
        reported_by=TEACHER,
    )


def event(status: EventStatus = EventStatus.ACTIVE, ended_at: datetime | None = None) -> Event:
    return builders.event(by=TEACHER, started_at=T0, status=status, ended_at=ended_at)


# --- the phone's clock ---------------------------------------------------------------


def test_no_phone_time_means_the_arrival_time() -> None:
    """A report without observed_at is as fresh as its arrival, and not flagged."""
    assert observed_time(None, minutes(5), T0) == (minutes(5), False)


@pytest.mark.parametrize("offset", [timedelta(hours=-3), timedelta(0), MAX_CLOCK_SKEW])
def test_phone_time_within_the_skew_is_kept(offset: timedelta) -> None:
    """A queued report from the past, or a clock up to two minutes fast, is believed."""
    started = minutes(5) - timedelta(hours=4)
    assert observed_time(minutes(5) + offset, minutes(5), started) == (minutes(5) + offset, False)


@pytest.mark.parametrize("offset", [MAX_CLOCK_SKEW + timedelta(seconds=1), timedelta(days=1)])
def test_phone_time_too_far_ahead_is_clamped_and_flagged(offset: timedelta) -> None:
    """A phone clock running fast would win forever, so arrival time is used and flagged."""
    assert observed_time(minutes(5) + offset, minutes(5), T0) == (minutes(5), True)


@pytest.mark.parametrize(("observed", "kept"), [
    (T0 - MAX_CLOCK_SKEW, True),
    (T0 - MAX_CLOCK_SKEW - timedelta(seconds=1), False),
    (datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC), False),
])
def test_phone_time_before_the_event_began(observed: datetime, kept: bool) -> None:
    """A report observed well before the event started cannot belong to it: clamped and
    flagged; a slow clock within the skew is believed."""
    expected = (observed, False) if kept else (minutes(5), True)
    assert observed_time(observed, minutes(5), T0) == expected


def test_phone_time_in_another_zone_is_compared_as_an_instant() -> None:
    """08:03-05:00 is hours after 08:00Z, so it is far in the future and clamped."""
    eastern = datetime(2026, 11, 29, 8, 3, tzinfo=timezone(timedelta(hours=-5)))
    assert observed_time(eastern, T0, T0) == (T0, True)


def test_phone_time_without_offset_is_refused() -> None:
    """A time without a UTC offset is ambiguous, and refused naming observed_at."""
    with pytest.raises(Invalid) as error:
        observed_time(datetime(2026, 11, 29, 8, 0), T0, T0)
    assert error.value.field == "observed_at"


def test_a_received_report_is_kept_with_the_time_it_was_taken_at() -> None:
    """The phone's words and counts are kept as sent; its clock only as observed_time
    takes it, and who sent it and when it arrived are ours."""
    sent = CheckInReport(client_id=uuid.UUID(int=5), room_id=ROOMS[1],
                         status=CheckInStatus.NEEDS_HELP, students_present=18, injured=1,
                         note="nurse needed", observed_at=minutes(30))
    kept = received(sent, checkin_id=uuid.UUID(int=6), event=event(),
                    reported_by=TEACHER, received_at=minutes(5))
    assert kept == CheckIn(id=uuid.UUID(int=6), event_id=event().id, room_id=ROOMS[1],
                           client_id=uuid.UUID(int=5), status=CheckInStatus.NEEDS_HELP,
                           students_present=18, injured=1, note="nurse needed",
                           observed_at=minutes(5), received_at=minutes(5),
                           clock_skew_flagged=True, reported_by=TEACHER)


@pytest.mark.parametrize("field", ["students_present", "students_missing", "injured"])
def test_a_report_counts_at_most_ten_thousand(field: str) -> None:
    body = {"client_id": str(uuid.UUID(int=5)), "room_id": str(ROOMS[0]), "status": "ok",
            "students_present": 0, field: 10001}
    with pytest.raises(msgspec.ValidationError, match=f"\\$.{field}"):
        msgspec.convert(body, CheckInReport)


# --- reports for ended events --------------------------------------------------------


def test_active_event_takes_any_report() -> None:
    """While an event is active every report is taken, whatever its time."""
    accept_late_checkin(event(), minutes(-30))
    accept_late_checkin(event(), minutes(300))


@pytest.mark.parametrize("status", [EventStatus.ALL_CLEAR, EventStatus.CANCELLED,
                                    EventStatus.SUPERSEDED])
def test_late_report_observed_before_the_end_is_taken(status: EventStatus) -> None:
    """An offline phone's report from before the all-clear still counts."""
    accept_late_checkin(event(status, ended_at=minutes(10)), minutes(10) - timedelta(seconds=1))


@pytest.mark.parametrize("observed", [10, 10.5, 60])
@pytest.mark.parametrize("status", [EventStatus.ALL_CLEAR, EventStatus.CANCELLED,
                                    EventStatus.SUPERSEDED])
def test_report_observed_at_or_after_the_end_is_refused(status: EventStatus,
                                                        observed: float) -> None:
    """A report observed at or after the end is a 409 that says when the event ended."""
    with pytest.raises(EventClosed) as error:
        accept_late_checkin(event(status, ended_at=minutes(10)), minutes(observed))
    assert minutes(10).isoformat() in str(error.value) and status in str(error.value)


# --- which report wins ---------------------------------------------------------------


def test_newer_observation_wins_even_if_it_arrived_first() -> None:
    """A queued older report arriving late does not overwrite a newer one."""
    newer = report(observed=5, received=5, client=1)
    older = report(observed=2, received=9, client=2)
    assert supersedes(newer, older) and not supersedes(older, newer)


def test_same_observation_time_later_arrival_wins() -> None:
    """Between two reports observed at the same time, the later arrival wins."""
    first, second = report(observed=5, received=5, client=9), report(observed=5, received=6)
    assert supersedes(second, first) and not supersedes(first, second)


def test_full_tie_is_broken_by_client_id() -> None:
    """Identical times still give one winner, the same whichever arrived first."""
    low, high = report(client=1), report(client=2)
    assert supersedes(high, low) and not supersedes(low, high)


def test_a_replay_does_not_supersede_itself() -> None:
    """The same report again changes nothing."""
    assert not supersedes(report(), report())


def test_latest_per_room_picks_each_rooms_newest() -> None:
    """Each room keeps its newest report; rooms do not affect each other."""
    a_old, a_new = report(ROOMS[0], observed=1, client=1), report(ROOMS[0], observed=3, client=2)
    b = report(ROOMS[1], observed=2, client=3)
    assert latest_per_room([a_new, b, a_old]) == {ROOMS[0]: a_new, ROOMS[1]: b}
    assert latest_per_room([]) == {}


# --- accountability ------------------------------------------------------------------


def test_account_adds_up_the_school() -> None:
    """Counts, statuses and students come from each room's current report only."""
    latest = {
        ROOMS[0]: report(ROOMS[0], client=1, present=20, missing=1, extra=2, injured=0),
        ROOMS[2]: report(ROOMS[2], client=2, status=CheckInStatus.NEEDS_HELP, present=18,
                         missing=0, extra=0, injured=3),
    }
    result = account(ROOMS, latest)
    assert (result.rooms_total, result.rooms_reported) == (4, 2)
    assert (result.rooms_ok, result.rooms_needs_help) == (1, 1)
    assert result.unreported_room_ids == (ROOMS[1], ROOMS[3])
    assert result.students == StudentCounts(present=38, missing=1, extra=2, injured=3)
    assert [room.room_id for room in result.rooms] == ROOMS
    assert [room.checkin for room in result.rooms] == [latest[ROOMS[0]], None,
                                                       latest[ROOMS[2]], None]


def test_account_keeps_the_given_room_order() -> None:
    """Unreported rooms are listed in the order the rooms were given."""
    order = [ROOMS[3], ROOMS[0], ROOMS[2], ROOMS[1]]
    assert account(order, {}).unreported_room_ids == tuple(order)


def test_account_ignores_reports_for_unknown_rooms() -> None:
    """A report for a room no longer in the school is left out of every figure."""
    gone = uuid.UUID(int=99)
    result = account(ROOMS[:1], {gone: report(gone, present=30)})
    assert (result.rooms_total, result.rooms_reported) == (1, 0)
    assert result.students == StudentCounts(present=0, missing=0, extra=0, injured=0)


def test_account_counts_a_repeated_room_once() -> None:
    """A room listed twice is one room."""
    result = account([ROOMS[0], ROOMS[0]], {ROOMS[0]: report()})
    assert (result.rooms_total, result.rooms_reported, result.students.present) == (1, 1, 20)


def test_account_of_a_school_without_rooms() -> None:
    """No rooms means nothing to report, not an error."""
    assert account([], {}).rooms_total == 0


# --- properties: arrival order never matters -----------------------------------------

checkins = st.lists(
    st.builds(
        lambda room, observed, received, status, present, client: report(
            room, observed=observed, received=received, status=status, present=present,
            client=client),
        room=st.sampled_from(ROOMS),
        observed=st.integers(0, 4),  # few distinct times, so ties are common
        received=st.integers(0, 4),
        status=st.sampled_from(CheckInStatus),
        present=st.integers(0, 40),
        client=st.integers(1, 2**64),
    ),
    max_size=25,
    unique_by=lambda c: c.client_id,  # client_id is unique per event: replays are deduped
)


def _key(c: CheckIn) -> tuple:
    return c.observed_at, c.received_at, c.client_id


@given(st.data())
def test_any_arrival_order_gives_the_same_result(data: st.DataObject) -> None:
    """Every permutation of the same reports gives the same rooms and accountability."""
    reports = data.draw(checkins)
    shuffled = data.draw(st.permutations(reports))
    assert latest_per_room(shuffled) == latest_per_room(reports)
    assert account(ROOMS, latest_per_room(shuffled)) == account(ROOMS, latest_per_room(reports))


@given(st.data())
def test_incremental_merge_equals_the_whole_set(data: st.DataObject) -> None:
    """Folding reports in one at a time (as the database does) ends where the batch does."""
    reports = data.draw(checkins)
    stored: dict[uuid.UUID, CheckIn] = {}
    for arrival in data.draw(st.permutations(reports)):
        stored[arrival.room_id] = latest_of(stored.get(arrival.room_id), arrival)
    assert stored == latest_per_room(reports)


@given(checkins)
def test_winner_is_the_newest_observation(reports: list[CheckIn]) -> None:
    """Each room's winner has the greatest (observed, received, client_id) of the room."""
    latest = latest_per_room(reports)
    assert set(latest) == {c.room_id for c in reports}
    for room, winner in latest.items():
        assert winner == max((c for c in reports if c.room_id == room), key=_key)


@given(checkins)
def test_replays_change_nothing(reports: list[CheckIn]) -> None:
    """Receiving every report twice gives the same rooms as receiving each once."""
    assert latest_per_room(reports + reports[::-1]) == latest_per_room(reports)


def test_checkin_rejects_negative_counts_when_decoded() -> None:
    """Counts are >= 0 wherever a CheckIn is decoded (e.g. from a stored row)."""
    row = msgspec.to_builtins(report())
    row["students_missing"] = -1
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(row, type=CheckIn)


def test_supersedes_orders_totally() -> None:
    """Sorting by `supersedes` is the same whatever the starting order."""
    reports = [report(observed=o, received=r, client=c)
               for o, r, c in [(1, 2, 3), (1, 2, 1), (2, 1, 2), (1, 3, 4)]]
    cmp = functools.cmp_to_key(lambda a, b: 1 if supersedes(a, b) else -1 if supersedes(b, a)
                               else 0)
    assert sorted(reports, key=cmp) == sorted(reversed(reports), key=cmp)
    assert [c.client_id.int for c in sorted(reports, key=cmp)] == [1, 3, 4, 2]
