"""People's links to events (domain/links.py), kept as the digests of their tokens."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from db.pool import Connection

# add_links -- the links of an event's recipients, in one statement however many; an
# action change brings the links its start stored, which stay as they are
_ADD_LINKS = """
insert into event_links (digest, event_id, user_id)
select d, $1, u from unnest($2::bytea[], $3::uuid[]) as t(d, u)
on conflict do nothing
"""


async def add_links(conn: Connection, event_id: uuid.UUID,
                    digests: Mapping[uuid.UUID, bytes]) -> None:
    """Store each person's link digest (by user id) for the event."""
    await conn.execute(_ADD_LINKS, event_id, list(digests.values()), list(digests))


# find_link -- the event and person a link digest names
_FIND_LINK = "select event_id, user_id from event_links where digest = $1"


async def find_link(conn: Connection, digest: bytes) -> tuple[uuid.UUID, uuid.UUID] | None:
    row = await conn.fetchrow(_FIND_LINK, digest)
    return None if row is None else (row["event_id"], row["user_id"])
