"""Alert fan-out: a real lockdown reaching N staff through (fake) FCM and Twilio.

Builds its world as `checkin_storm.py` does (a temporary data dir with an embedded
PostgreSQL, or a temporary database on the server named by MUSTER_DATABASE_URL;
`muster demo --json`), adds N generated staff to Riverbend High (each with a phone and
one Android device), starts `fcm_responder.py` (a fake FCM in a process of its own) and
the test suite's fake Twilio in this process (each answering after `--latency-ms`),
measures a bare aiohttp pool against the responder (`push_transport.py`'s), then starts
`muster serve` (and `--dispatchers` - 1 `muster worker`; with `--apart`, `muster serve
--dispatchers N`: its N dispatcher processes, the API none) pointed at them. An SRO starts a
real lockdown; the responder says when each device token was answered, the fake Twilio
when each SMS was.

    .venv/bin/python bench/fanout.py [--staff 10000] [--sms-rate 50] [--latency-ms 50] \\
        [--dispatchers 1] [--apart] [--error-rate 0.1 --unregistered-rate 0.01]

Figures are printed, never asserted; the exit status is 0 whenever the run completed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import psutil
from checkin_storm import (
    BIN,
    HOST,
    ROOT,
    Watcher,
    World,
    free_port,
    pg_activity_watcher,
    print_profile,
    py_spy_watcher,
    start,
    tally_stacks,
    verdict,
)
from fcm_responder import service_account
from push_transport import Figures, bare, start_responder

from api.cli.demo import DemoReport, DemoSchoolReport
from notifications.dispatcher import IN_FLIGHT

# Targets from the issue
MAX_POST_MS = 300.0  # POST /events answers in < 300 ms whatever the size
MAX_PUSH_S = 5.0  # every push handed to FCM within 5 s of the POST
MIN_RATIO = 0.5  # Muster's push rate against a bare aiohttp pool's (aim: 0.8)
RIVERBEND_LOCKDOWN = "real lockdown, Riverbend High"
SMS_RATE_TOLERANCE = 0.10  # SMS handed off at the configured rate, within 10 %
SKIP_FIRST_SMS = 10  # the SMS rate is measured from the 10th SMS to the last one seen
TWILIO_FROM = "+15005550006"  # Twilio's magic test sender


# ---------------------------------------------------------------- the generated staff

def generated_phone(n: int) -> str:
    """The n-th generated number: +1 AAA EEE LLLL, a valid NANP number (area codes from
    201, exchanges 200..999), distinct for every n and from the demo's +1 512 555 ...."""
    area, rest = divmod(n, 800 * 10_000)
    exchange, line = divmod(rest, 10_000)
    return f"+1{201 + area}{200 + exchange}{line:04d}"


async def add_staff(dsn: str, district_id: uuid.UUID, school_id: uuid.UUID, count: int) -> None:
    """`count` teachers and staff in one school, each with one working Android device,
    written with COPY in one transaction; then ANALYZE, as a settled database would be."""
    users, members, devices = [], [], []
    for n in range(count):
        user_id = uuid.uuid4()
        users.append((user_id, f"Generated Staff {n:05d}", generated_phone(n)))
        members.append((uuid.uuid4(), user_id, district_id, school_id,
                        "staff" if n % 4 == 3 else "teacher", users[-1][1]))
        devices.append((uuid.uuid4(), user_id, "android", f"bench-android-{user_id.hex}"))
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("users", columns=["id", "name", "phone"],
                                             records=users)
            await conn.copy_records_to_table(
                "memberships",
                columns=["id", "user_id", "district_id", "school_id", "role", "name"],
                records=members)
            await conn.copy_records_to_table(
                "devices", columns=["id", "user_id", "platform", "push_token"], records=devices)
        await conn.execute("analyze users; analyze memberships; analyze devices")
    finally:
        await conn.close()


async def query(dsn: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def start_workers(world: World, count: int, timeout: float = 30) -> None:
    """`count` more dispatchers (`muster worker`), each ready before this returns."""
    logs = []
    for n in range(count):
        log = world.dir / f"worker-{n}.log"
        world.procs[f"worker-{n}"] = start([str(BIN / "muster"), "worker"], world.env, log)
        logs.append(log)
    deadline = time.monotonic() + timeout
    while not all(log.exists() and "dispatching" in log.read_text() for log in logs):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start dispatching")
        time.sleep(0.1)


def serve_dispatchers(serve_pid: int, count: int, log: Path, timeout: float = 30) -> list[int]:
    """The pids of `muster serve --dispatchers`' processes, once each says in the server's
    log (their output is the server's) that it is dispatching."""
    deadline = time.monotonic() + timeout
    while True:
        children = [p for p in psutil.Process(serve_pid).children() if "worker" in p.cmdline()]
        if len(children) == count and log.read_text().count("worker dispatching") >= count:
            return [p.pid for p in children]
        if time.monotonic() > deadline:
            raise RuntimeError("muster serve did not start its dispatchers")
        time.sleep(0.1)


def wave_written(dsn: str, event_id: uuid.UUID, t0: float, timeout: float = 30) -> float | None:
    """Seconds from the POST (monotonic `t0`) until the event's alert wave was written
    out by a dispatcher; None if the POST wrote the messages itself."""
    sql = ("select count(*) filter (where expanded_at is null) as waiting, count(*) as waves "
           "from alert_waves where event_id = $1")
    while time.monotonic() < t0 + timeout:
        [row] = asyncio.run(query(dsn, sql, event_id))
        if row["waves"] == 0:
            return None
        if row["waiting"] == 0:
            return time.monotonic() - t0
        time.sleep(0.02)
    raise RuntimeError(f"the wave of {event_id} was not written in {timeout:g} s")


def outbox_states(dsn: str, event_id: uuid.UUID | None = None) -> dict[str, Counter]:
    """channel -> state -> messages, for one event or for all of them."""
    rows = asyncio.run(query(
        dsn, "select channel, state, count(*) as n from notification_outbox "
             "where $1::uuid is null or event_id = $1 group by channel, state", event_id))
    states: dict[str, Counter] = {}
    for r in rows:
        states.setdefault(r["channel"], Counter())[r["state"]] = r["n"]
    return states


def show_states(states: dict[str, Counter]) -> str:
    order = ("queued", "sending", "sent", "delivered", "failed", "skipped")
    return "; ".join(
        f"{channel} " + ", ".join(f"{s} {counts[s]}" for s in order if counts[s])
        for channel, counts in sorted(states.items()))


# ---------------------------------------------------------------- the fake FCM

class Responder:
    """bench/fcm_responder.py in a process of its own: never the bottleneck (~0.05 ms a
    request, where the test suite's threaded fake tops out near 1,000 a second). It has
    what `point_at_fakes` reads of a fake FCM: `fcm_url` and `service_account()`."""

    def __init__(self, latency_ms: float, error_rate: float, unregistered_rate: float) -> None:
        self._knobs = latency_ms, error_rate, unregistered_rate
        self.base_url = ""
        self.process: subprocess.Popen[str] | None = None
        self._client: httpx.Client | None = None

    def __enter__(self) -> Responder:
        self.process, self.base_url = start_responder(*self._knobs)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._client is not None:
            self._client.close()
        if self.process is not None:
            self.process.terminate()
            self.process.communicate(timeout=10)

    @property
    def fcm_url(self) -> str:
        return f"{self.base_url}/v1/projects/{{0}}/messages:send"

    def service_account(self) -> dict[str, str]:
        return service_account(self.base_url)

    def stats(self, brief: bool = True) -> dict[str, Any]:
        """Its counts (see fcm_responder.py); with each token's, unless `brief`."""
        if self._client is None:  # one keep-alive connection: polled every 50 ms
            self._client = httpx.Client(base_url=self.base_url, trust_env=False, timeout=30)
        answer = self._client.get("/stats" + ("?brief" if brief else ""))
        answer.raise_for_status()
        return answer.json()


def measure_bare(base_url: str, count: int, in_flight: int, responder_pid: int) -> Figures:
    """push_transport.py's bare aiohttp pool against the responder, in a process of its own
    on uvloop (as `muster serve`'s loop): the rate any sender on aiohttp could reach here."""
    import uvloop

    return uvloop.run(bare(base_url, count, in_flight, psutil.Process(responder_pid)))


def bare_elsewhere(base_url: str, count: int, in_flight: int, responder_pid: int) -> Figures:
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(measure_bare, base_url, count, in_flight, responder_pid).result()


# ---------------------------------------------------------------- CPU

def cpu_of(p: psutil.Process) -> float:
    with contextlib.suppress(psutil.Error):
        t = p.cpu_times()
        return t.user + t.system
    return 0.0


@dataclass
class CpuGroups:
    """The processes whose CPU is counted. PostgreSQL's backends of the bench's database
    are found by name (processes called `postgres` whose command line names it: a backend's
    is `postgres: USER DATABASE HOST(PORT) STATE`), so that an external server's, whose
    postmaster is not ours, are counted too; `postgres, all` is every process called
    `postgres` on the machine (the WAL writer, the checkpointer, and on a shared machine
    other sessions' backends)."""

    server: int
    workers: list[int]
    responder: int
    database: str

    def sample(self) -> dict[str, dict[int, float]]:
        groups: dict[str, dict[int, float]] = {"server": {}, "workers": {}, "postgres": {},
                                               "postgres, all": {}}
        for pid in (self.server, *self.workers):
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                group = groups["server" if pid == self.server else "workers"]
                for p in (process, *process.children(recursive=True)):
                    if p.pid == pid or p.pid not in self.workers:  # serve's dispatchers
                        group[p.pid] = cpu_of(p)
        backend = f" {self.database} "
        for p in psutil.process_iter(["name", "cmdline"]):
            if p.info["name"] == "postgres":
                used = cpu_of(p)
                groups["postgres, all"][p.pid] = used
                if backend in " ".join(p.info["cmdline"] or []) + " ":
                    groups["postgres"][p.pid] = used
        groups["fake FCM"] = {self.responder: cpu_of(psutil.Process(self.responder))}
        groups["bench (fake Twilio)"] = {os.getpid(): cpu_of(psutil.Process())}
        return groups


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
             ) -> dict[str, float]:
    """CPU seconds per group between two samples; a process that started in between
    counts from 0, one that ended in between is lost (the pools' are long-lived)."""
    return {group: sum(used - before.get(group, {}).get(pid, 0.0) for pid, used in pids.items())
            for group, pids in after.items()}


# ---------------------------------------------------------------- observing the fakes

def watch_in_background(watchers: Sequence[Watcher], measure_from: float,
                        until: float) -> threading.Thread:
    """Run checkin_storm's watchers (py-spy, pg_stat_activity) in a thread of their own
    for the window [measure_from, until) (time.perf_counter)."""

    async def run() -> None:
        await asyncio.gather(*(w(measure_from, until) for w in watchers))

    thread = threading.Thread(target=lambda: asyncio.run(run()), name="watchers", daemon=True)
    thread.start()
    return thread


def per_second(stamps: Sequence[float], t0: float, seconds: float) -> list[int]:
    counts = [0] * math.ceil(seconds)
    for s in stamps:
        if 0 <= s - t0 < len(counts):
            counts[int(s - t0)] += 1
    return counts


def until_settled(fcm: Responder, before: int, expected: int, deadline: float) -> bool:
    """Until the responder has answered `expected` more device tokens for good (200 or
    404) than `before`, or the monotonic `deadline`; whether it has."""
    while time.monotonic() < deadline:
        if fcm.stats()["settled"] - before >= expected:
            return True
        time.sleep(0.05)
    return False


def until_recorded(dsn: str, event_id: uuid.UUID, timeout: float) -> bool:
    """Until none of the event's pushes is queued or leased (all outcomes written, the
    retries too), or `timeout` seconds; whether that happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = asyncio.run(query(
            dsn, "select count(*) from notification_outbox where event_id = $1 "
                 "and channel = 'push' and state in ('queued', 'sending')", event_id))[0][0]
        if not pending:
            return True
        time.sleep(0.2)
    return False


@dataclass
class Pushes:
    """The main lockdown's pushes as the fake FCM and the database saw them, once all
    were answered for good or the run gave up waiting."""

    expected: int
    answered_at: list[float]  # seconds after the POST that each token was answered for good
    accepted: int  # device tokens accepted
    accepted_twice: int  # device tokens of the event accepted more than once
    lost: int  # device tokens of the event never accepted, and not UNREGISTERED
    unregistered: set[str]  # device tokens of the event FCM answered UNREGISTERED
    disabled: set[str]  # device tokens disabled in the database
    sends: int  # requests for the event's tokens (retries included)
    answers: Counter  # HTTP status -> answers, the whole responder's (bare included)
    connections: int  # connections opened to the fake FCM since the POST

    @property
    def all_s(self) -> float | None:
        """Seconds from the POST until the last device token was answered for good."""
        return self.answered_at[-1] if len(self.answered_at) >= self.expected else None

    def share_s(self, share: float) -> float:
        """Seconds from the POST until `share` of the pushes were answered for good."""
        n = math.ceil(share * self.expected)
        return self.answered_at[n - 1] if 0 < n <= len(self.answered_at) else math.nan

    @property
    def rate(self) -> float:
        """Pushes handed off per second, from the POST to the last."""
        return self.expected / self.all_s if self.all_s else math.nan

    @property
    def rate_first_to_last(self) -> float:
        at = self.answered_at
        return (len(at) - 1) / (at[-1] - at[0]) if len(at) > 1 and at[-1] > at[0] else math.nan


def observe_pushes(fcm: Responder, dsn: str, event_id: uuid.UUID, t0: float,
                   before: dict[str, Any]) -> Pushes:
    """`before`: the responder's brief stats just before the POST."""
    stats = fcm.stats(brief=False)
    tokens = {r["push_token"] for r in asyncio.run(query(
        dsn, "select d.push_token from notification_outbox o join devices d using (user_id) "
             "where o.event_id = $1 and o.channel = 'push'", event_id))}
    disabled = {r["push_token"] for r in asyncio.run(query(
        dsn, "select push_token from devices where disabled_at is not null"))}
    seen = {t: stats["tokens"].get(t, [0, 0, 0.0]) for t in tokens}
    unregistered = tokens & set(stats["unregistered"])
    return Pushes(
        expected=len(tokens),
        answered_at=sorted(at - t0 for _, _, at in seen.values() if at),
        accepted=sum(1 for _, accepted, _ in seen.values() if accepted),
        accepted_twice=sum(1 for _, accepted, _ in seen.values() if accepted > 1),
        lost=sum(1 for t, (_, accepted, _) in seen.items()
                 if not accepted and t not in unregistered),
        unregistered=unregistered, disabled=disabled,
        sends=sum(int(received) for received, _, _ in seen.values()),
        answers=Counter(stats["answered"]),
        connections=stats["connections"] - before["connections"])


@dataclass
class Window:
    """What the fake Twilio saw of the main lockdown, from its POST for `seconds`."""

    seconds: float
    sms_expected: int
    sms: list[float] = field(default_factory=list)
    sms_numbers: Counter = field(default_factory=Counter)
    outbox: dict[str, Counter] = field(default_factory=dict)

    @property
    def sms_rate(self) -> float:
        """SMS per second between the 10th and the last SMS seen in the window."""
        if len(self.sms) <= SKIP_FIRST_SMS:
            return math.nan
        first = self.sms[SKIP_FIRST_SMS - 1]
        span = self.sms[-1] - first
        return (len(self.sms) - SKIP_FIRST_SMS) / span if span > 0 else math.nan


def observe_sms(window: Window, t0: float, twilio: Any) -> None:
    """Fill `window` from the fake Twilio's records (stamped with time.monotonic() as each
    request is answered)."""
    for sms in list(twilio.messages):
        if 0 <= sms.received_at - t0 <= window.seconds:
            window.sms.append(sms.received_at - t0)
            window.sms_numbers[sms.to] += 1
    window.sms.sort()


# ---------------------------------------------------------------- the API calls

def timed_post(client: httpx.Client, path: str, token: str, body: dict[str, object],
               expect: int) -> tuple[float, dict[str, Any]]:
    """POST as a phone on a warm keep-alive connection; (milliseconds, answer)."""
    started = time.perf_counter()
    response = client.post(path, json=body, headers={"authorization": f"Bearer {token}"})
    elapsed = 1000 * (time.perf_counter() - started)
    if response.status_code != expect:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
    return elapsed, response.json()


LOCKDOWN = {"action": "lockdown", "drill": False}


@dataclass
class Posts:
    """The phone's POSTs in order: name, path, milliseconds as the phone saw it, and (once
    read from the access log) as the server did, from the request's arrival in the app to
    its answer: the difference is time spent before the app saw it (the event loop busy)."""

    made: list[tuple[str, str, float]] = field(default_factory=list)
    in_server: list[float] = field(default_factory=list)

    def add(self, name: str, path: str, ms: float) -> None:
        self.made.append((name, path, ms))

    def phone(self, name: str) -> list[float]:
        return [ms for n, _, ms in self.made if n == name]

    def read_server_times(self, log: Path) -> None:
        """Each POST's duration in the access log, matched to ours in order by path."""
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        logged = [(m[1], float(m[2])) for m in map(_ACCESS_POST.search, lines) if m]
        at = 0
        for _, path, _ in self.made:
            while at < len(logged) and logged[at][0] != path:
                at += 1
            self.in_server.append(logged[at][1] if at < len(logged) else math.nan)
            at += 1

    def lines(self) -> list[str]:
        names = dict.fromkeys(n for n, _, _ in self.made)
        server = self.in_server or [math.nan] * len(self.made)
        return [f"  {name:<40} " + ", ".join(
            f"{ms:.0f} ({in_app:.0f})" for (n, _, ms), in_app in zip(self.made, server,
                                                                     strict=True) if n == name)
            for name in names]


_ACCESS_POST = re.compile(r"muster\.access: POST (\S+) \d{3} ([\d.]+) ms")


# ---------------------------------------------------------------- the server's log

_PROBLEM = re.compile(r" (ERROR|CRITICAL) |Traceback")
_STAMP = re.compile(r"^\S+ \S+ ")


def log_problems(log: Path) -> tuple[int, Counter]:
    """ERROR/CRITICAL lines and tracebacks in the server's log; the lines by message."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    found = [line for line in lines if _PROBLEM.search(line)]
    return len(found), Counter(_STAMP.sub("", line)[:160] for line in found)


# ---------------------------------------------------------------- --profile

_WHERE = re.compile(r"\(([^()]*):\d+\)$")


MUSTER_DIRS = ("api", "db", "domain", "notifications")


def library(frame: str) -> str:
    """A py-spy frame's library: the first part of its path as py-spy prints it
    (`AsyncClient.send (httpx/_client.py:1637)` -> `httpx`)."""
    match = _WHERE.search(frame)
    top = (match[1] if match else frame).split("/")[0].removesuffix(".py")
    return f"{top} (muster)" if top in MUSTER_DIRS else top


def print_libraries(stacks: Path, top: int = 15) -> None:
    """CPU samples by library: the frame on CPU (self), anywhere on the stack (inclusive)."""
    own, inclusive, total = tally_stacks(stacks, library)
    print(f"  by library, of {total} samples (self | inclusive):")
    for name, n in own.most_common(top):
        print(f"    {100 * n / total:5.1f}% | {100 * inclusive[name] / total:5.1f}%  {name}")


# ---------------------------------------------------------------- report

def ms(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Run:
    """Everything one run measured, for the report."""

    staff: int
    dispatchers: int
    apart: bool  # muster serve --dispatchers: they share the configured SMS rate
    posts: Posts
    pushes: Pushes
    bare: Figures
    window: Window
    sms_rate: float
    push_cpu: dict[str, float]  # CPU seconds from the POST to the last push answered
    push_cpu_s: float  # that span, seconds
    window_cpu: dict[str, float]
    outbox_end: dict[str, Counter]
    problems: tuple[int, Counter]
    cores: int
    loads: list[str]


def report(run: Run) -> None:
    w, p = run.window, run.pushes
    lockdowns = run.posts.phone(RIVERBEND_LOCKDOWN)
    print()
    print("POST timings in ms as the phone sees them (in the server's access log); the first "
          "lockdown on an idle dispatcher, the others while it works through the backlog")
    for line in run.posts.lines():
        print(line)

    print()
    bare_rate = run.bare.pushes / run.bare.wall_s
    print(f"push: {p.expected:,} device tokens; answered for good (200 or UNREGISTERED) "
          f"{len(p.answered_at):,}, first {p.answered_at[0] if p.answered_at else math.nan:.2f} s"
          f", half {p.share_s(0.5):.2f} s, 99 % {p.share_s(0.99):.2f} s, last "
          f"{p.answered_at[-1] if p.answered_at else math.nan:.2f} s after the POST")
    print(f"  per second after the POST: "
          f"{' '.join(map(str, per_second(p.answered_at, 0, (p.all_s or w.seconds) + 1)))}")
    print(f"  Muster: {p.rate:,.0f} pushes/s from the POST to the last "
          f"({p.rate_first_to_last:,.0f}/s from the first to the last)")
    print(f"  bare aiohttp pool, same responder, {run.bare.pushes:,} pushes, "
          f"{IN_FLIGHT['push']} in flight: {bare_rate:,.0f} pushes/s, CPU "
          f"{1000 * run.bare.cpu_s / run.bare.pushes:.3f} ms/push (its process), fake FCM "
          f"{1000 * run.bare.responder_cpu_s / run.bare.pushes:.3f} ms/push")
    print(f"  ratio Muster/bare: {p.rate / bare_rate:.2f} from the POST, "
          f"{p.rate_first_to_last / bare_rate:.2f} first to last")
    per = 1000 / p.expected
    span = f"{run.push_cpu_s:.2f} s from the POST to the last push answered"
    print(f"  CPU in the {span} ({run.cores} cores), ms per push: " + ", ".join(
        f"{k} {v * per:.3f} ({v:.2f} s)" for k, v in run.push_cpu.items()
        if k != "workers" or v > 0))
    print(f"  FCM: {p.sends:,} sends for the event's tokens over {p.connections} connections "
          f"opened since the POST; the responder's answers by status (bare's too): "
          f"{', '.join(f'{s}: {n}' for s, n in sorted(p.answers.items()))}")
    differ = len(p.disabled ^ p.unregistered)
    print(f"  accepted once: {p.accepted - p.accepted_twice:,}; accepted twice or more: "
          f"{p.accepted_twice}; lost (never accepted, not UNREGISTERED): {p.lost}; "
          f"UNREGISTERED {len(p.unregistered)}, devices disabled {len(p.disabled)} "
          f"({f'NOT the same tokens: {differ} differ' if differ else 'exactly those'})")

    print()
    sms_done = len(w.sms_numbers) >= w.sms_expected
    print(f"sms: {w.sms_expected:,} expected, {len(w.sms):,} in the {w.seconds:g} s window "
          f"({len(w.sms_numbers):,} distinct), {w.sms_rate:.1f}/s, first "
          f"{w.sms[0] if w.sms else math.nan:.2f} s, all "
          f"{w.sms[-1] if sms_done else math.nan:.2f} s; outbox at the end of the window: "
          f"{show_states({'sms': w.outbox.get('sms', Counter())})}")
    print(f"  SMS per second of the window: {' '.join(map(str, per_second(w.sms, 0, w.seconds)))}")
    dup_sms = sum(n - 1 for n in w.sms_numbers.values() if n > 1)
    print(f"  duplicate SMS in the window: {dup_sms}")
    print(f"  CPU seconds in the window ({run.cores} cores x {w.seconds:.0f} s): " + ", ".join(
        f"{k} {v:.1f}" for k, v in run.window_cpu.items()
        if k != "workers" or v > 0))
    print(f"outbox at the end, every event: {show_states(run.outbox_end)}")
    count, lines = run.problems
    print(f"server log: {count} ERROR/CRITICAL lines or tracebacks")
    for line, n in lines.most_common(5):
        print(f"  {n:>5} x {line}")
    print(f"load average (1, 5, 15 min) at the start, at the POST, at the end: "
          f"{' | '.join(run.loads)}")

    print()
    cpu = run.push_cpu
    print("summary: dispatchers, POST ms, pushes handed off s (99 %), pushes/s, bare/s, ratio, "
          "CPU ms/push server(+workers) | postgres backends | postgres all")
    print(f"  {run.dispatchers} | {lockdowns[0]:.0f} | "
          f"{p.all_s if p.all_s is not None else math.nan:.2f} ({p.share_s(0.99):.2f}) | "
          f"{p.rate:,.0f} | "
          f"{bare_rate:,.0f} | {p.rate / bare_rate:.2f} | "
          f"{(cpu['server'] + cpu['workers']) * per:.3f} | {cpu['postgres'] * per:.3f} | "
          f"{cpu['postgres, all'] * per:.3f}")

    print()
    worst = max(lockdowns)
    print(f"  {verdict(worst < MAX_POST_MS)}  POST /events (real lockdown, {run.staff:,} "
          f"generated staff) < {MAX_POST_MS:.0f} ms: worst {worst:.0f} ms of {len(lockdowns)} "
          f"({ms(lockdowns)})")
    if p.all_s is not None:
        push_text = f"all {p.expected:,} in {p.all_s:.2f} s"
    else:
        push_text = f"{len(p.answered_at):,} of {p.expected:,} answered"
    print(f"  {verdict(p.all_s is not None and p.all_s < MAX_PUSH_S)}  every push handed to "
          f"FCM < {MAX_PUSH_S:.0f} s after the POST: {push_text}")
    print(f"  {verdict(p.rate / bare_rate >= MIN_RATIO)}  Muster's push rate >= "
          f"{MIN_RATIO}x the bare pool's: {p.rate / bare_rate:.2f}x")
    print(f"  {verdict(p.lost == 0 and p.accepted_twice == 0 and p.disabled == p.unregistered)}"
          f"  nothing lost, nothing accepted twice, exactly the UNREGISTERED tokens disabled")
    target = run.sms_rate * (1 if run.apart else run.dispatchers)  # serve's share it
    off = w.sms_rate / target - 1
    print(f"  {verdict(abs(off) <= SMS_RATE_TOLERANCE)}  SMS handed off at the configured "
          f"{run.sms_rate:g}/s {'in all' if run.apart else 'per dispatcher'} ({target:g}/s) "
          f"within "
          f"{100 * SMS_RATE_TOLERANCE:.0f} %: {w.sms_rate:.1f}/s ({100 * off:+.1f} %, SMS "
          f"{SKIP_FIRST_SMS} to {len(w.sms)} of the window)")


# ---------------------------------------------------------------- main

def fakes() -> tuple[type, type]:
    """The test suite's provider fakes (tests/ is not an installed package)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.fakes.fcm import FakeFcm
    from tests.fakes.twilio import FakeTwilio

    return FakeFcm, FakeTwilio


def point_at_fakes(world: World, fcm: Any, twilio: Any, port: int) -> None:
    """`muster serve`'s settings for sending through the fakes, serving on `port`."""
    credentials = world.dir / "fcm-service-account.json"
    credentials.write_text(json.dumps(fcm.service_account()))
    world.env |= {
        "MUSTER_FCM_CREDENTIALS": str(credentials), "MUSTER_FCM_URL": fcm.fcm_url,
        "MUSTER_TWILIO_ACCOUNT_SID": twilio.account_sid,
        "MUSTER_TWILIO_AUTH_TOKEN": twilio.auth_token,
        "MUSTER_TWILIO_FROM": TWILIO_FROM, "MUSTER_TWILIO_API_URL": twilio.base_url,
        "MUSTER_PUBLIC_URL": f"http://{HOST}:{port}"}


def refuses(base_url: str) -> bool:
    """Whether nothing listens at base_url any more."""
    host, port = base_url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description="Alert fan-out of a real lockdown to N staff "
                                     "through fake FCM and Twilio.")
    parser.add_argument("--staff", type=int, default=10_000,
                        help="generated staff added to the school (each: a phone, a device)")
    parser.add_argument("--sms-rate", type=float, default=50, help="MUSTER_SMS_RATE")
    parser.add_argument("--latency-ms", type=float, default=50,
                        help="each fake's delay before it answers a request")
    parser.add_argument("--window", type=float, default=20,
                        help="seconds the fake Twilio is observed after the main lockdown's POST")
    parser.add_argument("--lockdowns", type=int, default=3,
                        help="real lockdowns timed (an all-clear between two)")
    parser.add_argument("--pool-size", type=int, default=10, help="MUSTER_DB_POOL_SIZE")
    parser.add_argument("--dispatchers", type=int, default=1,
                        help="dispatchers: muster serve's own, and `muster worker` for the rest")
    parser.add_argument("--apart", action="store_true",
                        help="muster serve --dispatchers N: the dispatchers in processes of "
                             "their own")
    parser.add_argument("--error-rate", type=float, default=0.0,
                        help="share of FCM sends the fake answers 503 (the sender retries)")
    parser.add_argument("--unregistered-rate", type=float, default=0.0,
                        help="share of device tokens the fake answers 404 UNREGISTERED")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="also record muster serve with py-spy during the window (raw "
                             "stacks to FILE) and sample pg_stat_activity; the figures of such "
                             "a run are disturbed by the profiler")
    args = parser.parse_args()
    if args.lockdowns < 1 or args.staff < 1 or args.dispatchers < 1:
        parser.error("--staff, --lockdowns and --dispatchers must be at least 1")

    _, FakeTwilio = fakes()
    world = World(args.pool_size)
    started = time.monotonic()
    loads = [load()]
    cores = len(os.sched_getaffinity(0))
    fcm = Responder(args.latency_ms, args.error_rate, args.unregistered_rate)
    twilio = FakeTwilio()
    twilio.latency_s = args.latency_ms / 1000
    listening: list[tuple[str, str]] = []  # the fakes' addresses, checked at the end
    try:
        with contextlib.ExitStack() as providers:
            world.up()
            demo = msgspec.json.decode(world.muster("demo", "--json"), type=DemoReport)
            school: DemoSchoolReport = demo.schools[0]  # Riverbend High
            small: DemoSchoolReport = demo.schools[1]  # Cedar Elementary
            t = time.monotonic()
            asyncio.run(add_staff(world.dsn, demo.district_id, school.id, args.staff))
            seeded_s = time.monotonic() - t
            [[pg_version, database_name]] = asyncio.run(query(
                world.dsn, "select current_setting('server_version'), current_database()"))

            providers.enter_context(fcm)
            providers.enter_context(twilio)
            listening += [("fake FCM", fcm.base_url), ("fake Twilio", twilio.base_url)]
            assert fcm.process is not None
            bare_figures = bare_elsewhere(fcm.base_url, args.staff, IN_FLIGHT["push"],
                                          fcm.process.pid)

            port = free_port()
            point_at_fakes(world, fcm, twilio, port)
            world.env["MUSTER_SMS_RATE"] = f"{args.sms_rate:g}"
            apart = ["--dispatchers", str(args.dispatchers)] if args.apart else []
            base, pid = world.serve("muster", [str(BIN / "muster"), "serve", *apart], "/ready",
                                    port)
            if args.apart:
                workers = serve_dispatchers(pid, args.dispatchers, world.dir / "muster.log")
            else:
                start_workers(world, args.dispatchers - 1)
                workers = [p.pid for n, p in world.procs.items() if n.startswith("worker-")]
            groups = CpuGroups(pid, workers, fcm.process.pid, database_name)
            database = "external, temporary database" if world.external else "embedded"
            print(f"alert fan-out: a real lockdown at {school.name}, {args.staff:,} generated "
                  f"staff (one Android device each; seeded with COPY in {seeded_s:.1f} s) + "
                  f"{len(school.users)} demo staff + the district admin")
            print(f"fake FCM: fcm_responder.py in its own process; fake Twilio in this one; "
                  f"{args.latency_ms:g} ms latency each; FCM answers 503 to "
                  f"{100 * args.error_rate:g} % of sends, UNREGISTERED to "
                  f"{100 * args.unregistered_rate:g} % of tokens; MUSTER_SMS_RATE="
                  f"{args.sms_rate:g}; window {args.window:g} s")
            print(f"machine: {cores} cores, Python {platform.python_version()}, PostgreSQL "
                  f"{pg_version} ({database}), pool {args.pool_size}, 1 uvicorn worker; "
                  + (f"muster serve --dispatchers {args.dispatchers} (processes of its own)"
                     if args.apart else f"{args.dispatchers} dispatcher(s): muster serve's"
                     + (f" and {args.dispatchers - 1} `muster worker`"
                        if args.dispatchers > 1 else "")))

            sro = next(u for u in school.users if u.role == "sro")
            small_sro = next(u for u in small.users if u.role == "sro")
            cedar = f"real lockdown, Cedar ({len(small.users)} staff)"
            posts = Posts()
            with httpx.Client(base_url=base, trust_env=False, timeout=30) as phone:
                phone.get("/v1/schools", headers={"authorization": f"Bearer {sro.access_token}"}
                          ).raise_for_status()  # a warm connection, a warm server

                # the main lockdown: its pushes until all are answered, its SMS in the window
                activity: Counter = Counter()
                fcm_before = fcm.stats()
                loads.append(load())
                t0, p0 = time.monotonic(), time.perf_counter()
                watching = (watch_in_background([py_spy_watcher(pid, args.profile),
                                                 pg_activity_watcher(world.dsn, activity)],
                                                p0, p0 + args.window) if args.profile else None)
                cpu_at_post = groups.sample()
                path = f"/v1/schools/{school.id}/events"
                elapsed, event = timed_post(phone, path, sro.access_token, LOCKDOWN, 201)
                posts.add(RIVERBEND_LOCKDOWN, path, elapsed)
                event_id = uuid.UUID(event["id"])
                written_s = wave_written(world.dsn, event_id, t0)
                print(f"the lockdown's messages were in the outbox {written_s:.2f} s after the "
                      f"POST (a wave, written by the dispatcher)" if written_s else
                      "the lockdown's messages were written by the POST itself")
                queued = outbox_states(world.dsn, event_id)
                window = Window(args.window, sum(queued.get("sms", Counter()).values()))
                pushes_queued = sum(queued.get("push", Counter()).values())
                until_settled(fcm, fcm_before["settled"], pushes_queued, t0 + args.window)
                push_cpu_s = time.monotonic() - t0
                push_cpu = cpu_used(cpu_at_post, groups.sample())
                time.sleep(max(0.0, t0 + args.window - time.monotonic()))
                window.outbox = outbox_states(world.dsn, event_id)
                window_cpu = cpu_used(cpu_at_post, groups.sample())
                if watching:
                    watching.join()
                observe_sms(window, t0, twilio)
                recorded = until_recorded(world.dsn, event_id, timeout=60)
                pushes = observe_pushes(fcm, world.dsn, event_id, t0, fcm_before)
                if not recorded:
                    print("note: some of the lockdown's pushes were still queued or leased "
                          "60 s after the window")

                # more lockdowns, each after an all-clear, while the backlog goes out
                for _ in range(args.lockdowns - 1):
                    ending = f"/v1/events/{event_id}/all-clear"
                    elapsed, _ended = timed_post(phone, ending, sro.access_token, {}, 200)
                    posts.add("all-clear, Riverbend High", ending, elapsed)
                    elapsed, event = timed_post(phone, path, sro.access_token, LOCKDOWN, 201)
                    posts.add(RIVERBEND_LOCKDOWN, path, elapsed)
                    event_id = uuid.UUID(event["id"])
                cedar_path = f"/v1/schools/{small.id}/events"
                elapsed, _ = timed_post(phone, cedar_path, small_sro.access_token, LOCKDOWN, 201)
                posts.add(cedar, cedar_path, elapsed)

            outbox_end = outbox_states(world.dsn)
            world.stop_servers()
            problems = log_problems(world.dir / "muster.log")
            posts.read_server_times(world.dir / "muster.log")
            loads.append(load())
        report(Run(args.staff, args.dispatchers, args.apart, posts, pushes, bare_figures, window,
                   args.sms_rate, push_cpu, push_cpu_s, window_cpu, outbox_end, problems,
                   cores, loads))
        if args.profile:
            print_profile(args.profile, activity,
                          own_dirs=tuple(f"{d}/" for d in MUSTER_DIRS))
            print_libraries(args.profile)
    finally:
        world.down_and_report(started)
        left = [name for name, url in listening if not refuses(url)]
        print("fakes: " + ("STILL LISTENING: " + ", ".join(left) if left else "stopped"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
