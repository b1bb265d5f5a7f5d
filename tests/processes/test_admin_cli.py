"""`muster import staff|rooms` as an operator runs it: a real process, a real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import asyncpg
import msgspec

from api.cli.demo import DemoReport
from tests import oneroster_files as files
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


async def test_import_a_oneroster_folder_for_the_district_and_a_students_csv(fresh_database,
                                                                            tmp_path):
    """`muster import oneroster FOLDER --district`: each matched school's line, the orgs
    not imported; the same again changes nothing and says so. `muster import students`
    loads a plain CSV; a bad export lists each problem by file, row and column."""
    muster_env, demo = _demo(fresh_database, tmp_path)
    high = demo.schools[0]
    tables = files.clean()
    tables["orgs"][1]["name"] = high.name
    folder = tmp_path / "export"
    folder.mkdir()
    for name, data in files.export(tables).items():
        (folder / name).write_bytes(data)
    demo_students = dict(await _rows(
        fresh_database, "select school_id, count(*) from students where active group by 1"))
    args = ("import", "oneroster", "--district", str(demo.district_id), str(folder))
    r = run(*args, env=muster_env)
    # the demo's students are not in the export: they left
    assert r.stdout.splitlines()[0] == (
        f"{high.name} (org O-HIGH): students 2 added, 0 updated, "
        f"{demo_students[high.id]} deactivated, 0 unchanged")
    assert "not imported: org O-ELEM (beta elementary)" in r.stdout
    assert "nothing changed" in run(*args, env=muster_env).stdout
    assert await _rows(fresh_database, "select kind, actor_id from admin_audit") == [
        ("roster_imported", None)]
    plain = tmp_path / "students.csv"
    plain.write_text("student_id,given_name,family_name\n77,Zoe,Zed\n")
    r = run("import", "students", "--school", str(demo.schools[1].id), str(plain),
            env=muster_env)
    assert r.stdout.strip() == (f"{demo.schools[1].name}: students 1 added, 0 updated, "
                                f"{demo_students[demo.schools[1].id]} deactivated, 0 unchanged")
    tables["enrollments"][0]["userSourcedId"] = "NOPE"
    bad = tmp_path / "bad.zip"
    bad.write_bytes(files.zipped(files.export(tables)))
    r = run("import", "oneroster", "--school", str(high.id), str(bad), env=muster_env,
            check=False)
    assert r.returncode == 1
    assert r.stderr.splitlines()[0] == "enrollments.csv row 2, userSourcedId: NOPE is not in " \
                                       "users.csv"
    r = run("import", "oneroster", str(bad), env=muster_env, check=False)
    assert r.returncode == 2 and "--school ID or --district ID" in r.stderr
