"""Alert fan-out: a real lockdown reaching N staff through (fake) FCM and Twilio.

Builds its world as `checkin_storm.py` does (a temporary data dir with an embedded
PostgreSQL, or a temporary database on the server named by MUSTER_DATABASE_URL;
`muster demo --json`), adds N generated staff to Riverbend High (each with a phone and
one Android device), starts the test suite's fake FCM and fake Twilio in this process
(each answering after `--latency-ms`), and `muster serve` pointed at them. An SRO then
starts a real lockdown, and the fakes' records say when each push and each SMS was
handed over.

    .venv/bin/python bench/fanout.py [--staff 10000] [--sms-rate 50] [--latency-ms 50]

Figures are printed, never asserted; the exit status is 0 whenever the run completed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
from checkin_storm import (
    BIN,
    HOST,
    ROOT,
    Watcher,
    World,
    cpu_watcher,
    free_port,
    pg_activity_watcher,
    print_profile,
    py_spy_watcher,
    start,
    tally_stacks,
    verdict,
)

from api.cli.demo import DemoReport, DemoSchoolReport

# Targets from the issue
MAX_POST_MS = 300.0  # POST /events answers in < 300 ms whatever the size
MAX_PUSH_S = 5.0  # every push handed to FCM within 5 s of the POST
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


# ---------------------------------------------------------------- observing the fakes

def watch_in_background(watchers: Sequence[Watcher], measure_from: float,
                        until: float) -> threading.Thread:
    """Run checkin_storm's watchers (CPU, py-spy, pg_stat_activity) in a thread of their own
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


@dataclass
class Window:
    """What the fakes saw of the main lockdown, from its POST for `seconds`."""

    seconds: float
    push_expected: int
    sms_expected: int
    push: list[float] = field(default_factory=list)  # arrival, seconds after the POST
    push_order: list[str] = field(default_factory=list)  # their tokens, in that order
    push_tokens: Counter = field(default_factory=Counter)
    push_statuses: Counter = field(default_factory=Counter)
    sms: list[float] = field(default_factory=list)
    sms_numbers: Counter = field(default_factory=Counter)
    outbox: dict[str, Counter] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def push_all_s(self) -> float | None:
        """Seconds from the POST until the last expected push arrived (None: not in the window)."""
        seen: set[str] = set()
        for at, token in zip(self.push, self.push_order, strict=True):
            seen.add(token)
            if len(seen) >= self.push_expected:
                return at
        return None

    @property
    def push_rate(self) -> float:
        """Pushes per second from the first to the last one seen."""
        if len(self.push) < 2 or self.push[-1] == self.push[0]:
            return math.nan
        return (len(self.push) - 1) / (self.push[-1] - self.push[0])

    @property
    def sms_rate(self) -> float:
        """SMS per second between the 10th and the last SMS seen in the window."""
        if len(self.sms) <= SKIP_FIRST_SMS:
            return math.nan
        first = self.sms[SKIP_FIRST_SMS - 1]
        span = self.sms[-1] - first
        return (len(self.sms) - SKIP_FIRST_SMS) / span if span > 0 else math.nan


def observe(window: Window, t0: float, fcm: Any, twilio: Any, event_id: uuid.UUID) -> None:
    """Fill `window` from the fakes' records (stamped with time.monotonic() as each request
    is answered): this event's pushes and every SMS."""
    for send in sorted(fcm.sends, key=lambda s: s.received_at):
        at = send.received_at - t0
        if send.data.get("event_id") == str(event_id) and 0 <= at <= window.seconds:
            window.push.append(at)
            window.push_order.append(send.token)
            window.push_tokens[send.token] += 1
            window.push_statuses[send.answered] += 1
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


def report(n_staff: int, posts: dict[str, list[float]], window: Window, sms_rate: float,
           outbox_end: dict[str, Counter], problems: tuple[int, Counter], cores: int) -> None:
    w = window
    lockdowns = posts["real lockdown, Riverbend High"]
    print()
    print("POST timings (ms, as the phone sees them; the first lockdown on an idle dispatcher, "
          "the others while it works through the backlog)")
    for name, values in posts.items():
        print(f"  {name:<48} {ms(values)}")

    print()
    print(f"{'channel':<8}{'expected':>10}{'in window':>11}{'distinct':>10}{'rate/s':>9}"
          f"{'first s':>9}{'all s':>9}   outbox at the end of the window")
    push_first = w.push[0] if w.push else math.nan
    sms_first = w.sms[0] if w.sms else math.nan
    push_all = w.push_all_s
    print(f"{'push':<8}{w.push_expected:>10}{len(w.push):>11}{len(w.push_tokens):>10}"
          f"{w.push_rate:>9.1f}{push_first:>9.2f}"
          f"{push_all if push_all is not None else math.nan:>9.2f}   "
          f"{show_states({'push': w.outbox.get('push', Counter())})}")
    sms_done = len(w.sms_numbers) >= w.sms_expected
    print(f"{'sms':<8}{w.sms_expected:>10}{len(w.sms):>11}{len(w.sms_numbers):>10}"
          f"{w.sms_rate:>9.1f}{sms_first:>9.2f}"
          f"{w.sms[-1] if sms_done else math.nan:>9.2f}   "
          f"{show_states({'sms': w.outbox.get('sms', Counter())})}")
    for name, stamps in (("push", w.push), ("SMS ", w.sms)):
        counts = " ".join(map(str, per_second(stamps, 0, w.seconds)))
        print(f"  {name} per second of the window: {counts}")
    dup_push = sum(n - 1 for n in w.push_tokens.values() if n > 1)
    dup_sms = sum(n - 1 for n in w.sms_numbers.values() if n > 1)
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(w.push_statuses.items()))
    print(f"  duplicates in the window: {dup_push} pushes, {dup_sms} SMS; "
          f"fake FCM answered {statuses or 'nothing'}")
    if w.cpu:
        cpu = ", ".join(f"{'bench (the fakes)' if k == 'load generator' else k} {v:.1f}"
                        for k, v in w.cpu.items() if k != "postgres" or v)
        print(f"  CPU seconds in the window ({cores} cores x {w.seconds:.0f} s): {cpu}")
    print(f"outbox at the end, every event: {show_states(outbox_end)}")
    count, lines = problems
    print(f"server log: {count} ERROR/CRITICAL lines or tracebacks")
    for line, n in lines.most_common(5):
        print(f"  {n:>5} x {line}")

    print()
    worst = max(lockdowns)
    print(f"  {verdict(worst < MAX_POST_MS)}  POST /events (real lockdown, {n_staff:,} generated "
          f"staff) < {MAX_POST_MS:.0f} ms: worst {worst:.0f} ms of {len(lockdowns)} "
          f"({ms(lockdowns)})")
    if push_all is not None:
        push_text = f"all {w.push_expected:,} in {push_all:.2f} s"
    else:
        eta = w.push_expected / w.push_rate if w.push_rate > 0 else math.nan
        push_text = (f"{len(w.push_tokens):,} of {w.push_expected:,} in the {w.seconds:.0f} s "
                     f"window; all at {w.push_rate:.0f}/s would take ~{eta:.0f} s")
    print(f"  {verdict(push_all is not None and push_all < MAX_PUSH_S)}  every push handed to "
          f"FCM < {MAX_PUSH_S:.0f} s after the POST: {push_text}")
    off = w.sms_rate / sms_rate - 1
    print(f"  {verdict(abs(off) <= SMS_RATE_TOLERANCE)}  SMS handed off at the configured "
          f"{sms_rate:g}/s within {100 * SMS_RATE_TOLERANCE:.0f} %: {w.sms_rate:.1f}/s "
          f"({100 * off:+.1f} %, SMS {SKIP_FIRST_SMS} to {len(w.sms)} of the window)")


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
                        help="seconds the fakes are observed after the main lockdown's POST")
    parser.add_argument("--lockdowns", type=int, default=3,
                        help="real lockdowns timed (an all-clear between two)")
    parser.add_argument("--pool-size", type=int, default=10, help="MUSTER_DB_POOL_SIZE")
    parser.add_argument("--workers", type=int, default=0,
                        help="`muster worker` processes dispatching beside the server's own")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="also record muster serve with py-spy during the window (raw "
                             "stacks to FILE) and sample pg_stat_activity; the figures of such "
                             "a run are disturbed by the profiler")
    args = parser.parse_args()
    if args.lockdowns < 1 or args.staff < 1:
        parser.error("--staff and --lockdowns must be at least 1")

    FakeFcm, FakeTwilio = fakes()
    world = World(args.pool_size)
    started = time.monotonic()
    cores = len(os.sched_getaffinity(0))
    fcm = FakeFcm(latency_s=args.latency_ms / 1000)
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
            pg_version = asyncio.run(query(world.dsn, "show server_version"))[0][0]

            providers.enter_context(fcm)
            providers.enter_context(twilio)
            listening += [("fake FCM", fcm.base_url), ("fake Twilio", twilio.base_url)]
            port = free_port()
            point_at_fakes(world, fcm, twilio, port)
            world.env["MUSTER_SMS_RATE"] = f"{args.sms_rate:g}"
            base, pid = world.serve("muster", [str(BIN / "muster"), "serve"], "/ready", port)
            start_workers(world, args.workers)
            database = "external, temporary database" if world.external else "embedded"
            print(f"alert fan-out: a real lockdown at {school.name}, {args.staff:,} generated "
                  f"staff (one Android device each; seeded with COPY in {seeded_s:.1f} s) + "
                  f"{len(school.users)} demo staff + the district admin")
            print(f"fakes in this process, {args.latency_ms:g} ms latency each; "
                  f"MUSTER_SMS_RATE={args.sms_rate:g}; window {args.window:g} s")
            print(f"machine: {cores} cores, Python {platform.python_version()}, PostgreSQL "
                  f"{pg_version} ({database}), pool {args.pool_size}, 1 uvicorn worker"
                  + (f"; {args.workers} `muster worker` dispatching too (their CPU is not "
                     "in the figures below)" if args.workers else ""))

            sro = next(u for u in school.users if u.role == "sro")
            small_sro = next(u for u in small.users if u.role == "sro")
            cedar = f"real lockdown, Cedar ({len(small.users)} staff)"
            posts: dict[str, list[float]] = {"real lockdown, Riverbend High": [],
                                              "all-clear, Riverbend High": [], cedar: []}
            with httpx.Client(base_url=base, trust_env=False, timeout=30) as phone:
                phone.get("/v1/schools", headers={"authorization": f"Bearer {sro.access_token}"}
                          ).raise_for_status()  # a warm connection, a warm server

                # the main lockdown, and the window in which the fakes are watched
                cpu: dict[str, float] = {}
                activity: Counter = Counter()
                watchers = [cpu_watcher(pid, world.postmaster_pid, cpu)]
                if args.profile:
                    watchers += [py_spy_watcher(pid, args.profile),
                                 pg_activity_watcher(world.dsn, activity)]
                t0, p0 = time.monotonic(), time.perf_counter()
                watching = watch_in_background(watchers, p0, p0 + args.window)
                elapsed, event = timed_post(phone, f"/v1/schools/{school.id}/events",
                                            sro.access_token, LOCKDOWN, 201)
                posts["real lockdown, Riverbend High"].append(elapsed)
                event_id = uuid.UUID(event["id"])
                written_s = wave_written(world.dsn, event_id, t0)
                print(f"the lockdown's messages were in the outbox {written_s:.2f} s after the "
                      f"POST (a wave, written by the dispatcher)" if written_s else
                      "the lockdown's messages were written by the POST itself")
                queued = outbox_states(world.dsn, event_id)
                window = Window(args.window, sum(queued.get("push", Counter()).values()),
                                sum(queued.get("sms", Counter()).values()))
                time.sleep(max(0.0, t0 + args.window - time.monotonic()))
                window.outbox = outbox_states(world.dsn, event_id)
                watching.join()
                window.cpu = cpu
                observe(window, t0, fcm, twilio, event_id)

                # more lockdowns, each after an all-clear, while the backlog goes out
                for _ in range(args.lockdowns - 1):
                    elapsed, _ended = timed_post(phone, f"/v1/events/{event_id}/all-clear",
                                                 sro.access_token, {}, 200)
                    posts["all-clear, Riverbend High"].append(elapsed)
                    elapsed, event = timed_post(phone, f"/v1/schools/{school.id}/events",
                                                sro.access_token, LOCKDOWN, 201)
                    posts["real lockdown, Riverbend High"].append(elapsed)
                    event_id = uuid.UUID(event["id"])
                elapsed, _ = timed_post(phone, f"/v1/schools/{small.id}/events",
                                        small_sro.access_token, LOCKDOWN, 201)
                posts[cedar].append(elapsed)
            if not posts["all-clear, Riverbend High"]:
                del posts["all-clear, Riverbend High"]

            outbox_end = outbox_states(world.dsn)
            world.stop_servers()
            problems = log_problems(world.dir / "muster.log")
        report(args.staff, posts, window, args.sms_rate, outbox_end, problems, cores)
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
