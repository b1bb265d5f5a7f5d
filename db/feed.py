"""The live timeline: one LISTEN connection per process (db/listen.py), fanned out to
SSE subscribers.

NOTIFY is fire-and-forget: nothing is kept for a listener that is away. So a
subscriber gets `Resync` whenever it may have missed entries (the connection was
re-established, or its queue overflowed) and re-reads the table with
`entries_after`; entries may then repeat, and `seq` tells which ones are new.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import msgspec

from db.listen import Listener
from db.timeline import CHANNEL, TimelineEntry, decode_notification
from domain.values import Value

log = logging.getLogger(__name__)


class Resync(Value):
    """Entries may have been missed: re-read the timeline after the last seq seen."""


RESYNC = Resync()


class Subscription:
    """One subscriber's queue of an event's entries, read with `next()` or `async for`
    (which never ends); leaving the `with` block unsubscribes."""

    def __init__(self, feed: TimelineFeed, event_id: uuid.UUID, maxsize: int) -> None:
        self.event_id = event_id
        self._feed = feed
        self._queue: asyncio.Queue[TimelineEntry | Resync] = asyncio.Queue(maxsize)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._feed._unsubscribe(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> TimelineEntry | Resync:
        return await self.next()

    async def next(self) -> TimelineEntry | Resync:
        """The next entry of this event, in notification order, or `RESYNC`."""
        return await self._queue.get()

    def _put(self, item: TimelineEntry | Resync) -> None:
        # Whatever is queued before a Resync will be re-read anyway: dropping it
        # bounds what a stalled subscriber can hold.
        if isinstance(item, Resync) or self._queue.full():
            while not self._queue.empty():
                self._queue.get_nowait()
            item = RESYNC
        self._queue.put_nowait(item)


class TimelineFeed:
    """The process-wide listener: `start` it once, `subscribe` once per stream."""

    def __init__(self, dsn: str, *, retry_delay: float = 0.5, queue_size: int = 1000,
                 check_interval: float = 5.0) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")  # 0 would mean unbounded
        self._queue_size = queue_size
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}
        self._listener = Listener(dsn, CHANNEL, self._dispatch, self._resync,
                                  what="timeline feed", application_name="muster-feed",
                                  log=log, retry_delay=retry_delay,
                                  check_interval=check_interval)

    async def start(self) -> None:
        """Listen now, so that an unreachable database fails the start; then keep listening."""
        await self._listener.start()

    async def stop(self) -> None:
        """Stop listening and close the connection; safe to call twice."""
        await self._listener.stop()

    async def wait_listening(self) -> None:
        """Return once LISTEN is active (at once, unless a reconnect is under way)."""
        await self._listener.wait_listening()

    def subscribe(self, event_id: uuid.UUID) -> Subscription:
        """Receive `event_id`'s entries from now on; subscribe before reading the
        backlog, so that nothing committed in between is lost."""
        sub = Subscription(self, event_id, self._queue_size)
        self._subscribers.setdefault(event_id, set()).add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.event_id, set())
        subs.discard(sub)
        if not subs:
            self._subscribers.pop(sub.event_id, None)

    def _dispatch(self, payload: str) -> None:
        try:
            entry = decode_notification(payload)
        except msgspec.DecodeError:
            log.error("ignoring a malformed timeline notification: %.200s", payload)
            return
        for sub in self._subscribers.get(entry.event_id, ()):
            sub._put(entry)

    def _resync(self) -> None:
        for subs in self._subscribers.values():
            for sub in subs:
                sub._put(RESYNC)
