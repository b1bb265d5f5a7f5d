"""Alert waves the API left for a dispatcher to write out (migrations 0008, 0027).

A dispatcher writing a wave holds an advisory lock on it for as long as it writes (a
session lock: it outlives each part's transaction, and ends with the connection if the
dispatcher dies), so that no other takes it up meanwhile."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from db.outbox import CHANNEL
from db.pool import Connection
from domain.alerts import MessageKind
from domain.events import Event
from domain.values import Value


class Wave(Value, kw_only=True):
    """`update_id` is the update an `update` wave sends; `people` its audience in writing
    order and `parts_written` how far it got, once its first part is written."""

    id: int
    kind: MessageKind
    event: Event
    planned_at: datetime
    update_id: uuid.UUID | None = None
    people: list[uuid.UUID] | None = None
    parts_written: int = 0


# add_wave -- store a wave in the caller's transaction; dispatchers wake at commit
_ADD_WAVE = """
with added as (
    insert into alert_waves (event_id, kind, event, planned_at, update_id)
    values ($1, $2, $3, $4, $6)
)
select pg_notify($5, '')
"""


async def add_wave(conn: Connection, event: Event, kind: MessageKind,
                   planned_at: datetime, *, update_id: uuid.UUID | None = None) -> None:
    await conn.execute(_ADD_WAVE, event.id, kind, msgspec.to_builtins(event), planned_at,
                       CHANNEL, update_id)


# waiting -- pending waves no earlier wave of their event is ahead of, oldest first: a
# later wave of an event waits for the earlier one (whoever writes it), so an event's
# messages keep their order
_WAITING = """
select w.id
from alert_waves w
where w.expanded_at is null
  and not exists (select 1 from alert_waves e
                  where e.event_id = w.event_id and e.id < w.id and e.expanded_at is null)
order by w.id
limit $1
"""

# take -- the wave, if this session could lock it and it is still to be written
_LOCK = "select pg_try_advisory_lock(hashtextextended('wave:' || $1::bigint, 0))"
_UNLOCK = "select pg_advisory_unlock(hashtextextended('wave:' || $1::bigint, 0))"
_WAVE = """
select id, kind, event, planned_at, update_id, people, parts_written
from alert_waves where id = $1 and expanded_at is null
"""


async def take_next(conn: Connection, looked_at: int = 10) -> Wave | None:
    """The oldest wave waiting that no other dispatcher is writing, locked to this
    connection until `release`; None if there is none. (Outside a transaction: each
    part of the wave is a transaction of its own.)"""
    for wave_id in [r["id"] for r in await conn.fetch(_WAITING, looked_at)]:
        if not await conn.fetchval(_LOCK, wave_id):
            continue
        row = await conn.fetchrow(_WAVE, wave_id)  # read after the lock: finished since?
        if row is not None:
            return msgspec.convert(dict(row), Wave, strict=False)  # the event as JSON
        await release(conn, wave_id)
    return None


async def release(conn: Connection, wave_id: int) -> None:
    await conn.execute(_UNLOCK, wave_id)


# part_written -- one more part of the wave is in the outbox (and, with the first, the
# people it is written for); the last part marks it expanded
_PART_WRITTEN = """
update alert_waves
set parts_written = $2, people = coalesce($3, people), expanded_at = $4
where id = $1
"""


async def part_written(conn: Connection, wave_id: int, parts: int,
                       people: list[uuid.UUID] | None, expanded_at: datetime | None) -> None:
    await conn.execute(_PART_WRITTEN, wave_id, parts, people, expanded_at)
