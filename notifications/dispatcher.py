"""The dispatcher: claims due outbox rows, sends them, records each outcome.

It wakes on NOTIFY (`db.outbox.CHANNEL`, sent when rows are written) and polls
every `poll_s` as a safety net (a lost notification, a drill reminder coming
due, a lease running out). Several dispatchers on one database share the work
through `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import asyncpg

from db import outbox
from domain.delivery import falls_back_to_sms, next_attempt
from notifications.senders import Sender, SendResult

log = logging.getLogger("muster.notifications")

LEASE = timedelta(seconds=30)  # a claimed message is claimed again if not settled by then
# At most this many sends in flight per channel (an FCM call carries a person's devices).
IN_FLIGHT = 32


class Dispatcher:
    """`batch` is how many messages one pass claims: keep it within what the slowest
    sender hands off in a lease (see notifications.providers.Providers.batch)."""

    def __init__(self, pool: asyncpg.Pool, dsn: str, senders: Mapping[str, Sender],
                 clock: Callable[[], datetime], *, batch: int = 100,
                 lease: timedelta = LEASE, poll_s: float = 2.0,
                 jitter: Callable[[], float] = random.random) -> None:
        self._pool, self._dsn, self._senders, self._clock = pool, dsn, senders, clock
        self._batch, self._lease, self._poll_s, self._jitter = batch, lease, poll_s, jitter
        self._in_flight = {channel: asyncio.Semaphore(IN_FLIGHT) for channel in senders}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncpg.Connection | None = None

    async def __aenter__(self) -> Dispatcher:
        """Dispatch in the background until the block ends."""
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
            self._task = None
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=2)
            self._listener = None

    async def run_once(self) -> int:
        """Claim and send one batch; the number of messages handled."""
        async with self._pool.acquire() as conn:
            claimed = await outbox.claim(conn, self._clock(), self._batch, self._lease)
        results = await asyncio.gather(*(self._send(m) for m in claimed))
        async with self._pool.acquire() as conn:
            for message, result in zip(claimed, results, strict=True):
                await self._record(conn, message, result)
            for event_id in dict.fromkeys(m.event_id for m in claimed):
                await outbox.record_handoff(conn, event_id, self._clock())
        return len(claimed)

    async def _send(self, message: outbox.OutboxMessage) -> SendResult:
        try:
            async with self._in_flight[message.channel]:
                return await self._senders[message.channel].send(message)
        except Exception:  # a bug or an unexpected provider error: retry, do not lose it
            log.exception("sending outbox message %s failed", message.id)
            return SendResult(outcome="retry", error_code="exception")

    async def _record(self, conn: asyncpg.Connection, message: outbox.OutboxMessage,
                      result: SendResult) -> None:
        now = self._clock()
        outcome, retry_at = result.outcome, None
        if outcome == "retry":
            retry_at = next_attempt(message.attempts, now, self._jitter())
            outcome = "retry" if retry_at else "failed"  # gave up: it shows as failed
        await outbox.record_outcome(conn, message.id, now, outcome=outcome,
                                    provider_id=result.provider_id,
                                    error_code=result.error_code, retry_at=retry_at)
        if falls_back_to_sms(message.channel, message.kind, outcome):
            await outbox.bring_reminder_forward(conn, message.event_id, message.user_id, now)
        if result.dead_tokens:
            await outbox.disable_devices(conn, result.dead_tokens, "push token rejected", now)

    async def _run(self) -> None:
        while True:
            try:
                await self._ensure_listening()
                while await self.run_once() == self._batch:
                    pass  # a full batch: there may be more
            except asyncio.CancelledError:
                raise
            except Exception:  # keep dispatching whatever happens; the poll retries
                log.exception("outbox dispatcher pass failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)

    async def _ensure_listening(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = await asyncpg.connect(self._dsn)
        await self._listener.add_listener(outbox.CHANNEL, lambda *_: self._wake.set())

