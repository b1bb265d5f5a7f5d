"""An event's timeline: the audit trail and the live stream, numbered per event.

`append` bumps `events.last_seq` under the event's row lock, so sequence order
is commit order: a stream resumed after seq N can never miss an entry below N.
It also NOTIFYs `CHANNEL` in the same transaction; listeners in every process
hear it at commit, in commit order.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from db.directory import entry_name
from db.pool import Connection

CHANNEL = "muster_timeline"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; the rest of an entry
# takes < 300, so a bigger detail goes without and listeners read it from the table.
_MAX_DETAIL = 7600


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an event's history; `detail` is the JSON the matching endpoint returns."""

    event_id: uuid.UUID
    seq: int
    at: datetime
    kind: str
    actor_id: uuid.UUID | None
    detail: msgspec.Raw
    # False when a notification left the detail out (too big); read it with entries_after
    complete: bool = True
    actor_name: str | None = None  # filled by entries_after, not sent in notifications


_ENCODER = msgspec.json.Encoder()

# append -- next seq under the event row lock, the entry, and its notification
_APPEND = """
with next as (
    update events set last_seq = last_seq + 1 where id = $1 returning last_seq
)
insert into event_timeline (event_id, seq, at, kind, actor_id, detail)
select $1, next.last_seq, $2, $3, $4, $5::text::json from next
returning seq
"""


async def append(conn: Connection, event_id: uuid.UUID, at: datetime, kind: str,
                 actor_id: uuid.UUID | None, detail: bytes) -> TimelineEntry:
    """Add an entry (inside the caller's transaction) and announce it at commit."""
    seq = await conn.fetchval(_APPEND, event_id, at, kind, actor_id, detail.decode())
    notified, complete = notifiable(detail)
    entry = TimelineEntry(event_id=event_id, seq=seq, at=at, kind=kind, actor_id=actor_id,
                          detail=msgspec.Raw(notified), complete=complete)
    await conn.execute("select pg_notify($1, $2)", CHANNEL, _ENCODER.encode(entry).decode())
    return entry


def notifiable(detail: bytes) -> tuple[bytes, bool]:
    """The detail to put in a notification, and whether it is complete: a detail too
    big for NOTIFY is left out, and listeners read it from the table."""
    if len(detail) > _MAX_DETAIL:
        return b"null", False
    return detail, True


def decode_notification(payload: str) -> TimelineEntry:
    return msgspec.json.decode(payload, type=TimelineEntry)


# entries_after -- an event's entries after a seq, in order, with the actor's name as the
# event's school has it
_ENTRIES_AFTER = f"""
with t as materialized (
    select t.event_id, t.seq, t.at, t.kind, t.actor_id, t.detail::text as detail
    from event_timeline t
    where t.event_id = $1 and t.seq > $2
    order by t.seq limit $3
), named as materialized (  -- each actor looked up once, not once per entry
    select a.actor_id,
           {entry_name("a.actor_id", "(select e.school_id from events e where e.id = $1)")}
               as actor_name
    from (select distinct actor_id from t where actor_id is not null) a
)
select t.event_id, t.seq, t.at, t.kind, t.actor_id, named.actor_name, t.detail
from t left join named using (actor_id)
order by t.seq
"""


async def entries_after(conn: Connection, event_id: uuid.UUID, after_seq: int,
                        limit: int = 500) -> list[TimelineEntry]:
    """For a stream's replay and catch-up, and for the audit timeline."""
    rows = await conn.fetch(_ENTRIES_AFTER, event_id, after_seq, limit)
    return [TimelineEntry(event_id=r["event_id"], seq=r["seq"], at=r["at"], kind=r["kind"],
                          actor_id=r["actor_id"], actor_name=r["actor_name"],
                          detail=msgspec.Raw(r["detail"].encode()))
            for r in rows]
