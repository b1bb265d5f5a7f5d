"""Writing out the alert waves a request left (notifications/queueing.py), a part at a
time, each part committed on its own.

A district's lockdown is ~40,000 outbox rows: written in one transaction, not one push
could be sent until the last row was in (1.5-3 s). Written in parts of INLINE_RECIPIENTS
people, the first part is claimed while the next is written, in the order of
alerts.by_urgency: everyone's pushes (leads first), then everyone's SMS, then what is
due later (a drill's SMS reminders, a real alert's repeats, a minute off at the
soonest). A part's links are committed with its pushes, so a link that was sent always
opens. The wave records how many parts are in, and with its first part the people it
is for: a dispatcher that stops mid-wave leaves it to the next, which goes on with the
same people in the same parts."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

import asyncpg

from db import audience, outbox, updates, waves
from db import links as db_links
from db.pool import Connection
from domain import alerts
from domain.alerts import MessageKind, PlannedMessage
from domain.language import Language
from domain.links import Links
from domain.repeats import DEFAULT_WINDOWS, RepeatWindows
from notifications.queueing import (
    INLINE_RECIPIENTS,
    alert_recipients,
    drop_earlier_repeats,
    plan_alert_part,
    plan_update_part,
)

# A part's people -> the digests of the links they need, and their messages
Planner = Callable[[Sequence[uuid.UUID]], tuple[dict[uuid.UUID, bytes], list[PlannedMessage]]]


async def write_waves(pool: asyncpg.Pool, clock: Callable[[], datetime], links: Links,
                      repeats: RepeatWindows = DEFAULT_WINDOWS) -> int:
    """Write out the waves waiting (an event's in order); how many were written. Several
    dispatchers may call this at once: each wave is written by one."""
    written = 0
    async with pool.acquire() as conn:
        while (wave := await waves.take_next(conn)) is not None:
            try:
                await _write_wave(conn, wave, clock, links, repeats)
            finally:
                await waves.release(conn, wave.id)
            written += 1
    return written


async def _write_wave(conn: Connection, wave: waves.Wave, clock: Callable[[], datetime],
                      links: Links, repeats: RepeatWindows) -> None:
    """The wave's parts not yet written: its people in chunks, chunk after chunk for each
    of the phases of alerts.by_urgency in turn."""
    present, plan = await _audience(conn, wave, links, repeats)
    people = present if wave.people is None else wave.people
    still = set(present)
    chunks = [[u for u in people[at:at + INLINE_RECIPIENTS] if u in still]
              for at in range(0, len(people), INLINE_RECIPIENTS)] or [[]]
    planned: dict[int, tuple[list[PlannedMessage], ...]] = {}
    parts = alerts.URGENCIES * len(chunks)
    for part in range(wave.parts_written, parts):
        phase, n = divmod(part, len(chunks))
        async with conn.transaction():
            if part == 0:
                await drop_earlier_repeats(conn, wave.event, wave.kind, wave.planned_at)
            if n not in planned:
                digests, messages = plan(chunks[n])
                if phase == 0 and digests:  # links go out with the first messages
                    await db_links.add_links(conn, wave.event.id, digests)
                planned[n] = alerts.by_urgency(messages, wave.planned_at)
            await outbox.enqueue(conn, wave.event.id, planned[n][phase])
            if phase == alerts.URGENCIES - 1:
                del planned[n]
            await waves.part_written(conn, wave.id, part + 1, people if part == 0 else None,
                                     clock() if part + 1 == parts else None)


async def _audience(conn: Connection, wave: waves.Wave, links: Links,
                    repeats: RepeatWindows) -> tuple[list[uuid.UUID], Planner]:
    """The wave's people now, in writing order, and how to plan a part of them."""
    event, now = wave.event, wave.planned_at
    if wave.kind in (MessageKind.ALERT, MessageKind.ACTION):
        recipients = {p.user_id: p for p in await alert_recipients(conn, event, now)}

        def plan_alert(part: Sequence[uuid.UUID]) -> tuple[dict[uuid.UUID, bytes],
                                                          list[PlannedMessage]]:
            return plan_alert_part(event, wave.kind, [recipients[u] for u in part], now, links,
                                   repeats)

        return list(recipients), plan_alert
    notified: dict[uuid.UUID, list[tuple[uuid.UUID, str, Language]]] = {}
    for person in await audience.notified(conn, event.id):
        notified.setdefault(person[0], []).append(person)
    update = None if wave.update_id is None else await updates.get_update(conn, wave.update_id)

    def plan_ending(part: Sequence[uuid.UUID]) -> tuple[dict[uuid.UUID, bytes],
                                                       list[PlannedMessage]]:
        some = [p for u in part for p in notified[u]]
        if update is None:
            return {}, alerts.plan_ending(event, wave.kind, some)
        return {}, plan_update_part(event, update, some, links)

    return list(notified), plan_ending
