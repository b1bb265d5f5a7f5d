"""Queries about check-ins: store idempotently, keep each room's current report,
read accountability."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from db import timeline
from db.pool import Connection
from domain.checkins import CheckIn
from domain.events import TimelineKind
from domain.schools import Room
from domain.srp import EventStatus
from domain.students import StudentMark
from domain.values import Value

_COLUMNS = """id, event_id, room_id, client_id, status, students_present, students_missing,
    students_extra, injured, location, note, observed_at, received_at, clock_skew_flagged,
    reported_by"""
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_INPUT = [n for n in _NAMES if n != "event_id"]  # a batch's columns: all of one event
_ENCODER = msgspec.json.Encoder()
_MARKS = msgspec.json.Decoder(tuple[StudentMark, ...])


def _marks(checkin: str, as_: str = "students") -> str:
    """SQL for the students a check-in (`checkin`, the table or its alias) names, as JSON
    text by student id (as `received` keeps them)."""
    return f"{checkin}.students::text as {as_}"


def _checkin(row: asyncpg.Record, prefix: str = "") -> CheckIn:
    """A check-in from its columns, and its students if the query read them."""
    fields = {n: row[prefix + n] for n in _NAMES}
    marks = row.get(prefix + "students")
    if marks is not None:
        fields["students"] = _MARKS.decode(marks)
    return msgspec.convert(fields, CheckIn)


# store_checkins -- a batch of one event's reports in one statement, so one transaction,
# one WAL flush and one hold of the event's row (which numbers its timeline) for all of
# them: each report unless its client_id was seen, its room is not the school's, or the
# event ended before it was observed (the domain's `accept_late_checkin`, decided here
# again under the event's lock because the caller's copy of the event may be a second
# old); each room's current report if the newest of the batch is newer than it (the
# domain's `supersedes` order); timeline entries numbered in arrival order, and their
# notifications; each stored report with the students it names (from its detail, the
# check-in as JSON), so a report and its roll call are one row. One row per report, in arrival
# order, tells what happened to it: its seq if stored, and whether it asks for help (it
# needs help, or its room's help is open: one probe of a small index, for a stored report
# only); else the report stored before with its client_id and its students (this
# statement's snapshot cannot see one stored by a concurrent one), whether it was in time
# and whether its room is the school's; and the event's status and end, as the lock found
# them.
_STORE = f"""
with event as (
    select status as event_status, ended_at from events where id = $1 for update
), input as (
    select t.*, r.id is not null as our_room,
           event.event_status = 'active' or t.observed_at < event.ended_at as in_time
    from unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::int[], $8::int[],
                $9::int[], $10::int[], $11::text[], $12::text[], $13::timestamptz[],
                $14::timestamptz[], $15::bool[], $16::uuid[], $17::text[])
         with ordinality as t(id, room_id, client_id, status, students_present,
                              students_missing, students_extra, injured, location, note,
                              observed_at, received_at, clock_skew_flagged, reported_by,
                              detail, arrival)
    left join rooms r on r.id = t.room_id and r.school_id = $2
    cross join event
), new as (
    insert into checkins ({_COLUMNS}, school_id, students)
    select id, $1, room_id, client_id, status, students_present, students_missing,
           students_extra, injured, location, note, observed_at, received_at,
           clock_skew_flagged, reported_by, $2, coalesce(detail::json -> 'students', '[]')
    from input where our_room and in_time order by arrival
    on conflict on constraint checkins_event_client_key do nothing
    returning id, room_id, observed_at, received_at, client_id
), newest as (
    select distinct on (room_id) * from new
    order by room_id, observed_at desc, received_at desc, client_id desc
), current_report as (
    insert into room_reports (event_id, room_id, checkin_id, observed_at, received_at, client_id)
    select $1, room_id, id, observed_at, received_at, client_id from newest
    on conflict (event_id, room_id) do update
        set checkin_id = excluded.checkin_id, observed_at = excluded.observed_at,
            received_at = excluded.received_at, client_id = excluded.client_id
        where (excluded.observed_at, excluded.received_at, excluded.client_id)
            > (room_reports.observed_at, room_reports.received_at, room_reports.client_id)
), counted as (
    update events set last_seq = last_seq + (select count(*) from new)
    where id = $1 and exists (select 1 from new) returning last_seq
), numbered as (
    select i.*, c.last_seq - count(*) over () + row_number() over (order by i.arrival) as seq,
           '{TimelineKind.CHECKIN}'::text as kind
    from new n join input i on i.id = n.id cross join counted c
), entry as (
    insert into event_timeline (event_id, seq, at, kind, actor_id, detail)
    select $1, seq, received_at, kind, reported_by, detail::json from numbered
), announced as (
    select id, seq, {timeline.announce("$1::uuid", "seq", "received_at", "kind",
                                       "reported_by", "detail")}
    from numbered order by seq
)
select i.id, a.seq, i.in_time, i.our_room, e.event_status, e.ended_at, p.*,
       a.seq is not null and (i.status = 'needs_help' or exists (
           select 1 from assists x where x.event_id = $1 and x.room_id = i.room_id
             and x.kind = 'needs_help' and x.resolved_at is null)) as asks_help
from input i cross join event e
left join announced a on a.id = i.id
left join lateral (  -- one index probe per report not stored, not a scan of the event's
    select {", ".join(f"c.{n} as p_{n}" for n in _NAMES)}, {_marks("c", "p_students")}
    from checkins c
    where a.id is null and c.event_id = $1 and c.client_id = i.client_id
    limit 1  -- (there is one at most) keeps the planner from making it a join
) p on true
order by i.arrival
"""


class Stored(Value, tag=True):
    """A report stored: its place on the event's timeline, whether the event had
    already ended (a late report, observed before the end), and whether it asks for help
    (it needs help, or its room's help is still open)."""

    seq: int
    late: bool
    asks_help: bool = False


class Replayed(Value, tag=True):
    """The report's client_id was stored before (or earlier in its batch): that report,
    unchanged."""

    checkin: CheckIn


class TooLate(Value, tag=True):
    """The event had ended when the report was observed: its status and end, as the
    report's statement found them under the event's lock."""

    status: EventStatus
    ended_at: datetime | None


class ForeignRoom(Value, tag=True):
    """The report's room is not one of the event's school."""

    room_id: uuid.UUID


Outcome = Stored | Replayed | TooLate | ForeignRoom


async def store_checkins(conn: Connection, event_id: uuid.UUID, school_id: uuid.UUID,
                         batch: list[CheckIn]) -> dict[uuid.UUID, Outcome]:
    """Store new reports of one event and announce them; each report's outcome, by
    check-in id. A client_id seen before makes a report a replay whatever else is wrong
    with it; then the end of the event comes before the room."""
    columns = [[getattr(c, n) for c in batch] for n in _INPUT]
    rows = await conn.fetch(_STORE, event_id, school_id, *columns,
                            [_ENCODER.encode(c).decode() for c in batch])
    earlier = {c.client_id: c for c, r in zip(batch, rows, strict=True) if r["seq"] is not None}
    return {c.id: await _outcome(conn, c, r, earlier) for c, r in zip(batch, rows, strict=True)}


async def _outcome(conn: Connection, checkin: CheckIn, row: asyncpg.Record,
                   stored: dict[uuid.UUID, CheckIn]) -> Outcome:
    if row["seq"] is not None:
        return Stored(row["seq"], row["event_status"] != EventStatus.ACTIVE, row["asks_help"])
    if row["p_id"] is not None:
        return Replayed(_checkin(row, "p_"))
    if checkin.client_id in stored:
        return Replayed(stored[checkin.client_id])
    if not row["in_time"]:
        return TooLate(EventStatus(row["event_status"]), row["ended_at"])
    if not row["our_room"]:
        return ForeignRoom(checkin.room_id)
    # taken, yet not stored: a concurrent statement stored its client_id first
    replayed = await checkin_by_client_id(conn, checkin.event_id, checkin.client_id)
    if replayed is None:
        raise LookupError(f"check-in {checkin.id} was neither stored nor replayed")
    return Replayed(replayed)


# checkin_by_client_id -- the report a phone already sent with this client_id, if any
_CHECKIN_BY_CLIENT_ID = f"""
select {_COLUMNS}, {_marks("checkins")} from checkins where event_id = $1 and client_id = $2
"""


async def checkin_by_client_id(conn: Connection, event_id: uuid.UUID,
                               client_id: uuid.UUID) -> CheckIn | None:
    row = await conn.fetchrow(_CHECKIN_BY_CLIENT_ID, event_id, client_id)
    return _checkin(row) if row else None


# checkins_of -- every report of the event, superseded ones included (timing record)
_CHECKINS_OF = f"select {_COLUMNS}, {_marks('checkins')} from checkins where event_id = $1"


async def checkins_of(conn: Connection, event_id: uuid.UUID) -> list[CheckIn]:
    rows = await conn.fetch(_CHECKINS_OF, event_id)
    return [_checkin(r) for r in rows]


# reports_by -- the newest report of each room a person reported during the event
_REPORTS_BY = f"""
select distinct on (room_id) {_COLUMNS}, {_marks("checkins")} from checkins
where event_id = $1 and reported_by = $2
order by room_id, observed_at desc, received_at desc, client_id desc
"""


async def reports_by(conn: Connection, event_id: uuid.UUID,
                     reporter: uuid.UUID) -> list[CheckIn]:
    """Newest observation first."""
    rows = await conn.fetch(_REPORTS_BY, event_id, reporter)
    return sorted(map(_checkin, rows), key=lambda c: c.observed_at, reverse=True)


# rooms_with_reports -- every room of the school, with its current report if any (and the
# students it names)
_ROOMS_WITH_REPORTS = f"""
select r.id as r_id, r.code as r_code, r.name as r_name, r.building as r_building,
       r.floor as r_floor, {", ".join("c." + n for n in _NAMES)}, {_marks("c")}
from rooms r
left join room_reports rr on rr.room_id = r.id and rr.event_id = $1
left join checkins c on c.id = rr.checkin_id
where r.school_id = $2
order by r.code
"""


async def rooms_with_reports(conn: Connection, event_id: uuid.UUID,
                             school_id: uuid.UUID) -> tuple[list[Room], dict[uuid.UUID, CheckIn]]:
    """The school's rooms by code (where each is, for a dashboard's plan of the school),
    and each reported room's current report."""
    rows = await conn.fetch(_ROOMS_WITH_REPORTS, event_id, school_id)
    rooms = [Room(id=r["r_id"], code=r["r_code"], name=r["r_name"], building=r["r_building"],
                  floor=r["r_floor"]) for r in rows]
    latest = {r["r_id"]: _checkin(r) for r in rows if r["id"] is not None}
    return rooms, latest
