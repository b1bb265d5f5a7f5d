"""Queue the calls and texts to a school's contacts (domain/contacts.py) that an event
change calls for, in the transaction of that change, beside its alert to the school.

A school has a handful of contacts, so their messages are written inside the request
even when the school's own alert goes as a wave: the 911 centre is not kept waiting
behind 10,000 staff. Nothing is sent here.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from db import contacts as db
from db import outbox
from db.pool import Connection
from domain import contacts
from domain.alerts import MessageKind
from domain.contacts import EventFacts
from domain.events import Event
from domain.links import Links, digest
from domain.watch import watch_token, watch_url


async def call_contacts(conn: Connection, event: Event, kind: MessageKind, now: datetime,
                        links: Links) -> None:
    """An event started or changed action: call the contacts it calls, and text each one
    the facts with their read-only link (whose digest is stored with it)."""
    called = contacts.called_for(event, await db.current_contacts(conn, event.school_id))
    if not called:
        return
    stored = await db.call_facts(conn, event)
    facts = EventFacts(school_name=stored.school_name, address=stored.address,
                       started_by=stored.started_by, room=stored.room,
                       local_start=event.started_at.astimezone(zoneinfo.ZoneInfo(stored.timezone)))
    tokens = {c.id: watch_token(links, event.id, c.id) for c in called}
    await db.add_watch_links(conn, event.id, {c: digest(t) for c, t in tokens.items()})
    plan = contacts.plan_calls(event, kind, called, facts,
                               {c: watch_url(links, t) for c, t in tokens.items()}, now)
    await outbox.enqueue(conn, event.id, plan)


async def tell_contacts(conn: Connection, event: Event, kind: MessageKind) -> None:
    """An event ended: text the all-clear or cancellation to each contact it called."""
    called = await db.called_contacts(conn, event.id)
    if called:
        school_name = (await db.call_facts(conn, event)).school_name
        await outbox.enqueue(conn, event.id,
                             contacts.plan_ending(event, kind, school_name, called))
