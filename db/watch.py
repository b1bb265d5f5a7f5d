"""What a contact's read-only link shows besides the event and its rooms: the "what we
know" updates on the event's timeline."""

from __future__ import annotations

import uuid

import msgspec

from db.pool import Connection
from domain.watch import WhatWeKnow

# updates_of -- the event's "what we know" entries, oldest first
_UPDATES = """
select at, detail->>'text' as text, detail->>'threat_location' as threat_location
from event_timeline
where event_id = $1 and kind = 'update' and detail->>'text' is not null
order by seq
"""


async def updates_of(conn: Connection, event_id: uuid.UUID) -> list[WhatWeKnow]:
    return [msgspec.convert(dict(r), WhatWeKnow) for r in await conn.fetch(_UPDATES, event_id)]
