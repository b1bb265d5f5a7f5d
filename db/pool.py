"""Connections: the asyncpg pool and making sure the database exists."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import TypeAlias, TypeVar

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)
T = TypeVar("T")

# What queries accept: `pool.acquire()` hands out a proxy, which is no asyncpg.Connection
# (neither at run time nor to the type checker), and CLI commands use a dedicated one.
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy


# What a refused or lost database connection raises: the server restarting, a failover,
# a network break. Not a bug; the same request later may well succeed.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError, asyncpg.CrashShutdownError)


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database is unreachable or the connection was lost. A loss
    inside a transaction block surfaces as asyncpg's InterfaceError about the closed
    connection, with the loss itself as its context; other InterfaceErrors are bugs."""
    return isinstance(exc, DATABASE_UNAVAILABLE) or (
        isinstance(exc, asyncpg.InterfaceError)
        and isinstance(exc.__context__, DATABASE_UNAVAILABLE))


_renewing: set[asyncio.Task[None]] = set()


def renew_connections(pool: asyncpg.Pool) -> None:
    """Have the pool replace its connections (those in use, when released): after a
    restart every one of them is broken. For code that cannot await (exception
    handlers); the pool only marks them, so this is done at the next turn of the loop."""
    task = asyncio.get_running_loop().create_task(pool.expire_connections())
    _renewing.add(task)
    task.add_done_callback(_renewing.discard)


async def while_unavailable(pool: asyncpg.Pool, work: Callable[[Connection], Awaitable[T]],
                            *, patience_s: float, what: str) -> T:
    """`work(conn)` on a pooled connection, tried again while the database is unavailable
    (with backoff, renewing the pool's connections) for up to `patience_s` seconds.
    For background work that must not give up at the first refusal; requests answer
    503 instead and let the caller retry."""

    async def attempt() -> T:
        async with pool.acquire() as conn:
            return await work(conn)

    return await retry_while_unavailable(pool, attempt, patience_s=patience_s, what=what)


async def retry_while_unavailable(pool: asyncpg.Pool, attempt: Callable[[], Awaitable[T]], *,
                                  patience_s: float, what: str) -> T:
    """As `while_unavailable`, for work that takes its connections from `pool` itself
    (e.g. through a cache)."""
    deadline = time.monotonic() + patience_s
    delay = 0.1
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not unavailable(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: database unavailable (%s); retrying", what, type(exc).__name__)
            await pool.expire_connections()
            await asyncio.sleep(delay)
            delay = min(2 * delay, 2.0)


async def _init_connection(conn: asyncpg.Connection) -> None:
    """jsonb columns travel as msgspec-encoded bytes <-> Python values."""
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda v: b"\x01" + msgspec.json.encode(v),
        decoder=lambda b: msgspec.json.decode(b[1:]),
        format="binary",
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to reset on release: Muster never changes session state on a pooled
    connection (no SET, no LISTEN, only transaction-scoped advisory locks), and an open
    transaction is rolled back by asyncpg before this runs. The default reset query
    would cost a round trip per request."""


async def create_pool(dsn: str, max_size: int = 10) -> asyncpg.Pool:
    """The request pool; every connection speaks jsonb as Python values."""
    return await asyncpg.create_pool(
        dsn, min_size=1, max_size=max_size, init=_init_connection, command_timeout=30,
        reset=_keep_session, timeout=5,  # connecting to a server that is down fails soon
    )


async def connect(dsn: str) -> asyncpg.Connection:
    """One dedicated connection (CLI commands, migrations, LISTEN)."""
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


async def ensure_database(server_dsn: str, name: str) -> str:
    """Create database `name` on the server if missing; return its DSN."""
    conn = await asyncpg.connect(server_dsn)
    try:
        exists = await conn.fetchval("select 1 from pg_database where datname = $1", name)
        if not exists:
            # another muster process may create it at the same moment
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f"create database {identifier(name)}")
    finally:
        await conn.close()
    return database_dsn(server_dsn, name)


def identifier(name: str) -> str:
    """A name for SQL that cannot be a parameter (a database's), quoted once checked:
    only plain lower-case names are accepted, so nothing can be smuggled in."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain SQL name: {name!r}")
    return f'"{name}"'


def database_dsn(server_dsn: str, database: str) -> str:
    """The DSN of another database on the same server, keeping host and query."""
    base, _, query = server_dsn.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")
