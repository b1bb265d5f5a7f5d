"""`muster roster erase` as an operator runs it: a real process, a real PostgreSQL."""

from __future__ import annotations

from db.pool import connect
from tests.api.test_erase_roster_api import PERSONAL, roster_school
from tests.processes import env, run


async def test_erase_leaves_no_guardian_or_restriction_and_erases_names(fresh_database,
                                                                        tmp_path):
    """With the school's name typed: one line of counts, nothing personal left, the
    students' ids kept, an audit entry with no actor (an operator); a wrong name erases
    nothing."""
    muster_env = env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))
    run("migrate", env=muster_env)
    conn = await connect(fresh_database)
    try:
        school = await roster_school(conn, "Riverbend High")
        wrong = run("roster", "erase", "--school", str(school["id"]), "--confirm", "Cedar",
                    env=muster_env, check=False)
        assert wrong.returncode == 1 and "type the school's name" in wrong.stderr
        assert (await conn.fetchrow(PERSONAL, school["id"]))["guardians"] == 1
        r = run("roster", "erase", "--school", str(school["id"]), "--confirm",
                "riverbend high", env=muster_env)
        assert r.stdout.strip().endswith(
            "Riverbend High: 3 students erased; 1 guardians, 1 restrictions, 1 classes, "
            "3 enrollments and 1 bell schedule deleted; 1 reunification adults erased")
        assert set((await conn.fetchrow(PERSONAL, school["id"])).values()) == {0}
        assert sorted(await conn.fetchval(
            "select array_agg(id) from students where given_name = 'Erased'")) == sorted(
            school["students"])
        assert [tuple(a) for a in await conn.fetch(
            "select kind, actor_id from admin_audit")] == [("roster_erased", None)]
    finally:
        await conn.close()
