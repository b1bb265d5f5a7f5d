"""The live timeline feed against a real PostgreSQL, including lost and silent connections."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
import warnings
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest

from db.feed import RESYNC, Resync, Subscription, TimelineFeed
from db.timeline import CHANNEL, TimelineEntry
from tests.conftest import T0
from tests.proxy import Proxy
from tests.waiting import WAIT, eventually


@contextlib.asynccontextmanager
async def running(dsn: str, *, queue_size: int = 100,
                  check_interval: float = 5.0) -> AsyncIterator[TimelineFeed]:
    feed = TimelineFeed(dsn, retry_delay=0.05, queue_size=queue_size,
                        check_interval=check_interval)
    await feed.start()
    try:
        yield feed
    finally:
        await asyncio.wait_for(feed.stop(), WAIT)


@pytest.fixture
async def feed(database_url: str) -> AsyncIterator[TimelineFeed]:
    async with running(database_url) as feed:
        yield feed


async def notify(pool: asyncpg.Pool, event_id: uuid.UUID, seq: int) -> TimelineEntry:
    entry = TimelineEntry(event_id=event_id, seq=seq, at=T0, kind="room_reported",
                          actor_id=None, detail=msgspec.Raw(b'{"room":"101"}'))
    await pool.execute("select pg_notify($1, $2)", CHANNEL, msgspec.json.encode(entry).decode())
    return entry


async def receive(sub: Subscription) -> TimelineEntry | Resync:
    return await asyncio.wait_for(sub.next(), WAIT)


async def receive_seq(sub: Subscription) -> int:
    item = await receive(sub)
    assert isinstance(item, TimelineEntry), item
    return item.seq


async def feed_backends(pool: asyncpg.Pool) -> int:
    return await pool.fetchval(
        """select count(*) from pg_stat_activity
           where application_name = 'muster-feed' and datname = current_database()""")


async def test_entry_reaches_only_subscribers_of_its_event(feed: TimelineFeed,
                                                           pool: asyncpg.Pool) -> None:
    """A notification reaches the subscribers of its event and no subscriber of another event."""
    a, b = uuid.uuid4(), uuid.uuid4()
    with feed.subscribe(a) as sub_a, feed.subscribe(a) as sub_a2, feed.subscribe(b) as sub_b:
        b1 = await notify(pool, b, 1)
        a1 = await notify(pool, a, 1)
        b2 = await notify(pool, b, 2)
        assert await receive(sub_a) == a1
        assert await receive(sub_a2) == a1
        assert [await receive(sub_b), await receive(sub_b)] == [b1, b2]


async def test_entries_arrive_in_notification_order(feed: TimelineFeed,
                                                    pool: asyncpg.Pool) -> None:
    """Many entries of one event arrive complete and in the order they were notified."""
    event_id = uuid.uuid4()
    with feed.subscribe(event_id) as sub:
        for seq in range(1, 51):
            await notify(pool, event_id, seq)
        seqs = []
        async with asyncio.timeout(WAIT):
            async for entry in sub:
                assert isinstance(entry, TimelineEntry), entry
                seqs.append(entry.seq)
                if len(seqs) == 50:
                    break
    assert seqs == list(range(1, 51))


async def test_leaving_the_with_block_unsubscribes(feed: TimelineFeed,
                                                   pool: asyncpg.Pool) -> None:
    """A subscription gets nothing once its `with` block is left."""
    event_id = uuid.uuid4()
    with feed.subscribe(event_id) as gone:
        pass
    with feed.subscribe(event_id) as sub:
        await notify(pool, event_id, 1)
        assert await receive_seq(sub) == 1
    # delivery to every subscriber of an event happens in one callback, so it would be queued
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(gone.next(), 0.05)


async def test_malformed_notification_is_skipped(feed: TimelineFeed, pool: asyncpg.Pool) -> None:
    """A payload that is not a TimelineEntry is logged and the next entries still arrive."""
    event_id = uuid.uuid4()
    with feed.subscribe(event_id) as sub:
        await pool.execute("select pg_notify($1, $2)", CHANNEL, '{"not": "an entry"}')
        await notify(pool, event_id, 1)
        assert await receive_seq(sub) == 1


async def test_terminated_backend_gives_resync_then_entries_flow(
        database_url: str, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture) -> None:
    """After pg_terminate_backend of the feed's connection, subscribers get a Resync
    and later notifications arrive again."""
    event_id = uuid.uuid4()
    caplog.set_level(logging.INFO, logger="db.feed")
    # pings too rare to help: the termination listener alone must notice
    async with running(database_url, check_interval=60) as feed:
        with feed.subscribe(event_id) as sub:
            killed = await pool.fetchval(
                """select count(*) filter (where pg_terminate_backend(pid))
                   from pg_stat_activity
                   where application_name = 'muster-feed' and datname = current_database()""")
            assert killed == 1
            assert await receive(sub) == RESYNC
            await notify(pool, event_id, 7)  # no wait_listening: LISTEN is on before Resync
            assert await receive_seq(sub) == 7
    levels = [(r.levelname, r.getMessage().split(" (")[0]) for r in caplog.records]
    assert levels == [("WARNING", "timeline feed lost its connection"),
                      ("INFO", "timeline feed listening again")]


async def test_silent_connection_is_detected_by_ping(database_url: str,
                                                     pool: asyncpg.Pool) -> None:
    """A link that goes silent without closing is found by the periodic ping and replaced."""
    event_id = uuid.uuid4()
    proxy = Proxy(database_url)
    async with proxy as proxy_dsn, running(proxy_dsn, check_interval=0.2) as feed:
        with feed.subscribe(event_id) as sub:
            proxy.freeze()
            assert await receive(sub) == RESYNC
            await notify(pool, event_id, 1)
            assert await receive_seq(sub) == 1


async def test_feed_retries_until_the_database_is_back(database_url: str,
                                                       pool: asyncpg.Pool) -> None:
    """While the database refuses connections the feed keeps retrying, and resyncs once back."""
    event_id = uuid.uuid4()
    proxy = Proxy(database_url)
    async with proxy as proxy_dsn, running(proxy_dsn) as feed:
        with feed.subscribe(event_id) as sub:
            proxy.refusing = True
            proxy.cut()

            async def refused_twice() -> bool:
                return proxy.refused >= 2

            await eventually(refused_twice)
            proxy.refusing = False
            assert await receive(sub) == RESYNC
            await notify(pool, event_id, 1)
            assert await receive_seq(sub) == 1


async def test_overflow_drops_the_queue_for_one_resync(database_url: str,
                                                       pool: asyncpg.Pool) -> None:
    """A subscriber that falls queue_size entries behind gets one Resync, then new entries."""
    event_id, marker_id = uuid.uuid4(), uuid.uuid4()
    async with running(database_url, queue_size=3) as feed:
        with feed.subscribe(event_id) as sub, feed.subscribe(marker_id) as marker:
            for seq in range(1, 6):
                await notify(pool, event_id, seq)
            await notify(pool, marker_id, 1)
            # dispatch keeps notification order: once the marker is in, so are all five
            assert await receive_seq(marker) == 1
            assert await receive(sub) == RESYNC
            assert await receive_seq(sub) == 5


async def test_stop_closes_the_connection_quietly(database_url: str, pool: asyncpg.Pool,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """stop() closes the listener's connection without a reconnect; a second stop() is harmless."""
    caplog.set_level(logging.INFO, logger="db.feed")
    feed = TimelineFeed(database_url)
    await feed.start()
    await asyncio.wait_for(feed.wait_listening(), WAIT)
    assert await feed_backends(pool) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await asyncio.wait_for(feed.stop(), WAIT)
        await asyncio.wait_for(feed.stop(), WAIT)
        gc.collect()  # a connection dropped without close() would warn here
    assert [str(w.message) for w in caught] == []

    async def no_backend() -> bool:
        return await feed_backends(pool) == 0

    await eventually(no_backend)
    # a reconnect could only come from the feed's task: once it has ended, none can
    await eventually(lambda: not any(task.get_name() == "timeline-feed"
                                     for task in asyncio.all_tasks()))
    assert await feed_backends(pool) == 0
    assert caplog.records == []
