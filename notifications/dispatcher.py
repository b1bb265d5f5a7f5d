"""The dispatcher: claims due outbox rows, sends them, records each outcome.

One lane per channel, so that push never waits behind the SMS rate limit. Each
lane wakes on NOTIFY (`db.outbox.CHANNEL`, sent when rows are written; the
supervised listener of db/listen.py also wakes them when it reconnects, as
notifications may have been missed) and polls every `poll_s` as a safety net (a
lost notification, a drill reminder coming due, a lease running out). Several
dispatchers on one database share the work through `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import asyncpg

from db import devices, outbox, receipts
from db.listen import Listener
from db.pool import Connection, unavailable, while_unavailable
from domain.alerts import Channel
from domain.delivery import DeliveryOutcome, OutboxMessage, falls_back_to_sms, next_attempt
from domain.links import Links
from domain.repeats import DEFAULT_WINDOWS, RepeatWindows
from notifications.queueing import write_waves
from notifications.senders import Sender, SendResult

log = logging.getLogger("muster.notifications")

LEASE = timedelta(seconds=30)  # a claimed message is claimed again if not settled by then
# Sends in flight per channel (an FCM call carries one person's devices): push is
# bounded by the provider's latency, SMS by its rate limit anyway.
IN_FLIGHT: dict[str, int] = {Channel.PUSH: 100, Channel.SMS: 32, Channel.VOICE: 32}

# Told of each outcome recorded: channel, outcome (sent, failed, retry), provider's reason.
OutcomeObserver = Callable[[str, str, str | None], None]


class Dispatcher:
    """`batch` is how many messages one pass of a lane claims (per channel, or one for
    all): keep SMS within what it hands off in a lease (Providers.batches). `on_outcome`
    hears of each outcome once it is recorded (the metrics count them). `links` makes the
    links that the alerts of the waves it writes out carry, `repeats` times their repeats."""

    def __init__(self, pool: asyncpg.Pool, dsn: str, senders: Mapping[str, Sender],
                 clock: Callable[[], datetime], *, links: Links,
                 repeats: RepeatWindows = DEFAULT_WINDOWS,
                 batch: int | Mapping[str, int] = 100, lease: timedelta = LEASE,
                 poll_s: float = 2.0,
                 jitter: Callable[[], float] = random.random,
                 on_outcome: OutcomeObserver = lambda channel, outcome, reason: None) -> None:
        self._pool, self._senders, self._clock, self._links = pool, senders, clock, links
        self._repeats = repeats
        self._on_outcome = on_outcome
        self._lease, self._poll_s, self._jitter = lease, poll_s, jitter
        self._batch = dict(batch) if isinstance(batch, Mapping) else dict.fromkeys(senders, batch)
        self._in_flight = {ch: asyncio.Semaphore(IN_FLIGHT.get(ch, 32)) for ch in senders}
        self._wakes = {channel: asyncio.Event() for channel in senders}
        self._tasks: list[asyncio.Task[None]] = []
        self._listener = Listener(dsn, outbox.CHANNEL, self._wake_all, self._wake_all,
                                  what="outbox listener", application_name="muster-outbox",
                                  log=log)

    async def __aenter__(self) -> Dispatcher:
        """Dispatch in the background, one lane per channel, until the block ends (the
        database may be away: the lanes and the listener wait for it)."""
        self._listener.start_soon()
        self._tasks = [asyncio.create_task(self._lane(ch), name=f"outbox-{ch}")
                       for ch in self._senders]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        self._tasks = []
        await self._listener.stop()

    async def run_once(self, channel: str | None = None) -> int:
        """Write out waiting alert waves, then claim and send one batch (of one channel,
        if given); how many were handled. Each outcome is recorded as soon as its send
        returns, so a rate-limited lane keeps handing off while earlier outcomes are
        written."""
        limit = self._batch[channel] if channel else max(self._batch.values())
        await write_waves(self._pool, self._clock, self._links, self._repeats)
        async with self._pool.acquire() as conn:
            claimed = await outbox.claim(conn, self._clock(), limit, self._lease, channel)
        await asyncio.gather(*(self._send_and_record(m) for m in claimed))
        async with self._pool.acquire() as conn:
            for event_id in dict.fromkeys(m.event_id for m in claimed if m.event_id):
                await receipts.record_handoff(conn, event_id, self._clock())
        return len(claimed)

    async def _send_and_record(self, message: OutboxMessage) -> None:
        result = await self._send(message)
        await self._record_until_written(message, result)

    async def _record_until_written(self, message: OutboxMessage,
                                    result: SendResult) -> None:
        """A message handed off whose outcome is not written (the database is restarting)
        stays leased, and is sent again once its lease has run out: keep trying to write
        the outcome for as long as the dispatcher runs, however long the database is away.
        Giving up would send it again from this very process, which knows it went out;
        meanwhile the lane claims nothing more, which it could not anyway."""
        await while_unavailable(self._pool, lambda conn: self._record(conn, message, result),
                                patience_s=math.inf,
                                what=f"recording outbox message {message.id}")

    async def _send(self, message: OutboxMessage) -> SendResult:
        try:
            async with self._in_flight[message.channel]:
                return await self._senders[message.channel].send(message)
        except Exception:  # a bug or an unexpected provider error: retry, do not lose it
            log.exception("sending outbox message %s failed", message.id,
                          extra={"event_id": str(message.event_id), "channel": message.channel})
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code="exception")

    async def _record(self, conn: Connection, message: OutboxMessage,
                      result: SendResult) -> None:
        now = self._clock()
        outcome, retry_at = result.outcome, None
        if outcome == DeliveryOutcome.RETRY:
            retry_at = next_attempt(message.attempts, now, self._jitter())
            # gave up: it shows as failed
            outcome = DeliveryOutcome.RETRY if retry_at else DeliveryOutcome.FAILED
        await outbox.record_outcome(conn, message.id, now, outcome=outcome,
                                    provider_id=result.provider_id,
                                    error_code=result.error_code, retry_at=retry_at)
        self._on_outcome(message.channel, outcome, result.error_code)
        if (falls_back_to_sms(message.channel, message.kind, outcome)
                and message.event_id and message.user_id):
            await outbox.bring_reminder_forward(conn, message.event_id, message.user_id, now)
        if result.dead_tokens:
            await devices.disable_devices(conn, result.dead_tokens, "push token rejected", now)

    async def _lane(self, channel: str) -> None:
        wake = self._wakes[channel]
        while True:
            try:
                while await self.run_once(channel) == self._batch[channel]:
                    pass  # a full batch: there may be more
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep dispatching whatever happens; the poll retries
                if unavailable(exc):  # it is restarting
                    log.warning("outbox dispatcher pass (%s): database unavailable (%s)",
                                channel, type(exc).__name__)
                else:
                    log.exception("outbox dispatcher pass (%s) failed", channel)
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._poll_s)

    def _wake_all(self, *_: object) -> None:
        for wake in self._wakes.values():
            wake.set()

