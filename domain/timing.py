"""The drill timing record: how long until everyone was alerted, until each room reported,
until the all-clear, and which rooms never reported.

It is worked out from what the server stored (the timeline, the outbox, acknowledgements,
check-ins), never from a client's claim of how long things took. A room's report counts at
the time its phone observed it (already clamped by `checkins.observed_time` when the phone's
clock was wrong), so a report an offline phone replays after the all-clear counts when it
was made; a report observed shortly before the start (a phone clock a little behind) counts
as made at the start. Every time is in seconds since the start, to one decimal.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from domain.checkins import CheckIn, CheckInStatus, StudentCounts, account, latest_per_room
from domain.events import Event
from domain.roll_call import full_accountability_at
from domain.schools import Room
from domain.srp import Action
from domain.values import Value

# "Acknowledged within a minute": the figure docs/records.md names, and the drill SMS window.
ACK_WINDOW = timedelta(seconds=60)
# Start -> the time this share of the school's rooms had reported (rooms_50_s ...).
ROOM_SHARES = (50, 90, 100)

Seconds = Callable[[datetime], float]  # an instant -> seconds since the event started


class SentMessage(Value, kw_only=True):
    """One outbox message as timing sees it: why it went (`alert`, `action`, ...), when a
    provider first took it (None if never), and whether it failed for good."""

    user_id: uuid.UUID
    kind: str
    handed_off_at: datetime | None
    failed: bool


class Acknowledgement(Value, kw_only=True):
    user_id: uuid.UUID
    at: datetime


class ActionTaken(Value, kw_only=True):
    """The start (with its first action) or an action change, from the timeline."""

    at: datetime
    action: Action


class TimingFacts(Value, kw_only=True):
    """Everything stored about one event that its timing record is computed from."""

    rooms: Sequence[Room]
    checkins: Sequence[CheckIn]
    messages: Sequence[SentMessage]
    acknowledgements: Sequence[Acknowledgement]
    actions: Sequence[ActionTaken]
    # the students expected at the start (the roll call's roster); none: no roster
    expected_students: frozenset[uuid.UUID] = frozenset()


class RoomRef(Value, kw_only=True):
    room_id: uuid.UUID
    code: str
    name: str


class RoomTiming(Value, kw_only=True):
    """One room: seconds until its first report, and its current report (the newest
    observation) with who made it and what they wrote; all None for a room that never
    reported. `note` defaults to None so that records kept before it existed still read."""

    room_id: uuid.UUID
    code: str
    name: str
    time_to_report_s: float | None
    status: CheckInStatus | None
    students_present: int | None
    students_missing: int | None
    students_extra: int | None
    injured: int | None
    note: str | None = None  # the reporter's words, e.g. "two students hurt, need nurse"
    reported_by: uuid.UUID | None
    reports: int  # how many reports the room sent (the latest counts)
    arrived_after_end: bool  # its first report reached us after the end (an offline phone)
    clock_skew_flagged: bool  # the phone's clock was wrong on its current report


class MarkerKind(StrEnum):
    ACTION = "action"  # the start's action, or a change of action
    END = "end"  # all-clear, cancelled or superseded


class Marker(Value, kw_only=True):
    at_s: float
    kind: MarkerKind
    label: str  # the action, or the final status


class Chart(Value, kw_only=True):
    """What the timeline chart draws besides the rooms: when each alert message was
    handed to a provider, when each recipient acknowledged, and the action changes and
    end, each in seconds since the start, in order."""

    handoffs_s: list[float]
    acknowledgements_s: list[float]
    markers: list[Marker]


class TimingRecord(Value, kw_only=True):
    """docs/records.md's "Drill timing record". `as_of_s` is how far the record reaches: the
    end, or for an active event the moment it was computed; `duration_s` is start -> end
    (all-clear, cancellation or the real event that superseded a drill), None while active.
    Alerts are the messages of the start (kind `alert`); recipients are the people they
    went to. Figures that never happened are None (no room reported, nobody alerted)."""

    as_of_s: float
    duration_s: float | None
    notified_first_s: float | None
    notified_all_s: float | None
    alerts: int
    alerts_handed_off: int
    alerts_failed: int
    recipients: int
    acknowledged: int
    acknowledged_60s: int
    acknowledged_pct_60s: float | None
    first_checkin_s: float | None
    rooms_50_s: float | None
    rooms_90_s: float | None
    rooms_100_s: float | None
    rooms_total: int
    rooms_reported: int
    rooms_ok: int
    rooms_needs_help: int
    students: StudentCounts
    unreported_rooms: list[RoomRef]
    rooms: list[RoomTiming]
    chart: Chart
    # start -> the first moment every expected student had a status in the rooms' current
    # reports (domain/roll_call.py); None with no roster, or never (records kept before
    # it existed read as None)
    to_full_student_accountability_s: float | None = None
    students_expected: int = 0  # the roster's size at the start (0: no roster)


def timing_record(event: Event, facts: TimingFacts, *, now: datetime) -> TimingRecord:
    """The event's timing record; for an active event, so far (as of `now`)."""
    start = event.started_at

    def seconds(at: datetime) -> float:
        return round(max((at - start).total_seconds(), 0.0), 1)

    rooms = _room_timings(event, facts.rooms, facts.checkins, seconds)
    tally = account([r.id for r in facts.rooms], latest_per_room(facts.checkins))
    firsts = sorted(r.time_to_report_s for r in rooms if r.time_to_report_s is not None)
    by_share = {share: _time_to_share(firsts, len(rooms), share) for share in ROOM_SHARES}

    alerts = [m for m in facts.messages if m.kind == "alert"]
    handoffs = sorted(seconds(m.handed_off_at) for m in alerts if m.handed_off_at is not None)
    recipients = {m.user_id for m in alerts}
    acks = sorted(a.at for a in facts.acknowledgements if a.user_id in recipients)
    within = sum(at - start <= ACK_WINDOW for at in acks)

    end = event.ended_at
    full = full_accountability_at(facts.expected_students, facts.checkins)
    return TimingRecord(
        as_of_s=seconds(end or now),
        duration_s=seconds(end) if end else None,
        notified_first_s=handoffs[0] if handoffs else None,
        notified_all_s=handoffs[-1] if handoffs else None,
        alerts=len(alerts), alerts_handed_off=len(handoffs),
        alerts_failed=sum(m.failed for m in alerts),
        recipients=len(recipients), acknowledged=len(acks), acknowledged_60s=within,
        acknowledged_pct_60s=round(100 * within / len(recipients), 1) if recipients else None,
        first_checkin_s=firsts[0] if firsts else None,
        rooms_50_s=by_share[50], rooms_90_s=by_share[90], rooms_100_s=by_share[100],
        rooms_total=tally.rooms_total, rooms_reported=tally.rooms_reported,
        rooms_ok=tally.rooms_ok, rooms_needs_help=tally.rooms_needs_help,
        students=tally.students,
        unreported_rooms=[RoomRef(room_id=r.room_id, code=r.code, name=r.name)
                          for r in rooms if r.status is None],
        rooms=rooms,
        chart=Chart(handoffs_s=handoffs, acknowledgements_s=[seconds(at) for at in acks],
                    markers=_markers(event, facts.actions, seconds)),
        to_full_student_accountability_s=seconds(full) if full is not None else None,
        students_expected=len(facts.expected_students),
    )


def _room_timings(event: Event, rooms: Sequence[Room], checkins: Iterable[CheckIn],
                  seconds: Seconds) -> list[RoomTiming]:
    """Every room of the school, reported or not, in the order given; a report for a room
    the school no longer has is left out (as accountability does)."""
    reports: dict[uuid.UUID, list[CheckIn]] = {}
    for checkin in checkins:
        reports.setdefault(checkin.room_id, []).append(checkin)
    timings = []
    for room in dict((r.id, r) for r in rooms).values():
        sent = reports.get(room.id, [])
        if not sent:
            timings.append(RoomTiming(
                room_id=room.id, code=room.code, name=room.name, time_to_report_s=None,
                status=None, students_present=None, students_missing=None,
                students_extra=None, injured=None, reported_by=None, reports=0,
                arrived_after_end=False, clock_skew_flagged=False))
            continue
        first = min(sent, key=lambda c: (c.observed_at, c.received_at))
        current = latest_per_room(sent)[room.id]
        timings.append(RoomTiming(
            room_id=room.id, code=room.code, name=room.name,
            time_to_report_s=seconds(first.observed_at), status=current.status,
            students_present=current.students_present,
            students_missing=current.students_missing,
            students_extra=current.students_extra, injured=current.injured,
            note=current.note, reported_by=current.reported_by, reports=len(sent),
            arrived_after_end=event.ended_at is not None and first.received_at > event.ended_at,
            clock_skew_flagged=current.clock_skew_flagged))
    return timings


def _time_to_share(firsts: Sequence[float], rooms_total: int, share: int) -> float | None:
    """When `share` % of the rooms (rounded up to whole rooms) had reported; None if that
    never happened or the school has no rooms."""
    if rooms_total == 0:
        return None
    needed = -(-share * rooms_total // 100)
    return firsts[needed - 1] if len(firsts) >= needed else None


def _markers(event: Event, actions: Iterable[ActionTaken], seconds: Seconds) -> list[Marker]:
    """The start's action, each change of action, and the end."""
    markers = [Marker(at_s=seconds(a.at), kind=MarkerKind.ACTION, label=a.action.value)
               for a in sorted(actions, key=lambda a: a.at)]
    if event.ended_at is not None:
        markers.append(Marker(at_s=seconds(event.ended_at), kind=MarkerKind.END,
                              label=event.status.value))
    return markers
