"""An event's "what we know" updates: stored, on the timeline, listed newest first."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from db import timeline
from db.pool import Connection
from domain.errors import NotFound
from domain.events import TimelineKind
from domain.updates import Update

_COLUMNS = "id, event_id, text, threat_location, posted_at, posted_by"

# add_update -- an update, in the transaction that queues its messages
_ADD = f"insert into event_updates ({_COLUMNS}) values ($1, $2, $3, $4, $5, $6)"


async def add_update(conn: Connection, update: Update) -> None:
    """Store the update and its timeline entry (the detail is the update)."""
    await conn.execute(_ADD, update.id, update.event_id, update.text, update.threat_location,
                       update.posted_at, update.posted_by)
    await timeline.append(conn, update.event_id, update.posted_at, TimelineKind.UPDATE,
                          update.posted_by, msgspec.json.encode(update))


# list_updates -- an event's updates, newest first, after the keyset (posted_at, id)
_LIST = f"""
select {_COLUMNS} from event_updates
where event_id = $1 and ($2::timestamptz is null or (posted_at, id) < ($2, $3::uuid))
order by posted_at desc, id desc
limit $4
"""


async def list_updates(conn: Connection, event_id: uuid.UUID,
                       after: tuple[datetime, uuid.UUID] | None, limit: int) -> list[Update]:
    posted, last_id = after or (None, None)
    rows = await conn.fetch(_LIST, event_id, posted, last_id, limit)
    return [msgspec.convert(dict(r), Update) for r in rows]


# get_update -- one update, for the wave that sends it
_GET = f"select {_COLUMNS} from event_updates where id = $1"


async def get_update(conn: Connection, update_id: uuid.UUID) -> Update:
    """The update (a wave's: its foreign key keeps it there)."""
    row = await conn.fetchrow(_GET, update_id)
    if row is None:
        raise NotFound(f"no update {update_id}")
    return msgspec.convert(dict(row), Update)
