"""The live timeline feed against a real PostgreSQL, including lost and silent connections."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import msgspec
import pytest

from db.feed import RESYNC, Resync, Subscription, TimelineFeed
from db.timeline import CHANNEL, TimelineEntry
from tests.conftest import T0

WAIT = 5.0  # seconds; every wait is bounded so that a broken feed fails instead of hanging


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


async def eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(WAIT):
        while not await condition():
            await asyncio.sleep(0.02)


async def feed_backends(pool: asyncpg.Pool) -> int:
    return await pool.fetchval(
        """select count(*) from pg_stat_activity
           where application_name = 'muster-feed' and datname = current_database()""")


class Proxy:
    """A TCP relay to the database whose links a test can cut, freeze or refuse, as networks do."""

    def __init__(self, dsn: str) -> None:
        url = urlsplit(dsn)
        query = dict(parse_qsl(url.query))
        self._host = query.pop("host", url.hostname or "localhost")
        self._port = int(query.pop("port", url.port or 5432))
        userinfo = url.netloc.rpartition("@")[0]
        self._dsn_parts = (url.scheme, userinfo + "@" if userinfo else "", url.path,
                           urlencode(query))
        self._links: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter, asyncio.Event]] = []
        self._pipes: set[asyncio.Task[None]] = set()
        self.refusing = False
        self.refused = 0

    async def __aenter__(self) -> str:
        """Start relaying; return a DSN that goes through the proxy."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        scheme, userinfo, path, query = self._dsn_parts
        port = self._server.sockets[0].getsockname()[1]
        return urlunsplit((scheme, f"{userinfo}127.0.0.1:{port}", path, query, ""))

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        self.cut()

    def cut(self) -> None:
        """Close every current link, as a server restart does."""
        for client, server, _ in self._links:
            client.close()
            server.close()

    def freeze(self) -> None:
        """Stop forwarding on every current link without closing it (a half-open link)."""
        for _, _, flowing in self._links:
            flowing.clear()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self.refusing:
            self.refused += 1
            client_w.close()
            return
        if self._host.startswith("/"):
            server_r, server_w = await asyncio.open_unix_connection(
                f"{self._host}/.s.PGSQL.{self._port}")
        else:
            server_r, server_w = await asyncio.open_connection(self._host, self._port)
        flowing = asyncio.Event()
        flowing.set()
        self._links.append((client_w, server_w, flowing))
        for reader, writer in ((client_r, server_w), (server_r, client_w)):
            self._pipes.add(asyncio.create_task(self._pipe(reader, writer, flowing)))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    flowing: asyncio.Event) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                await flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()


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
    await asyncio.sleep(0.1)  # a reconnect, if stop() had failed to end it, would show now
    assert await feed_backends(pool) == 0
    assert caplog.records == []
