"""Migrations: applied once, in order, safely from concurrent starts."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import timedelta

import asyncpg
import pytest

from db import checkins, events, reports
from db.migrate import Migration, MigrationError, available, migrate, pending
from db.pool import connect, database_dsn
from domain.timing import timing_record
from tests import factories
from tests.conftest import T0

STEPS = [
    Migration("0001_first", "create table m_one (id int primary key)"),
    Migration("0002_second", "insert into m_one values (1)"),
]


@pytest.fixture
async def scratch_url(server_dsn):
    """An empty database of this test process's own (suites may share a server), dropped
    afterwards."""
    name = f"muster_migrate_test_{os.getpid()}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f"drop database if exists {name} with (force)")
    await admin.execute(f"create database {name}")
    yield database_dsn(server_dsn, name)
    await admin.execute(f"drop database {name} with (force)")
    await admin.close()


async def test_applies_in_order_then_nothing(scratch_url):
    """The first run applies every file in order; the second applies none."""
    conn = await connect(scratch_url)
    try:
        assert await pending(conn, STEPS) == ["0001_first", "0002_second"]
        assert await migrate(conn, STEPS) == ["0001_first", "0002_second"]
        assert await migrate(conn, STEPS) == []
        assert await pending(conn, STEPS) == []
        assert await conn.fetchval("select count(*) from m_one") == 1
    finally:
        await conn.close()


async def test_concurrent_starts_apply_each_migration_once(scratch_url):
    """Four processes migrating at once apply each file exactly once."""
    conns = [await connect(scratch_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c, STEPS) for c in conns))
        assert sorted(v for applied in results for v in applied) == ["0001_first", "0002_second"]
        assert await conns[0].fetchval("select count(*) from m_one") == 1
    finally:
        for c in conns:
            await c.close()


async def test_a_failing_migration_leaves_nothing_half_done(scratch_url):
    """A file that fails is rolled back and not recorded; earlier ones stay."""
    broken = [*STEPS, Migration("0003_broken", "insert into m_one values (2); select 1/0")]
    conn = await connect(scratch_url)
    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            await migrate(conn, broken)
        assert await pending(conn, broken) == ["0003_broken"]
        assert await conn.fetchval("select count(*) from m_one") == 1
    finally:
        await conn.close()


async def test_an_edited_applied_migration_is_refused(scratch_url):
    """Changing a file after it was applied is an error, not a silent skip."""
    conn = await connect(scratch_url)
    try:
        await migrate(conn, STEPS)
        edited = [STEPS[0], Migration("0002_second", "insert into m_one values (42)")]
        with pytest.raises(MigrationError, match="0002_second"):
            await migrate(conn, edited)
    finally:
        await conn.close()


async def test_the_real_migrations_are_numbered_and_current(db):
    """The shipped files are all applied to the test database."""
    assert await pending(db) == []


async def test_keys_stored_before_scoping_keep_answering_their_request(fresh_database):
    """0010 scopes the Idempotency-Key store by method and path: a key stored before it
    (always a start of an event, whose answer names the school) gets that school's path."""
    before = [m for m in available() if m.version < "0010"]
    conn = await connect(fresh_database)
    try:
        await migrate(conn, before)
        user, school = uuid.uuid4(), uuid.uuid4()
        await conn.execute("insert into users (id, name, phone) values ($1, 'A', '+15125550100')",
                           user)
        await conn.execute(
            "insert into idempotency_keys (user_id, key, fingerprint, response_status, "
            "response_body) values ($1, 'k', 'f', 201, $2)",
            user, {"school_id": str(school)})
        await migrate(conn)
        assert tuple(await conn.fetchrow("select method, path from idempotency_keys")) == (
            "POST", f"/v1/schools/{school}/events")
    finally:
        await conn.close()


# Takes a kept record back to how it was kept before 0012: no room names a note.
_WITHOUT_NOTES = """
update event_reports set record = jsonb_set(record, '{rooms}', (
    select jsonb_agg(room - 'note' order by position)
    from jsonb_array_elements(record -> 'rooms') with ordinality as e (room, position)))
"""


async def test_records_kept_before_room_notes_get_each_rooms_current_note(fresh_database):
    """0012 gives a record kept without notes each room's note: that of its current report
    (the newest observation, even if it arrived first), none where that report has none.
    (Every other migration is applied first, as today's code reads the events they shape.)"""
    before = [m for m in available() if not m.version.startswith("0012")]
    conn = await connect(fresh_database)
    try:
        await migrate(conn, before)
        world = await factories.lockdown_with_rooms(conn, 3, T0)
        hurt, _unreported, fixed = world["rooms"]

        def report(room, seconds, note=None, received=None):
            at = T0 + timedelta(seconds=seconds)
            return factories.room_report(world, room, at, note=note,
                                         received_at=T0 + timedelta(seconds=received or seconds))

        await checkins.store_checkins(conn, world["event"], world["school"], [
            report(hurt, 90, "two students hurt, need nurse", received=30),
            report(hurt, 40, "all here", received=200),
            report(fixed, 20, "door will not lock"), report(fixed, 60)])
        event = (await events.load_event(conn, world["event"])).event
        record = timing_record(event, await reports.load_facts(conn, event),
                               now=T0 + timedelta(minutes=5))
        await reports.store_record(conn, event.id, record, T0 + timedelta(minutes=5))
        await conn.execute(_WITHOUT_NOTES)
        await migrate(conn)
        kept = await reports.load_record(conn, event.id)
        assert kept is not None
        assert [r.note for r in kept[0].rooms] == ["two students hurt, need nurse", None, None]
        assert kept[0] == record
    finally:
        await conn.close()
