"""Queue the alerts an event change (or an update about it) calls for, in the
transaction of that change.

The domain plans who gets what on which channel (domain/alerts.py); this reads the
people it needs and writes the plan to the outbox. A school-sized plan is written
inside the request (a few hundred rows, milliseconds). A larger one (a district's
10,000 staff: 40,000 rows, seconds) would hold the SRO's phone waiting, so the
request stores an alert wave instead, with the event as it was, and a dispatcher
writes its messages moments later (notifications/waves.py); once an event has a wave
waiting, its later changes wait behind it, so that an all-clear never overtakes its
alert.
A real alert's repeats (domain/repeats.py) are written with it; an action change drops
the repeats still queued of the alert before it, which would say the old action.
Nothing is sent here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TypeVar

from db import audience, outbox, waves
from db import links as db_links
from db.pool import Connection
from domain import alerts
from domain.alerts import MessageKind, PlannedMessage, Recipient
from domain.events import Event
from domain.language import Language
from domain.links import Links, digest
from domain.repeats import DEFAULT_WINDOWS, RepeatWindows
from domain.roles import Role
from domain.updates import Update, plan_update
from notifications.contact_calls import call_contacts, tell_contacts

# People an event change may alert from inside its request; beyond, it goes as a wave.
INLINE_RECIPIENTS = 500
T = TypeVar("T")


async def queue_alert(conn: Connection, event: Event, kind: MessageKind, now: datetime,
                      links: Links, repeats: RepeatWindows = DEFAULT_WINDOWS) -> None:
    """An event started or changed action: alert the school (and, if real, its district),
    each person with their link to the event, and repeat it after `repeats`' windows to
    those who have not acknowledged; call the school's contacts (always inside the
    request: notifications/contact_calls.py)."""
    await call_contacts(conn, event, kind, now, links)
    if await _as_wave(conn, event, now):
        await drop_earlier_repeats(conn, event, kind, now)  # now, not once the wave is out
        await waves.add_wave(conn, event, kind, now)
        return
    await _write_alert(conn, event, kind, now, links, repeats)


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
    await _write_ending(conn, event, kind)


async def queue_update(conn: Connection, event: Event, update: Update, links: Links) -> None:
    """What we know: to everyone the event alerted, each with their link; as an ending,
    a large school's goes as a wave (reading who was alerted takes as long as writing)."""
    if await _as_wave(conn, event, update.posted_at):
        await waves.add_wave(conn, event, MessageKind.UPDATE, update.posted_at,
                             update_id=update.id)
        return
    await _write_update(conn, event, update, links)


async def _write_update(conn: Connection, event: Event, update: Update, links: Links) -> None:
    for some in _parts(await audience.notified(conn, event.id)):
        await outbox.enqueue(conn, event.id, plan_update_part(event, update, some, links))


def plan_update_part(event: Event, update: Update,
                     some: Sequence[tuple[uuid.UUID, str, Language]],
                     links: Links) -> list[PlannedMessage]:
    """An update's messages to some of those the event alerted, each with their link."""
    urls = {user_id: links.url(links.token(event.id, user_id)) for user_id, _, _ in some}
    return plan_update(event, update, some, urls)


async def _write_ending(conn: Connection, event: Event, kind: MessageKind) -> None:
    for some in _parts(await audience.notified(conn, event.id)):
        await outbox.enqueue(conn, event.id, alerts.plan_ending(event, kind, some))


def _parts(people: Sequence[T]) -> Iterator[Sequence[T]]:
    """`people` INLINE_RECIPIENTS at a time: a change's messages are planned and written a
    part at a time (in its one transaction). A district's 10,000 took half a second of
    CPU in one stretch, and the requests this process serves (another school's lockdown
    among them) waited for all of it; by parts, the longest stretch is a twentieth."""
    for start in range(0, len(people), INLINE_RECIPIENTS):
        yield people[start:start + INLINE_RECIPIENTS]


async def _as_wave(conn: Connection, event: Event, now: datetime) -> bool:
    """Whether the change goes as a wave: the event has one waiting, or too many people."""
    return await audience.goes_as_wave(conn, event.id, event.school_id, now, INLINE_RECIPIENTS)


async def _write_alert(conn: Connection, event: Event, kind: MessageKind,
                       now: datetime, links: Links, repeats: RepeatWindows) -> None:
    """The alert's messages, and the links they carry (their digests), in one transaction:
    a link that was sent always opens."""
    await drop_earlier_repeats(conn, event, kind, now)
    for some in _parts(await alert_recipients(conn, event, now)):
        digests, plan = plan_alert_part(event, kind, some, now, links, repeats)
        await db_links.add_links(conn, event.id, digests)
        await outbox.enqueue(conn, event.id, plan)


async def alert_recipients(conn: Connection, event: Event, now: datetime) -> list[Recipient]:
    """Everyone the event's alert reaches now, the safety leads first (a large alert is
    written, and so sent, in this order)."""
    people = await audience.recipients(conn, event.school_id, now)
    members = [p for p in people if p.role is not Role.DISTRICT_ADMIN]
    admins = [p for p in people if p.role is Role.DISTRICT_ADMIN]
    return alerts.leads_first(alerts.recipients_for(event, members, admins))


def plan_alert_part(event: Event, kind: MessageKind, some: Sequence[Recipient],
                    now: datetime, links: Links, repeats: RepeatWindows
                    ) -> tuple[dict[uuid.UUID, bytes], list[PlannedMessage]]:
    """Some recipients' alert messages, and the digests of the links they carry (to be
    stored with them)."""
    tokens = {p.user_id: links.token(event.id, p.user_id) for p in some}
    plan = alerts.plan_alert(event, kind, some, now=now, repeats=repeats,
                             links={u: links.url(t) for u, t in tokens.items()})
    return {u: digest(t) for u, t in tokens.items()}, plan


async def drop_earlier_repeats(conn: Connection, event: Event, kind: MessageKind,
                                now: datetime) -> None:
    """An action change replaces the alert before it, repeats and all. (A wave of an
    action change drops them again when it is written out: the alert's own wave, written
    after the change was stored, may have queued them since.)"""
    if kind is MessageKind.ACTION:
        await outbox.skip_repeats(conn, event.id, now)
