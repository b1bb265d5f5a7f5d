"""Queries about check-ins: store idempotently, keep each room's current report,
read accountability."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from db import timeline
from db.pool import Connection
from domain.checkins import CheckIn
from domain.schools import Room

_COLUMNS = """id, event_id, room_id, client_id, status, students_present, students_missing,
    students_extra, injured, location, note, observed_at, received_at, clock_skew_flagged,
    reported_by"""
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_ENCODER = msgspec.json.Encoder()


def _checkin(row: asyncpg.Record) -> CheckIn:
    return msgspec.convert({n: row[n] for n in _NAMES}, CheckIn)


# store_checkins -- a batch of one event's reports in one statement, so one transaction,
# one WAL flush and one hold of the event's row (which numbers its timeline) for all of
# them: each report unless its client_id was seen, its room is not the school's, or the
# event ended before it was observed (the domain's `accept_late_checkin`, decided here
# again under the event's lock because the caller's copy of the event may be a second
# old); each room's current report if the newest of the batch is newer than it (the
# domain's `supersedes` order); timeline entries numbered in arrival order; their
# notifications; and whether the event had ended (a late report changes its record).
_STORE = f"""
with event as (
    select status as event_status, ended_at from events where id = $1 for update
), input as (
    select t.*
    from unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::int[], $8::int[],
                $9::int[], $10::int[], $11::text[], $12::text[], $13::timestamptz[],
                $14::timestamptz[], $15::bool[], $16::uuid[], $17::text[], $18::text[],
                $19::text[], $20::bool[])
         with ordinality as t(id, room_id, client_id, status, students_present,
                              students_missing, students_extra, injured, location, note,
                              observed_at, received_at, clock_skew_flagged, reported_by,
                              detail, at, notified, complete, arrival)
    join rooms r on r.id = t.room_id and r.school_id = $2
    cross join event
    where event.event_status = 'active' or t.observed_at < event.ended_at
), new as (
    insert into checkins ({_COLUMNS}, school_id)
    select id, $1, room_id, client_id, status, students_present, students_missing,
           students_extra, injured, location, note, observed_at, received_at,
           clock_skew_flagged, reported_by, $2
    from input order by arrival
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
    select i.*, c.last_seq - count(*) over () + row_number() over (order by i.arrival) as seq
    from new n join input i on i.id = n.id cross join counted c
), entry as (
    insert into event_timeline (event_id, seq, at, kind, actor_id, detail)
    select $1, seq, received_at, 'checkin', reported_by, detail::json from numbered
)
select id, seq, event_status <> 'active' as late, pg_notify('{timeline.CHANNEL}', json_build_object(
    'event_id', $1::uuid, 'seq', seq, 'at', at::json, 'kind', 'checkin',
    'actor_id', reported_by, 'detail', notified::json, 'complete', complete)::text)
from numbered cross join event order by seq
"""


class Stored(msgspec.Struct, frozen=True):
    """A report stored: its place on the event's timeline, and whether the event had
    already ended (a late report, observed before the end)."""

    seq: int
    late: bool


async def store_checkins(conn: Connection, event_id: uuid.UUID, school_id: uuid.UUID,
                         batch: list[CheckIn]) -> dict[uuid.UUID, Stored]:
    """Store new reports of one event and announce them, by check-in id. A report missing
    from the answer was not stored: its client_id was seen before (also earlier in the
    batch), its room is not one of the school's, or the event ended before it was
    observed."""
    details = [_ENCODER.encode(c) for c in batch]
    notes = [timeline.notifiable(d) for d in details]
    columns = [[getattr(c, n) for c in batch] for n in _INPUT]
    rows = await conn.fetch(
        _STORE, event_id, school_id, *columns, [d.decode() for d in details],
        [_ENCODER.encode(c.received_at).decode() for c in batch],
        [n.decode() for n, _ in notes], [complete for _, complete in notes])
    return {r["id"]: Stored(r["seq"], r["late"]) for r in rows}


_INPUT = ["id", "room_id", "client_id", "status", "students_present", "students_missing",
          "students_extra", "injured", "location", "note", "observed_at", "received_at",
          "clock_skew_flagged", "reported_by"]


# checkin_by_client_id -- the report a phone already sent with this client_id, if any
_CHECKIN_BY_CLIENT_ID = f"select {_COLUMNS} from checkins where event_id = $1 and client_id = $2"


async def checkin_by_client_id(conn: Connection, event_id: uuid.UUID,
                               client_id: uuid.UUID) -> CheckIn | None:
    row = await conn.fetchrow(_CHECKIN_BY_CLIENT_ID, event_id, client_id)
    return _checkin(row) if row else None


# checkins_of -- every report of the event, superseded ones included (timing record)
_CHECKINS_OF = f"select {_COLUMNS} from checkins where event_id = $1"


async def checkins_of(conn: Connection, event_id: uuid.UUID) -> list[CheckIn]:
    rows = await conn.fetch(_CHECKINS_OF, event_id)
    return [_checkin(r) for r in rows]


# rooms_with_reports -- every room of the school, with its current report if any
_ROOMS_WITH_REPORTS = f"""
select r.id as r_id, r.code as r_code, r.name as r_name, {", ".join("c." + n for n in _NAMES)}
from rooms r
left join room_reports rr on rr.room_id = r.id and rr.event_id = $1
left join checkins c on c.id = rr.checkin_id
where r.school_id = $2
order by r.code
"""


async def rooms_with_reports(conn: Connection, event_id: uuid.UUID,
                             school_id: uuid.UUID) -> tuple[list[Room], dict[uuid.UUID, CheckIn]]:
    """The school's rooms by code, and each reported room's current report."""
    rows = await conn.fetch(_ROOMS_WITH_REPORTS, event_id, school_id)
    rooms = [Room(id=r["r_id"], code=r["r_code"], name=r["r_name"]) for r in rows]
    latest = {r["r_id"]: _checkin(r) for r in rows if r["id"] is not None}
    return rooms, latest
