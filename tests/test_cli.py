"""The `muster` command as an operator runs it: real processes, real PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import msgspec
import psutil
import pytest

from api.demo_report import DemoReport
from db.pool import database_dsn

MUSTER = str(Path(sys.executable).parent / "muster")
ROOT = Path(__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSTER_")}
    return env | extra


def _run(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([MUSTER, *args], env=env, capture_output=True, text=True, timeout=60,
                          check=check, cwd=ROOT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_serving(pgdata: Path) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "postgres" and str(pgdata) in " ".join(p.info["cmdline"] or [])]


def _wait_ready(base: str, proc: subprocess.Popen, timeout: float = 30) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        assert proc.poll() is None, proc.stderr.read()
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return time.monotonic() - start
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("muster serve did not become ready")


def _serve(data_dir: Path, port: int, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([MUSTER, "serve", "--port", str(port), *flags],
                            env=_env(MUSTER_DATA_DIR=str(data_dir)), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)


def test_serve_on_embedded_postgres_end_to_end(tmp_path):
    """serve starts an embedded server, shares it with `demo`, keeps data across
    restarts, and leaves no PostgreSQL behind when stopped."""
    data, port = tmp_path / "data", _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _serve(data, port)
    try:
        _wait_ready(base, proc)
        servers = _postgres_serving(data / "pgdata")
        demo = _run("demo", "--json", env=_env(MUSTER_DATA_DIR=str(data)))
        assert _postgres_serving(data / "pgdata") == servers  # reused, not a second one
        admin = msgspec.json.decode(demo.stdout, type=DemoReport).district_admin
        r = httpx.get(f"{base}/v1/schools",
                      headers={"Authorization": f"Bearer {admin.access_token}"})
        assert r.status_code == 200 and len(r.json()["items"]) == 2
    finally:
        _stop(proc)
    assert _postgres_serving(data / "pgdata") == []

    proc = _serve(data, port)
    try:
        _wait_ready(base, proc)
        token = _run("token", "--phone", admin.phone, env=_env(MUSTER_DATA_DIR=str(data)))
        r = httpx.get(f"{base}/v1/schools",
                      headers={"Authorization": f"Bearer {token.stdout.strip()}"})
        assert len(r.json()["items"]) == 2  # the data survived the restart
    finally:
        _stop(proc)
    assert _postgres_serving(data / "pgdata") == []


@pytest.fixture
async def fresh_database(server_dsn):
    """An empty database on the test server, as MUSTER_DATABASE_URL."""
    name = f"muster_cli_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'create database "{name}"')
    yield database_dsn(server_dsn, name)
    await admin.execute(f'drop database "{name}" with (force)')
    await admin.close()


def test_demo_json_shape_and_idempotence(fresh_database, tmp_path):
    """`muster demo --json` prints the documented shape; a second run, the same ids."""
    env = _env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))
    first = msgspec.json.decode(_run("demo", "--json", env=env).stdout, type=DemoReport)
    second = msgspec.json.decode(_run("demo", "--json", env=env).stdout, type=DemoReport)

    def ids(report: DemoReport) -> list:
        return [report.district_id, report.district_admin.id] + [
            (s.id, [r.id for r in s.rooms], [u.id for u in s.users]) for s in report.schools]

    assert ids(first) == ids(second)
    high, elementary = first.schools
    assert len(high.rooms) >= 55 and len(high.users) >= 65 and len(elementary.rooms) >= 40
    for school in first.schools:
        assert {u.role for u in school.users} == {"teacher", "staff", "sro", "principal"}
        assert all(re.fullmatch(r"\+1\d{3}55501\d\d", u.phone) for u in school.users)
    codes = {r.code for r in high.rooms}
    assert {"B-114", "Gym", "Cafeteria", "Portable 3"} <= codes


async def test_demo_changes_nothing_the_second_time(fresh_database, tmp_path):
    """Row counts are the same after a second seeding."""
    env = _env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))

    async def counts() -> list[int]:
        conn = await asyncpg.connect(fresh_database)
        try:
            return [await conn.fetchval(f"select count(*) from {table}")
                    for table in ("districts", "schools", "rooms", "users", "memberships")]
        finally:
            await conn.close()

    _run("demo", env=env)
    after_first = await counts()
    _run("demo", env=env)
    assert await counts() == after_first == [1, 2, 100, 106, 106]


def test_token_for_unknown_phone_is_one_line_error(fresh_database, tmp_path):
    """An operator asking for a token of an unknown phone gets one clear line."""
    env = _env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))
    r = _run("token", "--phone", "+15125550142", env=env, check=False)
    assert r.returncode == 1 and r.stderr.strip() == "Error: no user with phone +15125550142"


def test_bad_setting_stops_serve_with_one_line(tmp_path):
    """A wrong MUSTER_PORT stops `muster serve` at start with one line, no traceback."""
    r = _run("serve", env=_env(MUSTER_PORT="eighty", MUSTER_DATA_DIR=str(tmp_path)), check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == "Error: MUSTER_PORT: Expected `int`, got `str`"


def test_openapi_check_passes_on_the_committed_file_and_fails_on_drift(tmp_path):
    """The committed openapi/openapi.json matches the app; a changed copy is caught."""
    env = _env(MUSTER_DATA_DIR=str(tmp_path))
    assert _run("openapi", "--check", env=env, check=False).returncode == 0
    drifted = tmp_path / "openapi.json"
    drifted.write_text((ROOT / "openapi" / "openapi.json").read_text().replace("rooms", "r00ms"))
    r = _run("openapi", "--check", "--output", str(drifted), env=env, check=False)
    assert r.returncode == 1 and "out of date" in r.stderr
