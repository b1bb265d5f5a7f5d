"""Alert waves the API left for a dispatcher to write out (see migration 0008)."""

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
    """`update_id` is the update an `update` wave sends."""

    id: int
    kind: MessageKind
    event: Event
    planned_at: datetime
    update_id: uuid.UUID | None = None


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


# next_wave -- the oldest pending wave of some event, locked; a later wave of an event
# waits for the earlier one (whoever holds it), so an event's messages keep their order
_NEXT_WAVE = """
select w.id, w.kind, w.event, w.planned_at, w.update_id
from alert_waves w
where w.expanded_at is null
  and not exists (select 1 from alert_waves e
                  where e.event_id = w.event_id and e.id < w.id and e.expanded_at is null)
order by w.id
for update skip locked
limit 1
"""


async def next_wave(conn: Connection) -> Wave | None:
    row = await conn.fetchrow(_NEXT_WAVE)
    if row is None:
        return None
    return msgspec.convert(dict(row), Wave, strict=False)  # the event as JSON


# mark_expanded -- the wave's messages are in the outbox
_MARK_EXPANDED = "update alert_waves set expanded_at = $2 where id = $1"


async def mark_expanded(conn: Connection, wave_id: int, now: datetime) -> None:
    await conn.execute(_MARK_EXPANDED, wave_id, now)
