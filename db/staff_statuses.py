"""Staff reporting themselves during an event: each person's newest report, and the
school's staff beside them."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from db import timeline
from db.directory import entry_name
from db.pool import Connection
from domain.events import TimelineKind
from domain.staff_status import StaffReport, StaffStatus
from domain.values import Value

# keep_status -- a person's report, unless one that arrived later is kept already
_KEEP = """
insert into staff_statuses (event_id, user_id, status, note, reported_at)
values ($1, $2, $3, $4, $5)
on conflict (event_id, user_id) do update
set status = excluded.status, note = excluded.note, reported_at = excluded.reported_at
where staff_statuses.reported_at <= excluded.reported_at
"""


async def keep_status(conn: Connection, report: StaffReport) -> None:
    """Keep the report as the person's newest, and put it on the event's timeline."""
    await conn.execute(_KEEP, report.event_id, report.user_id, report.status, report.note,
                       report.reported_at)
    await timeline.append(conn, report.event_id, report.reported_at, TimelineKind.STAFF_STATUS,
                          report.user_id, msgspec.json.encode(report))


class StaffMemberNow(Value, kw_only=True):
    """A member of the event's school (or someone who reported during it), as the school
    names them, and their newest report."""

    user_id: uuid.UUID
    name: str | None
    report: StaffReport | None


# staff_of_event -- the school's live members ($2, at $3) and whoever else reported during
# event $1, by name, each with their newest report
_STAFF = f"""
with members as (
    select m.user_id, m.name from memberships m
    where m.school_id = $2 and (m.expires_at is null or m.expires_at > $3)
)
select p.user_id, p.name, r.status, r.note, r.reported_at
from members p left join staff_statuses r on r.event_id = $1 and r.user_id = p.user_id
union all
select r.user_id, {entry_name("r.user_id", "$2")}, r.status, r.note, r.reported_at
from staff_statuses r
where r.event_id = $1 and r.user_id not in (select user_id from members)
order by 2, 1
"""


async def staff_of_event(conn: Connection, event_id: uuid.UUID, school_id: uuid.UUID,
                         now: datetime) -> list[StaffMemberNow]:
    """By name (then id), so that a list of those not reported reads as a roll."""
    rows = await conn.fetch(_STAFF, event_id, school_id, now)
    return [StaffMemberNow(
        user_id=r["user_id"], name=r["name"],
        report=None if r["status"] is None else StaffReport(
            event_id=event_id, user_id=r["user_id"], status=StaffStatus(r["status"]),
            note=r["note"], reported_at=r["reported_at"]))
        for r in rows]
