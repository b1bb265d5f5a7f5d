"""`muster import staff|rooms` as an operator runs it: a real process, a real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import asyncpg
import msgspec

from api.cli.demo import DemoReport
from tests.processes import env, run


def _demo(fresh_database, tmp_path) -> tuple[dict[str, str], DemoReport]:
    muster_env = env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))
    return muster_env, msgspec.json.decode(run("demo", "--json", env=muster_env).stdout,
                                           type=DemoReport)


async def _rows(url: str, query: str, *args) -> list[tuple]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


async def test_import_rooms_and_staff_from_files(fresh_database, tmp_path):
    """Both imports store their rows, say what they did in one line, and leave an audit
    entry with no actor (an operator)."""
    muster_env, demo = _demo(fresh_database, tmp_path)
    school = demo.schools[1]
    rooms = tmp_path / "rooms.csv"
    rooms.write_text("code,name,building,floor,capacity\nK-1,Kinder 1 (east),Main,1,20\n"
                     "Annex 1,Annex Room,Annex,1,25\n")
    r = run("import", "rooms", "--school", str(school.id), str(rooms), env=muster_env)
    assert r.stdout.strip() == "Cedar Elementary School: rooms 1 created, 1 updated, 0 unchanged"
    staff = tmp_path / "staff.csv"
    last_day = date.today() + timedelta(days=30)  # the command reads the real clock
    staff.write_text(f"name,phone,role,expires_at\nSam Sub,(737) 555-0177,teacher,{last_day}\n")
    r = run("import", "staff", "--school", str(school.id), str(staff), env=muster_env)
    assert r.stdout.strip() == "Cedar Elementary School: staff 1 added, 0 updated, 0 unchanged"
    assert await _rows(fresh_database, "select name from users where phone = '+17375550177'"
                       ) == [("Sam Sub",)]
    assert await _rows(fresh_database, "select kind, actor_id from admin_audit order by id"
                       ) == [("rooms_imported", None), ("staff_imported", None)]


async def test_a_bad_file_imports_nothing_and_lists_its_rows(fresh_database, tmp_path):
    """Exit 1, one line per bad row on stderr, no row stored, no audit entry."""
    muster_env, demo = _demo(fresh_database, tmp_path)
    before = await _rows(fresh_database, "select id, code, name from rooms order by id")
    rooms = tmp_path / "rooms.csv"
    rooms.write_text("code,name,floor\nNEW-1,New,1\nNEW-2,,2\nNEW-3,New,third\n")
    r = run("import", "rooms", "--school", str(demo.schools[0].id), str(rooms),
            env=muster_env, check=False)
    assert r.returncode == 1
    assert r.stderr.splitlines()[:2] == ["row 3, name: required",
                                         "row 4, floor: 'third' is not a whole number"]
    assert "nothing was imported" in r.stderr.splitlines()[-1]
    assert await _rows(fresh_database, "select id, code, name from rooms order by id") == before
    assert await _rows(fresh_database, "select id from admin_audit") == []


def test_an_unknown_school_is_one_line(fresh_database, tmp_path):
    """A school id that does not exist is named in a single error line."""
    muster_env = env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))
    rooms = tmp_path / "rooms.csv"
    rooms.write_text("code,name\nA,A\n")
    school = uuid.uuid4()
    r = run("import", "rooms", "--school", str(school), str(rooms), env=muster_env, check=False)
    assert r.returncode == 1 and r.stderr.strip() == f"Error: no school {school}"
