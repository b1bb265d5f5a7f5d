"""LISTEN on a channel, kept up: one dedicated connection, supervised.

The connection is dedicated (a pooled one is silently UNLISTENed on release).
NOTIFY is fire-and-forget: nothing is kept for a listener that is away, so the
owner is told (`on_resync`) each time LISTEN is re-established, to catch up on
what it may have missed. A closed socket is noticed at once; a half-open link (a
NAT or load balancer that dropped it silently) never closes, so it is pinged
every `check_interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

_MAX_RETRY_DELAY = 5.0


class Listener:
    """Calls `on_notify(payload)` for each notification on `channel`, and `on_resync()`
    after each reconnection; `what` names it in the log of `log`, `application_name` in
    pg_stat_activity."""

    def __init__(self, dsn: str, channel: str, on_notify: Callable[[str], None],
                 on_resync: Callable[[], None], *, what: str, application_name: str,
                 log: logging.Logger, retry_delay: float = 0.5,
                 check_interval: float = 5.0) -> None:
        self._dsn, self._channel = dsn, channel
        self._on_notify, self._on_resync = on_notify, on_resync
        self._what, self._application_name, self._log = what, application_name, log
        self._retry_delay, self._check_interval = retry_delay, check_interval
        self._conn: asyncpg.Connection | None = None
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen now, so that an unreachable database fails the start; then keep listening."""
        conn, lost = await self._listen()
        self._task = asyncio.create_task(self._supervise(conn, lost), name=self._what)

    def start_soon(self) -> None:
        """Keep listening from now on, the first connection included: for an owner that
        must start while the database is away (it is told `on_resync` once listening)."""
        self._task = asyncio.create_task(self._supervise(None, None), name=self._what)

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

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._on_notify(payload)

    async def _listen(self) -> tuple[asyncpg.Connection, asyncio.Event]:
        """A new connection that LISTENs, and the event its loss will set."""
        # command_timeout bounds LISTEN and the pings, which a dead link would hang
        conn = await asyncpg.connect(self._dsn, command_timeout=self._check_interval,
                                     server_settings={"application_name":
                                                      self._application_name})
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            # the stubs type a payload as object; asyncpg passes NOTIFY's text, a str
            await conn.add_listener(self._channel, self._notified)  # type: ignore[arg-type]
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        self._listening.set()
        return conn, lost

    async def _connection_lost(self, conn: asyncpg.Connection, lost: asyncio.Event) -> str:
        """Wait until the connection is unusable; return why."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._check_interval):
                    await lost.wait()
                return "connection closed"
            try:
                await conn.execute("select 1")
            except Exception as exc:  # any failure means the link cannot be trusted
                return f"ping failed: {exc!r}"

    async def _supervise(self, conn: asyncpg.Connection | None,
                         lost: asyncio.Event | None) -> None:
        """Re-establish LISTEN whenever the connection is lost (or first, without one);
        it only ends when cancelled."""
        delay = 0.0  # no connection yet (start_soon): try at once
        while True:
            if conn is not None and lost is not None:
                reason = await self._connection_lost(conn, lost)
                self._listening.clear()
                conn.terminate()
                self._log.warning("%s lost its connection (%s); reconnecting", self._what,
                                  reason)
                delay = self._retry_delay
            while True:
                await asyncio.sleep(delay)
                try:
                    conn, lost = await self._listen()
                    break
                except Exception:
                    self._log.warning("%s cannot listen yet; retrying", self._what,
                                      exc_info=True)
                    delay = min(max(delay, self._retry_delay) * 2, _MAX_RETRY_DELAY)
            self._log.info("%s listening again", self._what)
            self._on_resync()
