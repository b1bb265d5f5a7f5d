"""What a claim costs when it meets acknowledged follow-ups (db/outbox._CLAIM).

A claim skips the due drill reminders and real-alert repeats of people who have
acknowledged, as it meets them. A district's round leaves its calls due for hours (calls
go at about one a second, a lane claiming 15 at a time), so this claims among 10,000 due
rows again and again. The
world: one real lockdown to N staff (push and SMS sent, two repeat calls each queued),
half of them acknowledged, a quarter reported a room, 20 confirmed a call; with
`--history`, 50 earlier events of the district, each acknowledged by everyone and
reported by a fifth. Figures are the median of 5 runs in a rolled-back transaction, of
a voice lane's claim of 15 on the round's due rows and of the claim after it, with and
without JIT; `--explain` prints the plan first.

    MUSTER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/follow_ups.py [--staff 10000] [--history] [--explain]

It needs CREATEDB on that server: it works in a temporary database, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db import migrate
from db.outbox import _CLAIM, claim
from db.pool import connect, identifier

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
EVENTS_OF_HISTORY = 50
LANE, LEASE = 15, timedelta(seconds=30)  # a voice lane at one call a second
_EXPLAIN = "explain (analyze, buffers) " + _CLAIM


async def build(conn: asyncpg.Connection, staff: int, history: bool) -> None:
    d, s, room, event = (uuid.uuid4() for _ in range(4))
    await conn.execute("insert into districts (id, name, state) values ($1, 'D', 'TX')", d)
    await conn.execute("insert into schools (id, district_id, name, timezone, state) "
                       "values ($1, $2, 'S', 'America/Chicago', 'TX')", s, d)
    await conn.execute("insert into rooms (id, school_id, code, name) "
                       "values ($1, $2, 'R1', 'Room 1')", room, s)
    users = [uuid.uuid4() for _ in range(staff)]
    await conn.copy_records_to_table(
        "users", columns=["id", "name", "phone"],
        records=[(u, f"P{n}", f"+1201{n:07d}") for n, u in enumerate(users)])
    await conn.copy_records_to_table(
        "memberships", columns=["id", "user_id", "district_id", "school_id", "role", "name"],
        records=[(uuid.uuid4(), u, d, s, "teacher", f"P{n}") for n, u in enumerate(users)])
    started = "insert into events (id, school_id, action, drill, status, directive, " \
              "started_at, started_by, ended_at) values ($1, $2, 'lockdown', $3, $4, 'x', " \
              "$5, $6, $7)"
    await conn.execute(started, event, s, False, "active", T0, users[0], None)
    rows = []
    for u in users:
        rows += [(event, u, "push", "alert", 8, "sent", T0, False),
                 (event, u, "sms", "alert", 8, "sent", T0, False),
                 (event, u, "voice", "repeat", 6, "queued", T0 + timedelta(minutes=2), True),
                 (event, u, "voice", "repeat", 6, "queued", T0 + timedelta(minutes=4), True)]
    await conn.copy_records_to_table(
        "notification_outbox", records=[(*r[:5], "LOCKDOWN", *r[5:]) for r in rows],
        columns=["event_id", "user_id", "channel", "kind", "priority", "body", "state",
                 "not_before", "unless_acknowledged"])
    await conn.execute("update notification_outbox set confirmed_at = $1 where id in "
                       "(select id from notification_outbox order by id limit 20)", T0)
    acks = [(event, u) for u in users[::2]]
    reports = [(event, u) for u in users[1::4]]
    if history:
        for _ in range(EVENTS_OF_HISTORY):
            old = uuid.uuid4()
            ago = T0 - timedelta(days=30)
            await conn.execute(started, old, s, True, "all_clear", ago, users[0], ago)
            acks += [(old, u) for u in users]
            reports += [(old, u) for u in users[::5]]
    await conn.copy_records_to_table("acknowledgements", columns=["event_id", "user_id", "at"],
                                     records=[(e, u, T0) for e, u in acks])
    await conn.copy_records_to_table(
        "checkins", columns=["id", "event_id", "school_id", "room_id", "client_id", "status",
                             "students_present", "observed_at", "received_at", "reported_by"],
        records=[(uuid.uuid4(), e, s, room, uuid.uuid4(), "ok", 20, T0, T0, u)
                 for e, u in reports])
    await conn.execute("vacuum analyze")


async def median_ms(conn: asyncpg.Connection, at: datetime, jit: bool) -> tuple[float, float]:
    firsts, agains = [], []
    for _ in range(5):
        tr = conn.transaction()
        await tr.start()
        await conn.execute("select set_config('jit', $1, true)", "on" if jit else "off")
        for into in (firsts, agains):
            started = time.perf_counter()
            await claim(conn, at, LANE, LEASE, "voice")
            into.append((time.perf_counter() - started) * 1000)
        await tr.rollback()
    return sorted(firsts)[2], sorted(agains)[2]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=10_000)
    parser.add_argument("--history", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    server = os.environ.get("MUSTER_DATABASE_URL")
    if not server:
        sys.exit("set MUSTER_DATABASE_URL to a PostgreSQL server (CREATEDB needed)")
    admin = await asyncpg.connect(server)
    name = f"muster_bench_{os.getpid()}"
    await admin.execute(f"create database {identifier(name)}")
    try:
        conn = await connect(server.rsplit("/", 1)[0] + f"/{name}")
        await migrate.migrate(conn)
        await build(conn, args.staff, args.history)
        at = T0 + timedelta(minutes=2, seconds=10)  # the first round is due
        if args.explain:  # analyze runs the update: undone
            tr = conn.transaction()
            await tr.start()
            plan = await conn.fetch(_EXPLAIN, at, LANE, LEASE, "voice")
            print("\n".join(r[0] for r in plan))
            await tr.rollback()
        print(f"staff={args.staff} history={args.history}")
        for jit in (True, False):
            first, again = await median_ms(conn, at, jit)
            print(f"jit={'on ' if jit else 'off'}  first claim: {first:7.2f} ms   "
                  f"next claim: {again:7.2f} ms")
        await conn.close()
    finally:
        await admin.execute(f"drop database {identifier(name)} with (force)")
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
