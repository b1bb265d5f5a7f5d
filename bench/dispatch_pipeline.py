"""How fast the dispatcher hands a district's lockdown to a push provider, and at what CPU.

The world, in a temporary database: one real lockdown to N staff, each with one device,
its outbox as a district's wave writes it (a push alert due now, an SMS reminder due in a
minute, two repeat calls due in two and four minutes: 4 rows a person, a lead in twenty
first). Then 1, 2 or 4 dispatchers (each with its own pool and listener, all in this
process) send the pushes through an in-process provider that answers after
`--latency-ms`, either always "sent" or, in the faulty variant, 10 % "try again" and 1 %
"every token dead" (failed, the device disabled, the SMS reminder brought forward).
With `--fcm` they send through `FcmSender` over HTTP to bench/fcm_responder.py instead
(faulty: 503 to 10 % of the sends, UNREGISTERED to 1 % of the tokens); `--uvloop` runs
this process on uvloop, as `muster serve` runs.

Printed, never asserted: the time until every push's first outcome was recorded (and
the hand-off milestone on the timeline, for the all-sent variant), pushes a second, and
the CPU ms a push of this process and of PostgreSQL's backends for the bench database
(from /proc/<pid>/stat), with the machine's load.

    MUSTER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/dispatch_pipeline.py [--staff 10000] [--dispatchers 1 2 4] \\
            [--fcm] [--uvloop]

It needs CREATEDB on that server: each run works in a temporary database, dropped at
the end. PostgreSQL must run on this machine (its backends' CPU is read from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fcm_responder import service_account
from push_transport import push, start_responder

from db import migrate
from db.pool import create_pool, identifier
from domain.delivery import DeliveryOutcome, OutboxMessage
from domain.links import Links
from notifications.dispatcher import IN_FLIGHT, LEASE, Dispatcher
from notifications.fcm import FcmSender
from notifications.providers import Providers
from notifications.senders import SendResult

LINKS = Links(secret="bench-secret-bench-secret-bench-secret", base_url="https://muster.test")
TICKS = os.sysconf("SC_CLK_TCK")


class Provider:
    """Answers each push after `latency_s`: sent, or (faulty) 10 % retry and 1 % dead."""

    def __init__(self, latency_s: float, faulty: bool) -> None:
        self.latency_s, self.faulty = latency_s, faulty
        self.random = random.Random(17)

    async def send(self, message: OutboxMessage) -> SendResult:
        await asyncio.sleep(self.latency_s)
        draw = self.random.random() if self.faulty else 1.0
        if draw < 0.01:
            return SendResult(outcome=DeliveryOutcome.FAILED, error_code="UNREGISTERED",
                              dead_tokens=tuple(message.push_tokens))
        if draw < 0.11:
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code="UNAVAILABLE")
        return SendResult(outcome=DeliveryOutcome.SENT, provider_id=f"bench-{message.id}")


async def build(conn: asyncpg.Connection, staff: int, now: datetime) -> uuid.UUID:
    """The district's lockdown and its outbox; returns the event's id."""
    d, s, event = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute("insert into districts (id, name, state) values ($1, 'D', 'TX')", d)
    await conn.execute("insert into schools (id, district_id, name, timezone, state) "
                       "values ($1, $2, 'S', 'America/Chicago', 'TX')", s, d)
    users = [uuid.uuid4() for _ in range(staff)]
    await conn.copy_records_to_table(
        "users", columns=["id", "name", "phone"],
        records=[(u, f"P{n}", f"+1201{n:07d}") for n, u in enumerate(users)])
    await conn.copy_records_to_table(
        "memberships", columns=["id", "user_id", "district_id", "school_id", "role", "name"],
        records=[(uuid.uuid4(), u, d, s, "sro" if n % 20 == 0 else "teacher", f"P{n}")
                 for n, u in enumerate(users)])
    await conn.copy_records_to_table(
        "devices", columns=["id", "user_id", "platform", "push_token"],
        records=[(uuid.uuid4(), u, "android", f"tok-{u.hex}") for u in users])
    await conn.execute("insert into events (id, school_id, action, drill, status, directive, "
                       "started_at, started_by) values ($1, $2, 'lockdown', false, 'active', "
                       "'x', $3, $4)", event, s, now, users[0])
    rows = []
    for n, u in enumerate(users):
        lead = 1 if n % 20 == 0 else 0
        rows += [(event, u, "push", "alert", 8 + lead, now, False),
                 (event, u, "sms", "reminder", 6 + lead, now + timedelta(minutes=1), True),
                 (event, u, "voice", "repeat", 6 + lead, now + timedelta(minutes=2), True),
                 (event, u, "voice", "repeat", 6 + lead, now + timedelta(minutes=4), True)]
    await conn.copy_records_to_table(
        "notification_outbox", records=[(*r[:5], "LOCKDOWN", *r[5:]) for r in rows],
        columns=["event_id", "user_id", "channel", "kind", "priority", "body", "not_before",
                 "unless_acknowledged"])
    await conn.execute("vacuum analyze")
    return event


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


async def backends(admin: asyncpg.Connection, database: str) -> dict[int, float]:
    pids = await admin.fetch("select pid from pg_stat_activity where datname = $1", database)
    return {r["pid"]: cpu_s(r["pid"]) for r in pids}


@contextlib.asynccontextmanager
async def real_fcm(latency_s: float, faulty: bool) -> AsyncIterator[FcmSender]:
    """`FcmSender` against fcm_responder.py in a process of its own (503 to 10 % of the
    sends and UNREGISTERED to 1 % of the tokens when faulty), its pool sized as `muster
    serve` sizes it and opened before the clock starts (300 sends to other tokens)."""
    process, base_url = start_responder(1000 * latency_s, 0.1 if faulty else 0.0,
                                        0.01 if faulty else 0.0)
    sender = FcmSender(service_account(base_url), connections=IN_FLIGHT["push"],
                       fcm_url=f"{base_url}/v1/projects/{{0}}/messages:send")
    try:
        await asyncio.gather(*(sender.send(push(n, "warm-up"))
                               for n in range(IN_FLIGHT["push"])))
        yield sender
    finally:
        await sender.aclose()
        process.terminate()
        process.communicate(timeout=10)


async def run(server: str, staff: int, dispatchers: int, latency_s: float,
              faulty: bool, fcm: bool) -> None:
    name = f"muster_bench_{os.getpid()}"
    admin = await asyncpg.connect(server)
    await admin.execute(f"create database {identifier(name)}")
    dsn = server.rsplit("/", 1)[0] + f"/{name}"
    pools: list[asyncpg.Pool] = []
    try:
        conn = await asyncpg.connect(dsn)
        await migrate.migrate(conn)
        now = datetime.now(UTC)
        event = await build(conn, staff, now)
        pools = [await create_pool(dsn) for _ in range(dispatchers)]
        for pool in pools:  # every connection open before the clock starts
            held = [await pool.acquire() for _ in range(pool.get_max_size())]
            for c in held:
                await pool.release(c)
        outcomes = 0
        done = asyncio.Event()

        def count(channel: str, outcome: str, reason: str | None) -> None:
            nonlocal outcomes
            outcomes += channel == "push"
            if outcomes >= staff:
                done.set()

        async with contextlib.AsyncExitStack() as stack:
            provider = (await stack.enter_async_context(real_fcm(latency_s, faulty)) if fcm
                        else Provider(latency_s, faulty))
            runs = [Dispatcher(pool, dsn, {"push": provider}, lambda: datetime.now(UTC),
                               links=LINKS, batch=Providers().batches(LEASE),
                               on_outcome=count)
                    for pool in pools]
            pg_before = await backends(admin, name)
            cpu_before, t0 = time.process_time(), time.perf_counter()
            for dispatcher in runs:
                await stack.enter_async_context(dispatcher)
            await asyncio.wait_for(done.wait(), 120)
            handed = time.perf_counter() - t0
            milestone = None
            if not faulty:
                while not await conn.fetchval("select 1 from event_timeline where event_id = $1 "
                                              "and kind = 'delivery'", event):
                    await asyncio.sleep(0.01)
                milestone = time.perf_counter() - t0
            cpu = time.process_time() - cpu_before
            pg_after = await backends(admin, name)
        pg = sum(after - pg_before.get(pid, 0.0) for pid, after in pg_after.items())
        states = dict(await conn.fetch("select state, count(*) from notification_outbox "
                                       "where channel = 'push' group by state"))
        deliveries = await conn.fetchval("select count(*) from deliveries")
        await conn.close()
        load = os.getloadavg()
        print(f"{dispatchers} dispatcher(s), {'10% retry 1% dead' if faulty else 'all sent':17}"
              f" first outcomes of {staff}: {handed:5.2f} s = {staff / handed:6.0f} pushes/s"
              + (f", milestone at {milestone:5.2f} s" if milestone else "")
              + f" | CPU ms/push: dispatcher {1000 * cpu / staff:.3f},"
              f" PostgreSQL {1000 * pg / staff:.3f} | push states {states},"
              f" deliveries {deliveries} | load {load[0]:.2f} {load[1]:.2f}")
    finally:
        for pool in pools:
            await pool.close()
        await admin.execute(f"drop database {identifier(name)} with (force)")
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=10_000)
    parser.add_argument("--dispatchers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--fcm", action="store_true",
                        help="send through FcmSender to fcm_responder.py (HTTP, in a process "
                             "of its own) instead of the in-process provider")
    args = parser.parse_args()
    server = os.environ.get("MUSTER_DATABASE_URL")
    if not server:
        sys.exit("set MUSTER_DATABASE_URL to a PostgreSQL server (CREATEDB needed)")
    print(f"provider: {'FcmSender to fcm_responder.py' if args.fcm else 'in-process'}, "
          f"{type(asyncio.get_running_loop()).__module__} loop; latency {args.latency_ms:g} ms; "
          f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for faulty in (False, True):
        for n in args.dispatchers:
            await run(server, args.staff, n, args.latency_ms / 1000, faulty, args.fcm)


if __name__ == "__main__":
    if "--uvloop" in sys.argv:  # muster serve's loop (uvicorn's); `muster worker` runs asyncio's
        sys.argv.remove("--uvloop")
        import uvloop

        uvloop.install()
    asyncio.run(main())
