"""Queries about check-ins: store idempotently, keep each room's current report,
read accountability."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from domain.checkins import CheckIn, latest_of
from domain.errors import Invalid
from domain.schools import Room

_COLUMNS = """id, event_id, room_id, client_id, status, students_present, students_missing,
    students_extra, injured, location, note, observed_at, received_at, clock_skew_flagged,
    reported_by"""
_NAMES = [c.strip() for c in _COLUMNS.split(",")]


def _checkin(row: asyncpg.Record) -> CheckIn:
    return msgspec.convert({n: row[n] for n in _NAMES}, CheckIn)


# insert_checkin -- store a report unless its client_id was seen in this event
_INSERT = f"""
insert into checkins ({_COLUMNS}, school_id)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
on conflict on constraint checkins_event_client_key do nothing
returning id
"""


async def insert_checkin(conn: asyncpg.Connection, checkin: CheckIn,
                         school_id: uuid.UUID) -> CheckIn | None:
    """Store a new report; None if this client_id was already stored (a replay)."""
    try:
        stored = await conn.fetchval(_INSERT, *(getattr(checkin, n) for n in _NAMES), school_id)
    except asyncpg.ForeignKeyViolationError:
        raise Invalid(f"room {checkin.room_id} is not a room of this event's school",
                      field="room_id") from None
    return checkin if stored else None


async def checkin_by_client_id(conn: asyncpg.Connection, event_id: uuid.UUID,
                               client_id: uuid.UUID) -> CheckIn | None:
    """The report a phone already sent with this client_id, if any."""
    row = await conn.fetchrow(f"select {_COLUMNS} from checkins "
                              "where event_id = $1 and client_id = $2", event_id, client_id)
    return _checkin(row) if row else None


# current_report -- a room's current report, locked while a newer one is weighed
_CURRENT = f"""
select {", ".join("c." + n for n in _NAMES)}
from room_reports rr join checkins c on c.id = rr.checkin_id
where rr.event_id = $1 and rr.room_id = $2
for update of rr
"""


async def record_room_report(conn: asyncpg.Connection, checkin: CheckIn) -> bool:
    """Make `checkin` its room's current report if the domain says it is newer."""
    first = await conn.fetchval(
        "insert into room_reports (event_id, room_id, checkin_id) values ($1, $2, $3) "
        "on conflict do nothing returning checkin_id",
        checkin.event_id, checkin.room_id, checkin.id)
    if first:
        return True
    current = _checkin(await conn.fetchrow(_CURRENT, checkin.event_id, checkin.room_id))
    if latest_of(current, checkin) is current:
        return False
    await conn.execute("update room_reports set checkin_id = $3 "
                       "where event_id = $1 and room_id = $2",
                       checkin.event_id, checkin.room_id, checkin.id)
    return True


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
