"""A school's contacts for real events (domain/contacts.py): the current list, its
replacement (rows left out keep their history, marked removed), whom an event called,
and the facts a call says."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from db.directory import entry_name
from db.pool import Connection
from domain.contacts import Contact, Replacement
from domain.events import Event

# current_contacts -- the school's list as it stands, in its order
_CURRENT = """
select id, name, phone, kind, calls_on as "on" from school_contacts
where school_id = $1 and removed_at is null
order by position
"""


async def current_contacts(conn: Connection, school_id: uuid.UUID) -> list[Contact]:
    return [msgspec.convert(dict(r), Contact) for r in await conn.fetch(_CURRENT, school_id)]


# remove_contacts -- contacts left off the school's list: kept, for the outbox's history
_REMOVE = """
update school_contacts set removed_at = $3
where school_id = $1 and id = any($2::uuid[]) and removed_at is null
"""
# save_contact -- a contact of the new list: a new one, or a known one described anew
_SAVE = """
insert into school_contacts (id, school_id, position, name, phone, kind, calls_on, added_at)
values ($1, $2, $3, $4, $5, $6, $7, $8)
on conflict (id) do update set position = excluded.position, name = excluded.name,
    kind = excluded.kind, calls_on = excluded.calls_on
"""


async def replace_contacts(conn: Connection, school_id: uuid.UUID, replacement: Replacement,
                           now: datetime) -> None:
    """Store the school's new list (inside the caller's transaction, which holds the
    school's row: replacements of one list take turns)."""
    await conn.execute(_REMOVE, school_id, replacement.removed, now)
    await conn.executemany(_SAVE, [(c.id, school_id, n, c.name, c.phone, c.kind, c.on, now)
                                   for n, c in enumerate(replacement.contacts)])


# called_contacts -- the contacts an event called (or is about to), with the number used
_CALLED = """
select distinct on (contact_id) contact_id, phone from notification_outbox
where event_id = $1 and contact_id is not null and kind in ('alert', 'action')
  and state in ('queued', 'sending', 'sent', 'delivered')
order by contact_id, id
"""


async def called_contacts(conn: Connection, event_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    return [(r["contact_id"], r["phone"]) for r in await conn.fetch(_CALLED, event_id)]


class CallFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a call says about where and who, as stored: the school, its address and time
    zone, the starter's name as the school has it, the room the event started from."""

    school_name: str
    address: str | None
    timezone: str
    started_by: str | None
    room: str | None


# call_facts -- the school of an event, its starter as the school names them, and the
# room it was started from ("B-104 Science Lab"), if known
_FACTS = f"""
select s.name as school_name, s.address, s.timezone,
       {entry_name("$2::uuid", "$1::uuid")} as started_by,
       (select r.code || ' ' || r.name from rooms r where r.id = $3 and r.school_id = s.id)
           as room
from schools s where s.id = $1
"""


async def call_facts(conn: Connection, event: Event) -> CallFacts:
    row = await conn.fetchrow(_FACTS, event.school_id, event.started_by, event.room_id)
    if row is None:  # an event's school always exists (a foreign key)
        raise LookupError(f"no school {event.school_id}")
    return msgspec.convert(dict(row), CallFacts)


# add_watch_links -- the contacts' links to an event (digests of their tokens); an action
# change brings the links the start stored, which stay as they are
_ADD_WATCH_LINKS = """
insert into watch_links (digest, event_id, contact_id)
select d, $1, c from unnest($2::bytea[], $3::uuid[]) as t(d, c)
on conflict do nothing
"""


async def add_watch_links(conn: Connection, event_id: uuid.UUID,
                          digests: dict[uuid.UUID, bytes]) -> None:
    await conn.execute(_ADD_WATCH_LINKS, event_id, list(digests.values()), list(digests))


# find_watch_link -- the event a contact's link digest names, while the contact is still
# on its school's list
_FIND_WATCH_LINK = """
select w.event_id from watch_links w join school_contacts c on c.id = w.contact_id
where w.digest = $1 and c.removed_at is null
"""


async def find_watch_link(conn: Connection, digest: bytes) -> uuid.UUID | None:
    event_id: uuid.UUID | None = await conn.fetchval(_FIND_WATCH_LINK, digest)
    return event_id
