"""Active events as a storm's requests need them: loaded once a second per process,
not once per check-in (the event query was a fifth of the server's CPU in a storm)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import asyncpg

from api.usecases.shared_load import shared_load
from db import events as db
from db.events import EventContext
from domain.srp import EventStatus


class EventCache:
    """The contexts of active events loaded in the last `ttl`.

    A copy may be up to `ttl` old. For most of it that is harmless: an event's school
    and start never change, and a school's policy changes only by an operator's hand,
    then takes effect here at most `ttl` later. Whether the event still takes reports
    does matter, so it is decided again where a report is stored, under the event's
    lock (db.checkins.store_checkins). Ended events are never kept, and this process
    forgets an event as soon as it changes it. Requests that miss together share one
    load, so a storm does not query once per phone each time a copy expires."""

    def __init__(self, ttl: timedelta = timedelta(seconds=1), max_size: int = 10_000) -> None:
        self._ttl, self._max_size = ttl, max_size
        self._entries: dict[uuid.UUID, tuple[datetime, EventContext]] = {}
        self._loading: dict[uuid.UUID, asyncio.Future[EventContext]] = {}

    async def get(self, pool: asyncpg.Pool, event_id: uuid.UUID, now: datetime) -> EventContext:
        """The event and its school's policy; NotFound when there is no such event."""
        cached = self._entries.get(event_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        return await shared_load(self._loading, event_id,
                                 lambda: self._load(pool, event_id, now))

    def forget(self, event_id: uuid.UUID) -> None:
        """Drop an event this process has just changed (others see it within `ttl`)."""
        self._entries.pop(event_id, None)

    async def _load(self, pool: asyncpg.Pool, event_id: uuid.UUID,
                    now: datetime) -> EventContext:
        async with pool.acquire() as conn:
            ctx = await db.load_event(conn, event_id)
        if ctx.event.status is not EventStatus.ACTIVE:
            self._entries.pop(event_id, None)
        else:
            if len(self._entries) >= self._max_size:
                self._entries.clear()  # crude but bounded; a refill costs one query per event
            self._entries[event_id] = (now + self._ttl, ctx)
        return ctx
