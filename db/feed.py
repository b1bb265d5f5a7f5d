"""The live timeline: one LISTEN connection per process, fanned out to SSE subscribers.

The connection is dedicated (a pooled one is silently UNLISTENed on release).
NOTIFY is fire-and-forget: nothing is kept for a listener that is away. So a
subscriber gets `Resync` whenever it may have missed entries (the connection was
re-established, or its queue overflowed) and re-reads the table with
`entries_after`; entries may then repeat, and `seq` tells which ones are new.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import asyncpg
import msgspec

from db.timeline import CHANNEL, TimelineEntry, decode_notification

log = logging.getLogger(__name__)
_MAX_RETRY_DELAY = 5.0


class Resync(msgspec.Struct, frozen=True):
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
        self._dsn = dsn
        self._retry_delay = retry_delay
        self._queue_size = queue_size
        self._check_interval = check_interval
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}
        self._conn: asyncpg.Connection | None = None
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen now, so that an unreachable database fails the start; then keep listening."""
        conn, lost = await self._listen()
        self._task = asyncio.create_task(self._supervise(conn, lost), name="timeline-feed")

    async def stop(self) -> None:
        """Stop listening and close the connection; safe to call twice."""
        if self._task is not None:
            self._task.cancel()
            # wait() rather than suppressing CancelledError, which would swallow our own
            await asyncio.wait([self._task])
            self._task = None
        self._listening.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            # close() aborts the connection when it cannot close gracefully: gone either way
            with contextlib.suppress(Exception):
                await conn.close(timeout=self._check_interval)

    async def wait_listening(self) -> None:
        """Return once LISTEN is active (at once, unless a reconnect is under way)."""
        await self._listening.wait()

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

    def _dispatch(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            entry = decode_notification(payload)
        except msgspec.DecodeError:
            log.error("ignoring a malformed timeline notification: %.200s", payload)
            return
        for sub in self._subscribers.get(entry.event_id, ()):
            sub._put(entry)

    async def _listen(self) -> tuple[asyncpg.Connection, asyncio.Event]:
        """A new connection that LISTENs, and the event its loss will set."""
        # command_timeout bounds LISTEN and the pings, which a dead link would hang
        conn = await asyncpg.connect(self._dsn, command_timeout=self._check_interval,
                                     server_settings={"application_name": "muster-feed"})
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            # asyncpg-stubs type a NOTIFY payload as object; asyncpg passes it as str
            await conn.add_listener(CHANNEL, self._dispatch)  # type: ignore[arg-type]
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        self._listening.set()
        return conn, lost

    async def _connection_lost(self, conn: asyncpg.Connection, lost: asyncio.Event) -> str:
        """Wait until the connection is unusable; return why. A closed socket fires the
        termination listener at once; a half-open link (a NAT or load balancer that
        dropped it silently) never closes, so it is pinged every `check_interval`."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._check_interval):
                    await lost.wait()
                return "connection closed"
            try:
                await conn.execute("select 1")
            except Exception as exc:  # any failure means the link cannot be trusted
                return f"ping failed: {exc!r}"

    async def _supervise(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Re-establish LISTEN whenever the connection is lost; it only ends when cancelled."""
        while True:
            reason = await self._connection_lost(conn, lost)
            self._listening.clear()
            conn.terminate()
            log.warning("timeline feed lost its connection (%s); reconnecting", reason)
            delay = self._retry_delay
            while True:
                await asyncio.sleep(delay)
                try:
                    conn, lost = await self._listen()
                    break
                except Exception:
                    log.warning("timeline feed cannot listen yet; retrying", exc_info=True)
                    delay = min(delay * 2, _MAX_RETRY_DELAY)
            log.info("timeline feed listening again")
            for subs in self._subscribers.values():
                for sub in subs:
                    sub._put(RESYNC)
