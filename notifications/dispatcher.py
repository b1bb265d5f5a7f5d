"""The dispatcher: claims due outbox rows, sends them, records their outcomes.

One lane per channel, so that push never waits behind the SMS rate limit. A lane is a
pipeline, not a batch: it holds up to its `batch` messages leased (being sent, or their
outcome being written) and claims more, most urgent first, as soon as a quarter of them
are settled, without waiting for the slowest send. Outcomes are written together: one
statement writes all those waiting, and while it runs the next ones gather (no timer:
a lone outcome is written at once). Alert waves (notifications/waves.py) are written
out by a task of their own, so that a lane sends a wave's first part while the rest is
still being written. Each lane wakes on NOTIFY (`db.outbox.CHANNEL`, sent
when rows are written; the supervised listener of db/listen.py also wakes them when it
reconnects, as notifications may have been missed), when it has room again, and polls
every `poll_s` as a safety net (a lost notification, a drill reminder coming due, a
lease running out). Several dispatchers on one database share the work through
`FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

import asyncpg

from db import devices, outbox, receipts
from db.listen import Listener
from db.pool import Connection, unavailable, while_unavailable
from domain.alerts import Channel, MessageKind
from domain.delivery import DeliveryOutcome, OutboxMessage, falls_back_to_sms, next_attempt
from domain.links import Links
from domain.repeats import DEFAULT_WINDOWS, RepeatWindows
from notifications.senders import Sender, SendResult
from notifications.waves import write_waves

log = logging.getLogger("muster.notifications")

LEASE = timedelta(seconds=30)  # a claimed message is claimed again if not settled by then
# Provider calls at once per channel (an FCM call carries one person's devices): push is
# bounded by the provider's latency (300 at FCM's ~50 ms: 6,000 a second), SMS by its rate
# limit anyway. A lane holds more than it calls for (its `batch`): those claimed ahead,
# so that the calls go on while a claim or the writing of outcomes takes its time.
IN_FLIGHT: dict[str, int] = {Channel.PUSH: 300, Channel.SMS: 32, Channel.VOICE: 32}

_WAVES = "waves"  # the wake of the task writing out alert waves
T = TypeVar("T")

# Told of each outcome recorded: channel, outcome (sent, failed, retry), provider's reason.
OutcomeObserver = Callable[[str, str, str | None], None]
Settled = list[tuple[OutboxMessage, SendResult]]


class Dispatcher:
    """`batch` is how many messages a lane holds leased at once (per channel, or one for
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
        self._lanes = {ch: _Lane(self._batch[ch]) for ch in senders}
        self._outcomes = _Outcomes(self._write_outcomes)
        self._wakes = {channel: asyncio.Event() for channel in [*senders, _WAVES]}
        self._tasks: list[asyncio.Task[None]] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._listener = Listener(dsn, outbox.CHANNEL, self._wake_all, self._wake_all,
                                  what="outbox listener", application_name="muster-outbox",
                                  log=log)

    async def __aenter__(self) -> Dispatcher:
        """Dispatch in the background, one lane per channel, until the block ends (the
        database may be away: the lanes and the listener wait for it)."""
        self._listener.start_soon()
        self._tasks = [asyncio.create_task(self._lane(ch), name=f"outbox-{ch}")
                       for ch in self._senders]
        self._tasks.append(asyncio.create_task(self._waves(), name="outbox-waves"))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop claiming and sending; what is still leased is claimed again after its
        lease (by another dispatcher, or this one started again)."""
        tasks = [*self._tasks, *self._sending]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        self._tasks = []
        await self._outcomes.stop()
        await self._listener.stop()

    async def run_once(self, channel: str | None = None) -> int:
        """Write out waiting alert waves, then claim as many messages as a lane holds at
        once (of one channel, if given, else of each), send them and record their
        outcomes; how many were claimed. For tests and tools: a running dispatcher's lanes
        claim again as their messages settle, without waiting for the slowest."""
        await write_waves(self._pool, self._clock, self._links, self._repeats)
        claimed: list[OutboxMessage] = []
        for lane in [channel] if channel else list(self._senders):
            claimed += (await self._claim(lane, self._batch[lane])).messages
        await asyncio.gather(*(self._send_and_record(m) for m in claimed))
        return len(claimed)

    async def _claim(self, channel: str, limit: int) -> outbox.Claim:
        async with self._pool.acquire() as conn:
            return await outbox.claim(conn, self._clock(), limit, self._lease, channel)

    async def _send_and_record(self, message: OutboxMessage) -> None:
        await self._outcomes.record(message, await self._send(message))

    async def _send(self, message: OutboxMessage) -> SendResult:
        try:
            async with self._in_flight[message.channel]:
                return await self._senders[message.channel].send(message)
        except Exception:  # a bug or an unexpected provider error: retry, do not lose it
            log.exception("sending outbox message %s failed", message.id,
                          extra={"event_id": str(message.event_id), "channel": message.channel})
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code="exception")

    async def _write_outcomes(self, settled: Settled) -> None:
        """Record the outcomes, then tell the observer and note the events whose messages
        have all been handed off."""
        now = self._clock()
        outcomes = [self._outcome(message, result, now) for message, result in settled]
        await self._record_until_written(settled, outcomes, now)
        for (message, result), outcome in zip(settled, outcomes, strict=True):
            self._on_outcome(message.channel, outcome.outcome, result.error_code)
        await self._note_handoffs(settled, now)

    async def _record_until_written(self, settled: Settled, outcomes: list[outbox.Outcome],
                                    now: datetime) -> None:
        """A message handed off whose outcome is not written (the database is restarting)
        stays leased, and is sent again once its lease has run out: keep trying to write
        the outcome for as long as the dispatcher runs, however long the database is away.
        Giving up would send it again from this very process, which knows it went out;
        meanwhile the lane holds it, and claims no more than it has room for."""

        async def record(conn: Connection) -> None:
            # each statement is whole by itself, and doing it again changes nothing
            await outbox.record_outcomes(conn, now, outcomes)
            fallbacks = [(m.event_id, m.user_id) for (m, _), o in zip(settled, outcomes,
                                                                       strict=True)
                         if falls_back_to_sms(m.channel, m.kind, o.outcome)
                         and m.event_id and m.user_id]
            if fallbacks:
                await outbox.bring_reminders_forward(conn, fallbacks, now)
            dead = tuple(token for _, result in settled for token in result.dead_tokens)
            if dead:
                await devices.disable_devices(conn, dead, "push token rejected", now)

        await while_unavailable(self._pool, record, patience_s=math.inf,
                                what=f"recording {len(settled)} outbox outcome(s)")

    def _outcome(self, message: OutboxMessage, result: SendResult,
                 now: datetime) -> outbox.Outcome:
        outcome, retry_at = result.outcome, None
        if outcome == DeliveryOutcome.RETRY:
            retry_at = next_attempt(message.attempts, now, self._jitter())
            # gave up: it shows as failed
            outcome = DeliveryOutcome.RETRY if retry_at else DeliveryOutcome.FAILED
        return outbox.Outcome(message_id=message.id, outcome=outcome,
                              provider_id=result.provider_id, error_code=result.error_code,
                              retry_at=retry_at)

    async def _note_handoffs(self, settled: Settled, now: datetime) -> None:
        """The hand-off milestone of the events whose alert messages were settled (a
        reminder's changes nothing: reminders are not counted). The outcomes are written
        whatever happens here: a milestone missed now is noted with the event's next."""
        events = dict.fromkeys(m.event_id for m, _ in settled
                               if m.event_id and m.kind != MessageKind.REMINDER)
        if not events:
            return
        try:
            async with self._pool.acquire() as conn:
                for event_id in events:
                    await receipts.record_handoff(conn, event_id, now)
        except Exception as exc:
            if unavailable(exc):
                log.warning("noting hand-offs: database unavailable (%s)", type(exc).__name__)
            else:
                log.exception("noting hand-offs failed")

    async def _lane(self, channel: str) -> None:
        lane = self._lanes[channel]

        async def fill() -> bool:
            more = await _whatever_happens(self._fill(channel, lane),
                                           f"outbox dispatcher claim ({channel})")
            if more:
                await lane.room.wait()
            return bool(more)

        await self._on_each_wake(self._wakes[channel], fill)

    async def _waves(self) -> None:
        """Write out the alert waves requests leave, apart from the lanes: they send a
        wave's first part while its next is written (notifications/waves.py)."""

        async def write() -> bool:
            await _whatever_happens(write_waves(self._pool, self._clock, self._links,
                                                self._repeats), "writing alert waves")
            return False

        await self._on_each_wake(self._wakes[_WAVES], write)

    async def _on_each_wake(self, wake: asyncio.Event, step: Callable[[], Awaitable[bool]]
                            ) -> None:
        """Run `step` again and again: at once while it says there may be more, else when
        woken (a notification from its start on counts) or after `poll_s`."""
        while True:
            wake.clear()
            if await step():
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._poll_s)

    async def _fill(self, channel: str, lane: _Lane) -> bool:
        """Claim what the lane has room for and start sending it; whether more may be due
        (it took all it had room for, or it is full)."""
        room = lane.room_left()
        if room < lane.chunk:
            return True
        claim = await self._claim(channel, room)
        lane.hold(len(claim.messages))
        for message in claim.messages:
            task = asyncio.create_task(self._send_and_settle(message, lane))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return claim.looked_at == room

    async def _send_and_settle(self, message: OutboxMessage, lane: _Lane) -> None:
        try:
            await self._send_and_record(message)
        except Exception:  # a bug: the message stays leased, and is sent again after it
            log.exception("recording outbox message %s failed", message.id)
        finally:
            lane.settle()

    def _wake_all(self, *_: object) -> None:
        for wake in self._wakes.values():
            wake.set()


class _Lane:
    """The messages a lane holds leased (claimed and not yet recorded), and whether it
    has room to claim more: a quarter of what it may hold, so that claims are few."""

    def __init__(self, capacity: int) -> None:
        self.capacity, self.chunk = capacity, max(1, capacity // 4)
        self.held = 0
        self.room = asyncio.Event()
        self.room.set()

    def room_left(self) -> int:
        return self.capacity - self.held

    def hold(self, count: int) -> None:
        self.held += count
        if self.room_left() < self.chunk:
            self.room.clear()

    def settle(self) -> None:
        self.held -= 1
        if self.room_left() >= self.chunk:
            self.room.set()


class _Outcomes:
    """Outcomes waiting to be written, written together by one task: whatever gathered
    while the previous write ran. A write that fails for a reason other than the
    database being away (a bug, a constraint) is done again one outcome at a time, so
    that one bad outcome holds back no other."""

    def __init__(self, write: Callable[[Settled], Awaitable[None]]) -> None:
        self._write = write
        self._waiting: list[tuple[OutboxMessage, SendResult, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, message: OutboxMessage, result: SendResult) -> None:
        """Return once the outcome is written."""
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, result, written))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_waiting(), name="outbox-outcomes")
        await written

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.wait([self._writer])

    async def _write_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._write([(m, r) for m, r, _ in batch])
                except Exception as exc:
                    if len(batch) == 1:
                        _settle(batch[0][2], exc)
                        continue
                    for message, result, written in batch:
                        try:
                            await self._write([(message, result)])
                        except Exception as alone:
                            _settle(written, alone)
                        else:
                            _settle(written)
                else:
                    for *_, written in batch:
                        _settle(written)
        finally:
            self._writer = None


async def _whatever_happens(work: Awaitable[T], what: str) -> T | None:
    """`work`'s result, or None once it failed and was logged: a dispatcher keeps going
    whatever happens (the database restarting, a bug), and its poll tries again."""
    try:
        return await work
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if unavailable(exc):
            log.warning("%s: database unavailable (%s)", what, type(exc).__name__)
        else:
            log.exception("%s failed", what)
        return None


def _settle(written: asyncio.Future[None], failure: Exception | None = None) -> None:
    if written.done():  # its sender was cancelled (the dispatcher stops)
        return
    if failure is None:
        written.set_result(None)
    else:
        written.set_exception(failure)
