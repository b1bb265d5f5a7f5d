"""The `muster` command as an operator runs it: real processes, real PostgreSQL."""

from __future__ import annotations

import re

import asyncpg
import httpx
import msgspec
import psutil

from api.cli.demo import DemoReport
from tests.processes import ROOT, env, free_port, postgres_serving, run, serve, stop, wait_ready
from tests.waiting import eventually_blocking


def test_serve_on_embedded_postgres_end_to_end(tmp_path, pg_home):
    """serve starts an embedded server, shares it with `demo`, keeps data across
    restarts (the second time with a dispatcher process), and leaves no PostgreSQL behind
    when stopped."""
    data, port = pg_home / "data", free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(port, tmp_path / "serve.log", MUSTER_DATA_DIR=str(data))
    try:
        wait_ready(base, proc)
        servers = postgres_serving(data / "pgdata")
        demo = run("demo", "--json", env=env(MUSTER_DATA_DIR=str(data)))
        assert postgres_serving(data / "pgdata") == servers  # reused, not a second one
        admin = msgspec.json.decode(demo.stdout, type=DemoReport).district_admin
        r = httpx.get(f"{base}/v1/schools",
                      headers={"Authorization": f"Bearer {admin.access_token}"})
        assert r.status_code == 200 and len(r.json()["items"]) == 2
    finally:
        stop(proc)
    assert postgres_serving(data / "pgdata") == []

    # again, with a dispatcher process: it is stopped before the PostgreSQL it uses
    proc = serve(port, tmp_path / "serve.log", "--dispatchers", "1", MUSTER_DATA_DIR=str(data))
    try:
        wait_ready(base, proc)
        eventually_blocking(lambda: any("worker" in p.cmdline()
                                        for p in psutil.Process(proc.pid).children()))
        token = run("token", "--phone", admin.phone, env=env(MUSTER_DATA_DIR=str(data)))
        r = httpx.get(f"{base}/v1/schools",
                      headers={"Authorization": f"Bearer {token.stdout.strip()}"})
        assert len(r.json()["items"]) == 2  # the data survived the restart
    finally:
        stop(proc)
    assert postgres_serving(data / "pgdata") == []


def test_demo_json_shape_and_idempotence(fresh_database, tmp_path):
    """`muster demo --json` prints the documented shape; a second run, the same ids."""
    muster_env = env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))
    first = msgspec.json.decode(run("demo", "--json", env=muster_env).stdout, type=DemoReport)
    second = msgspec.json.decode(run("demo", "--json", env=muster_env).stdout, type=DemoReport)

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


def test_demo_json_is_readable_by_its_owner_only(fresh_database, tmp_path):
    """demo.json holds live access tokens: mode 600 like the secret, also when an older,
    world-readable copy is rewritten."""
    muster_env = env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))
    run("demo", env=muster_env)
    written = tmp_path / "demo.json"
    assert written.stat().st_mode & 0o777 == 0o600
    written.chmod(0o644)
    run("demo", env=muster_env)
    assert written.stat().st_mode & 0o777 == 0o600
    assert msgspec.json.decode(written.read_bytes(), type=DemoReport).schools


async def test_demo_changes_nothing_the_second_time(fresh_database, tmp_path):
    """Row counts are the same after a second seeding."""
    muster_env = env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))

    async def counts() -> list[int]:
        conn = await asyncpg.connect(fresh_database)
        try:
            return [await conn.fetchval(f"select count(*) from {table}")
                    for table in ("districts", "schools", "rooms", "users", "memberships")]
        finally:
            await conn.close()

    run("demo", env=muster_env)
    after_first = await counts()
    run("demo", env=muster_env)
    assert await counts() == after_first == [1, 2, 100, 106, 106]


def test_token_for_unknown_phone_is_one_line_error(fresh_database, tmp_path):
    """An operator asking for a token of an unknown phone gets one clear line."""
    muster_env = env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))
    r = run("token", "--phone", "+15125550142", env=muster_env, check=False)
    assert r.returncode == 1 and r.stderr.strip() == "Error: no user with phone +15125550142"


def test_bad_setting_stops_serve_with_one_line(tmp_path):
    """A wrong MUSTER_PORT stops `muster serve` at start with one line, no traceback."""
    r = run("serve", env=env(MUSTER_PORT="eighty", MUSTER_DATA_DIR=str(tmp_path)), check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == "Error: MUSTER_PORT: Expected `int`, got `str`"


def test_openapi_check_passes_on_the_committed_file_and_fails_on_drift(tmp_path):
    """The committed openapi/openapi.json matches the app; a changed copy is caught."""
    muster_env = env(MUSTER_DATA_DIR=str(tmp_path))
    assert run("openapi", "--check", env=muster_env, check=False).returncode == 0
    drifted = tmp_path / "openapi.json"
    drifted.write_text((ROOT / "openapi" / "openapi.json").read_text().replace("rooms", "r00ms"))
    r = run("openapi", "--check", "--output", str(drifted), env=muster_env, check=False)
    assert r.returncode == 1 and "out of date" in r.stderr


def test_serves_dispatchers_share_its_sms_and_call_rates():
    """Each of `muster serve --dispatchers 4` sends at a quarter of the rates the server
    is configured with (the provider's limit is the account's, not a process's), to the
    server's database and address."""
    from api.cli.dispatchers import environ_for_dispatchers
    from api.settings import load_settings

    settings = load_settings({"MUSTER_SMS_RATE": "50", "MUSTER_VOICE_RATE": "2"},
                             host="0.0.0.0", port=9000)
    theirs = load_settings(environ_for_dispatchers(settings, "postgresql://db/muster", 4))
    assert (theirs.sms_rate, theirs.voice_rate, theirs.host, theirs.port,
            theirs.database_url) == (12.5, 0.5, "0.0.0.0", 9000, "postgresql://db/muster")
