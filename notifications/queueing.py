"""Queue the alerts an event change calls for, in the transaction of that change.

The domain plans who gets what on which channel (domain/alerts.py); this reads the
people it needs and writes the plan to the outbox. A school-sized plan is written
inside the request (a few hundred rows, milliseconds). A larger one (a district's
10,000 staff: 20,000 rows, most of a second) would hold the SRO's phone waiting,
so the request stores an alert wave instead, with the event as it was, and a
dispatcher writes its messages moments later; once an event has a wave waiting,
its later changes wait behind it, so that an all-clear never overtakes its alert.
Nothing is sent here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg

from db import audience, outbox, waves
from db import links as db_links
from db.pool import Connection
from domain import alerts
from domain.alerts import MessageKind
from domain.events import Event
from domain.links import Links, digest
from domain.roles import Role
from notifications.contact_calls import call_contacts, tell_contacts

# People an event change may alert from inside its request; beyond, it goes as a wave.
INLINE_RECIPIENTS = 500


async def queue_alert(conn: Connection, event: Event, kind: MessageKind, now: datetime,
                      links: Links) -> None:
    """An event started or changed action: alert the school (and, if real, its district),
    each person with their link to the event; call the school's contacts (always inside
    the request: notifications/contact_calls.py)."""
    await call_contacts(conn, event, kind, now, links)
    if await _as_wave(conn, event, now):
        await waves.add_wave(conn, event, kind, now)
        return
    await _write_alert(conn, event, kind, now, links)


async def queue_ending(conn: Connection, event: Event, kind: MessageKind) -> None:
    """All-clear or cancellation: tell everyone who was alerted, on the same channels (the
    contacts who were called, by SMS).
    (Who was alerted is read from the outbox, which for a district takes as long as
    writing the messages: the school's size decides, as for an alert.)"""
    ended_at = event.ended_at
    if ended_at is None:
        raise ValueError(f"event {event.id} has not ended; it has no {kind} to send")
    await tell_contacts(conn, event, kind)
    if await _as_wave(conn, event, ended_at):
        await waves.add_wave(conn, event, kind, ended_at)
        return
    notified = await audience.notified(conn, event.id)
    await outbox.enqueue(conn, event.id, alerts.plan_ending(event, kind, notified))


async def _as_wave(conn: Connection, event: Event, now: datetime) -> bool:
    """Whether the change goes as a wave: the event has one waiting, or too many people."""
    return await audience.goes_as_wave(conn, event.id, event.school_id, now, INLINE_RECIPIENTS)


async def write_waves(pool: asyncpg.Pool, clock: Callable[[], datetime], links: Links) -> int:
    """Write out the waves waiting (each in its own transaction, an event's in order);
    how many were written. Several dispatchers may call this at once."""
    written = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            wave = await waves.next_wave(conn)
            if wave is None:
                return written
            if wave.kind in (MessageKind.ALERT, MessageKind.ACTION):
                await _write_alert(conn, wave.event, wave.kind, wave.planned_at, links)
            else:
                notified = await audience.notified(conn, wave.event.id)
                await outbox.enqueue(conn, wave.event.id,
                                     alerts.plan_ending(wave.event, wave.kind, notified))
            await waves.mark_expanded(conn, wave.id, clock())
        written += 1


async def _write_alert(conn: Connection, event: Event, kind: MessageKind,
                       now: datetime, links: Links) -> None:
    """The alert's messages, and the links they carry (their digests), in one transaction:
    a link that was sent always opens."""
    people = await audience.recipients(conn, event.school_id, now)
    members = [p for p in people if p.role is not Role.DISTRICT_ADMIN]
    admins = [p for p in people if p.role is Role.DISTRICT_ADMIN]
    recipients = alerts.recipients_for(event, members, admins)
    tokens = {p.user_id: links.token(event.id, p.user_id) for p in recipients}
    await db_links.add_links(conn, event.id, {u: digest(t) for u, t in tokens.items()})
    plan = alerts.plan_alert(event, kind, recipients, now=now,
                             links={u: links.url(t) for u, t in tokens.items()})
    await outbox.enqueue(conn, event.id, plan)
