"""Queries about check-ins: store idempotently, keep each room's current report,
read accountability."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from db import timeline
from domain.checkins import CheckIn
from domain.errors import Invalid
from domain.schools import Room

_COLUMNS = """id, event_id, room_id, client_id, status, students_present, students_missing,
    students_extra, injured, location, note, observed_at, received_at, clock_skew_flagged,
    reported_by"""
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_ENCODER = msgspec.json.Encoder()


def _checkin(row: asyncpg.Record) -> CheckIn:
    return msgspec.convert({n: row[n] for n in _NAMES}, CheckIn)


# store_checkin -- one statement, so one implicit transaction and no client round trip
# while the event's row is locked for the next timeline seq (the hot spot of a storm):
# the report (unless its client_id was seen), its room's current report if it is newer
# (the domain's `supersedes` order), the timeline entry and its notification.
_STORE = f"""
with new as (
    insert into checkins ({_COLUMNS}, school_id)
    values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
    on conflict on constraint checkins_event_client_key do nothing
    returning id, event_id, room_id, observed_at, received_at, client_id
), current_report as (
    insert into room_reports (event_id, room_id, checkin_id, observed_at, received_at, client_id)
    select event_id, room_id, id, observed_at, received_at, client_id from new
    on conflict (event_id, room_id) do update
        set checkin_id = excluded.checkin_id, observed_at = excluded.observed_at,
            received_at = excluded.received_at, client_id = excluded.client_id
        where (excluded.observed_at, excluded.received_at, excluded.client_id)
            > (room_reports.observed_at, room_reports.received_at, room_reports.client_id)
), next as (
    update events set last_seq = last_seq + 1
    where id = $2 and exists (select 1 from new) returning last_seq
), entry as (
    insert into event_timeline (event_id, seq, at, kind, actor_id, detail)
    select $2, last_seq, $13, 'checkin', $15, $17::text::json from next
    returning seq
)
select seq, pg_notify('{timeline.CHANNEL}', json_build_object(
    'event_id', $2::uuid, 'seq', seq, 'at', $18::text::json, 'kind', 'checkin',
    'actor_id', $15::uuid, 'detail', $19::text::json, 'complete', $20::boolean)::text)
from entry
"""


async def store_checkin(conn: asyncpg.Connection, checkin: CheckIn,
                        school_id: uuid.UUID) -> int | None:
    """Store a new report and announce it; its timeline seq, or None for a replayed
    client_id (nothing is changed then)."""
    detail = _ENCODER.encode(checkin)
    notified, complete = timeline.notifiable(detail)
    try:
        return await conn.fetchval(
            _STORE, *(getattr(checkin, n) for n in _NAMES), school_id, detail.decode(),
            _ENCODER.encode(checkin.received_at).decode(), notified.decode(), complete)
    except asyncpg.ForeignKeyViolationError:
        raise Invalid(f"room {checkin.room_id} is not a room of this event's school",
                      field="room_id") from None


# checkin_by_client_id -- the report a phone already sent with this client_id, if any
_CHECKIN_BY_CLIENT_ID = f"select {_COLUMNS} from checkins where event_id = $1 and client_id = $2"


async def checkin_by_client_id(conn: asyncpg.Connection, event_id: uuid.UUID,
                               client_id: uuid.UUID) -> CheckIn | None:
    row = await conn.fetchrow(_CHECKIN_BY_CLIENT_ID, event_id, client_id)
    return _checkin(row) if row else None


# checkins_of -- every report of the event, superseded ones included (timing record)
_CHECKINS_OF = f"select {_COLUMNS} from checkins where event_id = $1"


async def checkins_of(conn: asyncpg.Connection, event_id: uuid.UUID) -> list[CheckIn]:
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


async def rooms_with_reports(conn: asyncpg.Connection, event_id: uuid.UUID,
                             school_id: uuid.UUID) -> tuple[list[Room], dict[uuid.UUID, CheckIn]]:
    """The school's rooms by code, and each reported room's current report."""
    rows = await conn.fetch(_ROOMS_WITH_REPORTS, event_id, school_id)
    rooms = [Room(id=r["r_id"], code=r["r_code"], name=r["r_name"]) for r in rows]
    latest = {r["r_id"]: _checkin(r) for r in rows if r["id"] is not None}
    return rooms, latest
