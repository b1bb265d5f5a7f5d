"""A small fleet on one database: `muster serve --workers 2` and two `muster worker`,
all started at once on an empty database, as an operator scaling out would run them."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import msgspec
import psutil
import pytest

from api.cli.demo import DemoReport, DemoSchoolReport
from db.migrate import available
from tests.conftest import new_database
from tests.processes import (
    MUSTER,
    ROOT,
    demo_contact_phones,
    env,
    free_port,
    outbox_settled,
    run,
    stop,
    wait_ready,
)
from tests.waiting import WAIT, eventually_blocking

SECRET = "fleet-test-secret-" + "f" * 32


def _start(args: list[str], log: Path, variables: dict[str, str]) -> subprocess.Popen:
    with log.open("a") as out:
        return subprocess.Popen([MUSTER, *args], env=env(**variables), cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
async def fleet_database(server_dsn):
    async with new_database(server_dsn) as url:
        yield url


@pytest.fixture(scope="module")
def fleet(fleet_database, tmp_path_factory):
    """One fleet for the module (starting five processes is most of its time): its tests
    use different schools, and each checks only its own event's messages."""
    tmp_path = tmp_path_factory.mktemp("fleet")
    variables = {"MUSTER_DATABASE_URL": fleet_database, "MUSTER_JWT_SECRET": SECRET,
                 "MUSTER_DATA_DIR": str(tmp_path)}
    port = free_port()
    procs = [_start(["serve", "--port", str(port), "--workers", "2"], tmp_path / "serve.log",
                    variables),
             *(_start(["worker"], tmp_path / f"worker-{n}.log", variables) for n in (1, 2))]
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, procs[0])
        demo = msgspec.json.decode(run("demo", "--json", env=env(**variables)).stdout,
                                   type=DemoReport)
        yield base, demo, fleet_database, tmp_path
    finally:
        for proc in procs:
            stop(proc)


async def test_migrations_are_applied_once_by_a_fleet_starting_together(fleet):
    _, _, url, _ = fleet
    conn = await asyncpg.connect(url)
    try:
        versions = [r[0] for r in await conn.fetch("select version from schema_migrations")]
    finally:
        await conn.close()
    assert sorted(versions) == [m.version for m in available()]


def _sms_lines(logs: Path, text: str) -> list[str]:
    return [line for log in logs.glob("*.log") for line in log.read_text().splitlines()
            if "SMS to" in line and text in line]


def test_a_lockdown_is_sent_once_by_four_dispatchers(fleet):
    """Two API processes and two workers all dispatch: every recipient's SMS goes out
    once, wherever it was claimed."""
    base, demo, url, logs = fleet
    school = demo.schools[1]
    event_id = _real_lockdown(base, school)
    expected = ({u.phone for u in school.users} | {demo.district_admin.phone}
                | demo_contact_phones(school.name))
    text = "LOCKDOWN: Locks, lights, out of sight."
    eventually_blocking(lambda: len(_sms_lines(logs, text)) >= len(expected))
    # every outcome recorded: nothing is left to send, so a double send would show now
    eventually_blocking(lambda: asyncio.run(outbox_settled(url, event_id)))
    sent = Counter(line.split("SMS to ")[1].split()[1].strip("():") for line in
                   _sms_lines(logs, text))
    assert set(sent) == expected and set(sent.values()) == {1}, sent


def test_every_dashboard_sees_every_checkin_whichever_process_serves_it(fleet):
    """Four streams and five check-ins, each on its own connection, which either API
    process may take: each stream gets each check-in once, in order (the processes
    share them through PostgreSQL)."""
    base, demo, _, _ = fleet
    school = demo.schools[0]
    sro = next(u for u in school.users if u.role == "sro")
    headers = {"Authorization": f"Bearer {sro.access_token}"}
    event = httpx.post(f"{base}/v1/schools/{school.id}/events",
                       json={"action": "hold", "drill": True}, headers=headers).json()
    received: list[list[str]] = [[] for _ in range(4)]
    opened = [threading.Event() for _ in received]

    def watch(seen: list[str], open_: threading.Event) -> None:
        with httpx.Client(timeout=WAIT) as c, \
                c.stream("GET", f"{base}/v1/events/{event['id']}/stream", headers=headers) as s:
            for line in s.iter_lines():
                open_.set()  # the first message: the stream is open
                if line.startswith("data: ") and '"client_id"' in line:
                    seen.append(msgspec.json.decode(line[6:])["client_id"])
                    if len(seen) == 5:
                        return

    watchers = [threading.Thread(target=watch, args=pair, daemon=True)
                for pair in zip(received, opened, strict=True)]
    for w in watchers:
        w.start()
    eventually_blocking(lambda: all(o.is_set() for o in opened))
    posted = []
    for n, room in enumerate(school.rooms[:5]):
        client_id = f"00000000-0000-4000-8000-{n:012d}"
        with httpx.Client() as c:  # a new connection each: either process may take it
            r = c.post(f"{base}/v1/events/{event['id']}/checkins", headers=headers,
                       json={"client_id": client_id, "room_id": str(room.id), "status": "ok",
                             "students_present": 20})
        assert r.status_code == 201, r.text
        posted.append(client_id)
    for w in watchers:
        w.join(timeout=WAIT)
    assert received == [posted] * 4


def _real_lockdown(base: str, school: DemoSchoolReport) -> uuid.UUID:
    """The school's SRO starts a real lockdown."""
    sro = next(u for u in school.users if u.role == "sro")
    r = httpx.post(f"{base}/v1/schools/{school.id}/events",
                   json={"action": "lockdown", "drill": False},
                   headers={"Authorization": f"Bearer {sro.access_token}"})
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["id"])


def _demo_lockdown(base: str, variables: dict[str, str]) -> uuid.UUID:
    """Seed the demo district; its first school's SRO starts a real lockdown."""
    demo = msgspec.json.decode(run("demo", "--json", env=env(**variables)).stdout,
                               type=DemoReport)
    return _real_lockdown(base, demo.schools[0])


def _variables(url: str, data: Path) -> dict[str, str]:
    return {"MUSTER_DATABASE_URL": url, "MUSTER_JWT_SECRET": SECRET,
            "MUSTER_DATA_DIR": str(data)}


def test_a_serve_that_does_not_dispatch_leaves_the_alerts_to_a_worker(fresh_database,
                                                                       tmp_path):
    """`muster serve --no-dispatch`: the API process sends nothing; the lockdown's SMS
    wait for the `muster worker` started after it, and all go out from the worker."""
    url = fresh_database
    variables = _variables(url, tmp_path)
    port = free_port()
    serve = _start(["serve", "--port", str(port), "--no-dispatch"], tmp_path / "serve.log",
                   variables)
    worker = None
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, serve)
        event_id = _demo_lockdown(base, variables)
        worker = _start(["worker"], tmp_path / "worker.log", variables)
        eventually_blocking(lambda: asyncio.run(outbox_settled(url, event_id)))
        text = "LOCKDOWN: Locks, lights, out of sight."
        assert _sms_lines(tmp_path, text)
        assert not [line for line in (tmp_path / "serve.log").read_text().splitlines()
                    if "SMS to" in line]
    finally:
        for proc in (serve, worker):
            if proc is not None:
                stop(proc)


def _dispatchers_of(serve: subprocess.Popen) -> list[psutil.Process]:
    return [p for p in psutil.Process(serve.pid).children() if "worker" in p.cmdline()]


def test_serve_keeps_its_dispatcher_processes_running_and_stops_them(fresh_database,
                                                                     tmp_path):
    """`muster serve --dispatchers 2`: two `muster worker` beside the API; one that dies is
    started again and the alerts still go; stopping the server stops them, and a server
    killed outright leaves none behind."""
    variables = _variables(fresh_database, tmp_path)
    port = free_port()
    serve = _start(["serve", "--port", str(port), "--dispatchers", "2"], tmp_path / "serve.log",
                   variables)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, serve)
        eventually_blocking(lambda: len(_dispatchers_of(serve)) == 2)
        gone = _dispatchers_of(serve)[0]
        gone.kill()
        eventually_blocking(lambda: len(_dispatchers_of(serve)) == 2
                            and gone.pid not in [p.pid for p in _dispatchers_of(serve)])
        event_id = _demo_lockdown(base, variables)
        eventually_blocking(lambda: asyncio.run(outbox_settled(fresh_database, event_id)))
        dispatchers = _dispatchers_of(serve)
    finally:
        stop(serve)
    assert not [p for p in dispatchers if p.is_running()]

    serve = _start(["serve", "--port", str(port), "--dispatchers", "1"], tmp_path / "serve.log",
                   variables)
    try:
        wait_ready(base, serve)
        eventually_blocking(lambda: len(_dispatchers_of(serve)) == 1)
        orphan = _dispatchers_of(serve)[0]
    finally:
        serve.kill()
        serve.wait()
    eventually_blocking(lambda: not orphan.is_running() or orphan.status() == "zombie")
