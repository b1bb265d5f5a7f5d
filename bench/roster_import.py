"""OneRoster import: how long a 2,000-student school's export takes to load, and to load
again unchanged.

Builds its world as `checkin_storm.py` does (a temporary data dir with an embedded
PostgreSQL, or a temporary database on the server named by MUSTER_DATABASE_URL), seeds
the demo district (`muster demo`: Riverbend High has 60 rooms), and generates a OneRoster
1.1 CSV export for Riverbend High: `--students` students with one or two guardians each
(one in twenty without a phone), a homeroom class per room, `--periods` periods of
scheduled classes (a class per room per period, one room in ten an unknown location, each
in one of two semesters), and every student enrolled in their homeroom and one class a
period (one in twenty changed section at period 2 in October: the old enrollment has an
endDate, the new one a beginDate, as real exports do), zipped. Then, in this process,
through the same use case as the API and `muster import` (one transaction):

    the first import (everything added)
    a re-import of the same export (nothing changes, nothing is written)
    a re-import with 5 % of the students renamed and 2 % gone (deactivated)

    .venv/bin/python bench/roster_import.py [--students 2000] [--periods 7]

Figures are printed, never asserted; the exit status is 0 whenever the run completed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import platform
import sys
import time
import uuid
import zipfile
from datetime import UTC, datetime

import msgspec
from checkin_storm import World

from api.cli.admin import _NoCopies
from api.cli.demo import DemoReport
from api.usecases import rosters
from api.usecases.phones import to_e164
from api.usecases.unit_of_work import UnitOfWork
from db.pool import connect
from domain import oneroster


def csv_file(rows: list[dict[str, str]]) -> bytes:
    """Rows as a OneRoster file writes them: every cell quoted, CRLF line ends."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, restval="", quoting=csv.QUOTE_ALL,
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


# the school year, and the two semesters its scheduled classes meet in (homerooms: all year)
SESSIONS = [{"sourcedId": "Y-1", "title": "2026-27", "type": "schoolYear",
             "startDate": "2026-08-17", "endDate": "2027-05-28"},
            {"sourcedId": "T-1", "title": "Fall", "type": "semester",
             "startDate": "2026-08-17", "endDate": "2026-12-18", "parentSourcedId": "Y-1"},
            {"sourcedId": "T-2", "title": "Spring", "type": "semester",
             "startDate": "2027-01-05", "endDate": "2027-05-28", "parentSourcedId": "Y-1"}]


def generate(school: str, codes: list[str], students: int, periods: int,
             renamed: float = 0.0, gone: float = 0.0) -> dict[str, bytes]:
    """The export's files; `renamed` and `gone` the shares of students changed and left out."""
    users: list[dict[str, str]] = []
    classes: list[dict[str, str]] = []
    enrollments: list[dict[str, str]] = []
    for r, code in enumerate(codes):
        classes.append({"sourcedId": f"HR-{r}", "title": f"Homeroom {code}",
                        "classType": "homeroom", "location": code, "schoolSourcedId": "O-1",
                        "termSourcedIds": "Y-1"})
        for p in range(1, periods + 1):
            classes.append({"sourcedId": f"C-{r}-{p}", "title": f"Class {r} period {p}",
                            "classType": "scheduled", "schoolSourcedId": "O-1",
                            "location": code if r % 10 else f"Portable {r}",
                            "periods": str(p), "termSourcedIds": f"T-{1 + p % 2}"})
    left_out = int(students * gone)
    for n in range(left_out, students):
        sid, given = f"S{n}", ("Renamed" if n < left_out + students * renamed else "Given")
        guardians = [f"G{n}a"] + ([f"G{n}b"] if n % 3 == 0 else [])
        users.append({"sourcedId": sid, "enabledUser": "true", "orgSourcedIds": "O-1",
                      "role": "student", "givenName": f"{given}{n}", "familyName": f"F{n}",
                      "grades": str(9 + n % 4), "agentSourcedIds": ",".join(guardians)})
        for g in guardians:
            phone = "" if n % 20 == 0 else f"(512) 55{n // 1000 % 10}-{n % 1000:03d}{len(g) % 10}"
            users.append({"sourcedId": g, "enabledUser": "true", "role": "parent",
                          "givenName": "Parent", "familyName": f"F{n}", "phone": phone,
                          "agentSourcedIds": sid})
        r = n % len(codes)
        enrollments.append({"sourcedId": f"E{n}-hr", "classSourcedId": f"HR-{r}",
                            "schoolSourcedId": "O-1", "userSourcedId": sid, "role": "student"})
        for p in range(1, periods + 1):
            enrollments.append({"sourcedId": f"E{n}-{p}",
                                "classSourcedId": f"C-{(n + p) % len(codes)}-{p}",
                                "schoolSourcedId": "O-1", "userSourcedId": sid,
                                "role": "student"})
            if p == 2 and n % 20 == 1:
                enrollments[-1]["endDate"] = "2026-10-15"
                enrollments.append({"sourcedId": f"E{n}-{p}-moved",
                                    "classSourcedId": f"C-{(n + p + 1) % len(codes)}-{p}",
                                    "schoolSourcedId": "O-1", "userSourcedId": sid,
                                    "role": "student", "beginDate": "2026-10-16"})
    tables = {"orgs": [{"sourcedId": "O-1", "name": school, "type": "school"}],
              "users": users, "classes": classes, "enrollments": enrollments,
              "academicSessions": SESSIONS}
    manifest = [{"propertyName": "manifest.version", "value": "1.0"},
                {"propertyName": "oneroster.version", "value": "1.1"},
                *({"propertyName": f"file.{name}", "value": "bulk"} for name in tables)]
    return {"manifest.csv": csv_file(manifest)} | {
        f"{name}.csv": csv_file(rows) for name, rows in tables.items()}


async def timed_import(dsn: str, school_id: uuid.UUID, files: dict[str, bytes]
                       ) -> tuple[rosters.RosterImported, float]:
    conn = await connect(dsn)
    try:
        uow = UnitOfWork(conn, events=_NoCopies(), callers=_NoCopies())
        started = time.perf_counter()
        done = await rosters.import_oneroster(uow, None, files, datetime.now(UTC),
                                              school_id=school_id)
        return done, time.perf_counter() - started
    finally:
        await conn.close()


# row_counts -- what the imports left in the tables they write
_ROW_COUNTS = """
select (select count(*) from students) as students, (select count(*) from guardians) as
       guardians, (select count(*) from student_guardians) as links,
       (select count(*) from classes) as classes, (select count(*) from enrollments) as
       enrollments, (select count(*) from admin_audit) as audit_entries
"""


async def row_counts(dsn: str) -> str:
    conn = await connect(dsn)
    try:
        counts = await conn.fetchrow(_ROW_COUNTS)
    finally:
        await conn.close()
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--periods", type=int, default=7)
    args = parser.parse_args()
    started = time.monotonic()
    world = World(pool_size=2)
    try:
        world.up()
        demo = msgspec.json.decode(world.muster("demo", "--json"), type=DemoReport)
        school = demo.schools[0]
        codes = [r.code for r in school.rooms]
        first = generate(school.name, codes, args.students, args.periods)
        changed = generate(school.name, codes, args.students, args.periods, 0.05, 0.02)
        body = zipped(first)
        size = len(body)
        print(f"{school.name}: {len(codes)} rooms; {args.students} students, "
              f"{args.periods} periods; the zip {size / 1024:.0f} KiB, its users.csv "
              f"{len(first['users.csv']) / 1024:.0f} KiB, enrollments.csv "
              f"{len(first['enrollments.csv']) / 1024:.0f} KiB")
        t = time.perf_counter()
        oneroster.read_export(rosters.unzip(body), to_e164)
        print(f"unzipping, reading and checking the export alone: "
              f"{time.perf_counter() - t:.2f} s")
        print(f"python {platform.python_version()} on {platform.machine()}")
        for label, files in (("first import", first), ("the same again", first),
                             ("5 % renamed, 2 % gone", changed)):
            done, seconds = asyncio.run(timed_import(world.dsn, school.id, files))
            print(f"{label:24} {seconds:6.2f} s  added {done.added}, updated {done.updated}, "
                  f"deactivated {done.deactivated}, unchanged {done.unchanged}, "
                  f"changed {done.changed}")
        print(asyncio.run(row_counts(world.dsn)))
    finally:
        world.down_and_report(started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
