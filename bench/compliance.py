"""Drill log and compliance: how fast a district of 50 schools with years of drills answers.

Builds its world as `checkin_storm.py` does (a temporary data dir with an embedded
PostgreSQL, or a temporary database on the server named by MUSTER_DATABASE_URL), migrates
it, and writes with COPY a Texas district of `--schools` schools (a principal each and a
district admin), every school with three school years of drills (2024-2025 to the
current one, up to today): monthly fire drills, lockdowns, secure, hold, evacuation,
shelter for hazmat and tornado, a few real events and a cancelled one. Half the schools
set their own dates for the measured year; the district has its own rule pack. Other
districts (`--other-schools`) fill the events table the same way, as a state-wide
deployment would. Then `muster serve` (one uvicorn worker) answers, one request at a
time from one keep-alive connection (a dashboard), each of:

    GET /v1/schools/{id}/drill-log?school_year=...          (JSON, and ?format=csv)
    GET /v1/schools/{id}/compliance?school_year=...
    GET /v1/districts/{id}/drill-log?school_year=...&limit=500   (JSON, and ?format=csv)
    GET /v1/districts/{id}/compliance?school_year=...

    .venv/bin/python bench/compliance.py [--schools 50] [--other-schools 450] [--requests 100]

Figures are printed, never asserted; the exit status is 0 whenever the run completed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
from checkin_storm import BIN, Tally, World, row, verdict
from fanout import generated_phone
from soak import timed

from db.compliance import _YEAR_EVENTS

# explain_year_events -- the plan of the API's year_events query
_EXPLAIN_YEAR_EVENTS = "explain (analyze, costs off, timing off) " + _YEAR_EVENTS
MAX_MS = 200.0  # the target: drill log and compliance answer in < 200 ms
ROUTES = [  # (name, path template, query)
    ("school drill log (JSON)", "/v1/schools/{school}/drill-log", {}),
    ("school drill log (CSV)", "/v1/schools/{school}/drill-log", {"format": "csv"}),
    ("school compliance", "/v1/schools/{school}/compliance", {}),
    ("district drill log (JSON, 500)", "/v1/districts/{district}/drill-log", {"limit": 500}),
    ("district drill log (CSV)", "/v1/districts/{district}/drill-log", {"format": "csv"}),
    ("district compliance", "/v1/districts/{district}/compliance", {}),
]
DISTRICT_PACK = {
    "id": "district", "title": "Bench ISD board policy", "jurisdiction": "Bench ISD",
    "replaces": ["tx/fire"],
    "rules": [{"id": "fire_monthly", "title": "A fire drill each month", "citation": "Policy",
               "period": "month", "required": 1,
               "counts": {"actions": ["evacuate"], "purposes": ["fire"]}}],
}


# ---------------------------------------------------------------- the generated district

# One school year of drills: (month offset from August, action, hazard, purpose, drill,
# status). Fire drills monthly from September to June; the rest spread over the year.
YEAR_OF_DRILLS = (
    [(m, "evacuate", None, "fire", True, "all_clear") for m in range(1, 11)]
    + [(1, "lockdown", None, None, True, "all_clear"), (6, "lockdown", None, None, True,
                                                         "all_clear"),
       (2, "secure", None, None, True, "all_clear"), (3, "hold", None, None, True, "all_clear"),
       (4, "evacuate", None, "bomb_threat", True, "all_clear"),
       (5, "shelter", "hazmat", None, True, "all_clear"),
       (8, "shelter", "tornado", None, True, "all_clear"),
       (7, "hold", None, None, True, "all_clear"),
       (2, "secure", None, None, False, "all_clear"), (5, "lockdown", None, None, False,
                                                        "all_clear"),
       (3, "lockdown", None, None, True, "cancelled")]
)
DIRECTIVES = {"hold": "In your room or area. Clear the halls.",
              "secure": "Get inside. Lock outside doors.",
              "lockdown": "Locks, lights, out of sight.", "evacuate": "Go to Football field.",
              "shelter": "Shelter in place."}


def school_day(start_year: int, month_offset: int, rng: random.Random) -> datetime:
    """A weekday of that month of the school year, between 9:00 and 14:00 in Chicago."""
    month = (7 + month_offset) % 12 + 1
    year = start_year + (1 if month < 8 else 0)
    day = date(year, month, rng.randint(3, 26))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 14 + rng.randint(0, 5), rng.randint(0, 59),
                    tzinfo=UTC)


def drills_of(school_id: uuid.UUID, principal: uuid.UUID, years: range, now: datetime,
              rng: random.Random) -> list[tuple]:
    rows = []
    for start_year in years:
        for month, action, hazard, purpose, drill, status in YEAR_OF_DRILLS:
            started = school_day(start_year, month, rng)
            if started > now - timedelta(hours=1):
                continue  # the current year only up to today
            rows.append((uuid.uuid4(), school_id, action, drill, status, DIRECTIVES[action],
                         "Football field" if action == "evacuate" else None, hazard, purpose,
                         started, principal, started + timedelta(minutes=rng.randint(4, 30)),
                         principal))
    return rows


async def build(dsn: str, schools: int, others: int, years: range, now: datetime,
                own_dates_year: int) -> dict:
    """The measured district (and the others) with COPY, then ANALYZE."""
    rng = random.Random(7)
    districts, school_rows, users, members, events, dates = [], [], [], [], [], []
    district_id = uuid.uuid4()
    admin = uuid.uuid4()
    phone = iter(range(10**6))
    users.append((admin, "Bench District Admin", generated_phone(next(phone))))
    members.append((uuid.uuid4(), admin, district_id, None, "district_admin",
                    "Bench District Admin"))
    districts.append((district_id, "Bench ISD", "TX"))
    per_district = 50
    other_districts = [uuid.uuid4() for _ in range((others + per_district - 1) // per_district)]
    districts += [(d, f"Other ISD {n}", "TX") for n, d in enumerate(other_districts)]
    placement = [(district_id, n) for n in range(schools)] + [
        (other_districts[n // per_district], n) for n in range(others)]
    measured = []
    for district, n in placement:
        school_id, principal = uuid.uuid4(), uuid.uuid4()
        school_rows.append((school_id, district, f"School {n:03d} of {district.hex[:6]}",
                            "America/Chicago", "TX"))
        users.append((principal, f"Principal {n:03d}", generated_phone(next(phone))))
        members.append((uuid.uuid4(), principal, district, school_id, "principal",
                        f"Principal {n:03d}"))
        events += drills_of(school_id, principal, years, now, rng)
        if district == district_id:
            measured.append((school_id, principal))
            if n % 2 == 0:
                dates.append((school_id, own_dates_year, date(own_dates_year, 8, 17),
                              date(own_dates_year + 1, 5, 28), date(own_dates_year + 1, 1, 5),
                              now, principal))
    tables = {
        "districts": (["id", "name", "state"], districts),
        "schools": (["id", "district_id", "name", "timezone", "state"], school_rows),
        "users": (["id", "name", "phone"], users),
        "memberships": (["id", "user_id", "district_id", "school_id", "role", "name"], members),
        "events": (["id", "school_id", "action", "drill", "status", "directive", "location",
                    "hazard", "purpose", "started_at", "started_by", "ended_at", "ended_by"],
                   events),
        "school_years": (["school_id", "start_year", "first_day", "last_day",
                          "second_semester_start", "updated_at", "updated_by"], dates),
    }
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for table, (columns, records) in tables.items():
                await conn.copy_records_to_table(table, columns=columns, records=records)
        await conn.execute("analyze")
        version = await conn.fetchval("show server_version")
    finally:
        await conn.close()
    return {"district": district_id, "admin_phone": users[0][2], "schools": measured,
            "events": len(events), "district_events": sum(1 for e in events
                                                          if e[1] in dict(measured)),
            "all_schools": len(school_rows), "pg": version}


# ---------------------------------------------------------------- measuring

async def measure(base: str, token: str, ids: dict[str, list[uuid.UUID]], school_year: str,
                  count: int, warmup: int) -> dict[str, Tally]:
    """Each route `count` times (after `warmup` unmeasured), one request at a time, in
    turn, from one keep-alive connection; the school routes go round the schools."""
    tallies = {name: Tally(name) for name, _, _ in ROUTES}
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as client:
        for n in range(warmup + count):
            for name, template, query in ROUTES:
                path = template.format(**{k: v[n % len(v)] for k, v in ids.items()})
                params = {"school_year": school_year, **query}
                tally = tallies[name] if n >= warmup else Tally("warm-up")
                await timed(tally, client.get(path, params=params, headers=headers))
    return tallies


async def explain(dsn: str, district_id: uuid.UUID, start_year: int) -> list[str]:
    """The plan of the district's year_events query (windows as the API builds them)."""
    conn = await asyncpg.connect(dsn)
    try:
        ids = [r["id"] for r in await conn.fetch(
            "select id from schools where district_id = $1", district_id)]
        first, last = date(start_year, 8, 1), date(start_year + 1, 7, 31)
        plan = await conn.fetch(_EXPLAIN_YEAR_EVENTS, ids, [first] * len(ids),
                                [last] * len(ids), None, None, None)
        return [r[0] for r in plan]
    finally:
        await conn.close()


def set_pack(base: str, district_id: uuid.UUID, token: str) -> None:
    r = httpx.put(f"{base}/v1/districts/{district_id}/rule-pack", json=DISTRICT_PACK,
                  headers={"authorization": f"Bearer {token}"}, trust_env=False, timeout=10)
    if r.status_code != 200:
        raise RuntimeError(f"setting the district's rule pack: {r.status_code} {r.text}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Drill log and compliance latency for a "
                                     "district of schools with years of drills.")
    parser.add_argument("--schools", type=int, default=50, help="schools in the district")
    parser.add_argument("--other-schools", type=int, default=450,
                        help="schools of other districts, with the same drills")
    parser.add_argument("--requests", type=int, default=100, help="measured per route")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured per route first")
    parser.add_argument("--years", type=int, default=3,
                        help="school years of drills per school, up to the current one")
    parser.add_argument("--school-year", default="2025-2026",
                        help="the school year asked for (default: the last complete one)")
    args = parser.parse_args()

    start_year = int(args.school_year[:4])
    now = datetime.now(UTC)
    current = now.year if now.month >= 8 else now.year - 1
    world = World(pool_size=10)
    started = time.monotonic()
    try:
        world.up()
        world.muster("migrate")
        built = asyncio.run(build(world.dsn, args.schools, args.other_schools,
                                  range(current - args.years + 1, current + 1), now,
                                  start_year))
        print(f"compliance: {args.schools} schools in the district ({built['district_events']} "
              f"events over {args.years} school years), {built['all_schools']} schools and "
              f"{built['events']} events in all; school year {args.school_year}")
        print(f"machine: {len(os.sched_getaffinity(0))} cores, Python "
              f"{platform.python_version()}, PostgreSQL {built['pg']} "
              f"({'external' if world.external else 'embedded'}), one uvicorn worker; "
              f"{args.requests} requests per route after {args.warmup} warm-up, one at a time")
        token = world.muster("token", "--phone", built["admin_phone"]).strip()
        base, _ = world.serve("muster", [str(BIN / "muster"), "serve"], "/ready")
        set_pack(base, built["district"], token)
        ids = {"school": [s for s, _ in built["schools"]], "district": [built["district"]]}
        tallies = asyncio.run(measure(base, token, ids, args.school_year, args.requests,
                                      args.warmup))
        plan = asyncio.run(explain(world.dsn, built["district"], start_year))
        world.stop_servers()
        print()
        print(f"{'route':<34}{'requests':>9}{'':>12}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for t in tallies.values():
            print(row(t.name, t, per_second=False).replace(t.name.ljust(30), t.name.ljust(34)))
            if t.errors:
                print(f"  first error: {t.first_error}")
        print()
        print("plan of the district's events query (EXPLAIN ANALYZE):")
        for line in plan:
            print(f"  {line}")
        print()
        for t in tallies.values():
            p99 = t.percentile_ms(0.99)
            print(f"  {verdict(p99 < MAX_MS and not t.errors)}  {t.name}: p99 < {MAX_MS:.0f} ms "
                  f"({p99:.1f} ms), {t.errors} errors")
    finally:
        world.down_and_report(started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
