"""A district to administer, shared by the administration tests (import the fixture)."""

from __future__ import annotations

import pytest

from tests import factories

# Every table an administrative change may write; a refusal must leave all as they were.
ADMIN_TABLES = ("schools", "rooms", "users", "memberships", "former_directory_entries",
                "admin_audit", "sessions", "devices")


@pytest.fixture
async def world(db):
    """District one: Alpha High (principal, SRO, teacher, staff, 3 rooms) and Beta
    Elementary (principal); its district admin. District two: Gamma High, its admin."""
    d1, d2 = await factories.district(db, "One ISD"), await factories.district(db, "Two ISD")
    high = await factories.school(db, d1, "Alpha High")
    elem = await factories.school(db, d1, "Beta Elementary")
    other = await factories.school(db, d2, "Gamma High")
    await factories.rooms(db, high, 3)
    people = {role: await factories.person(db, d1, high, role)
              for role in ("principal", "sro", "teacher", "staff")}
    people |= {"elem_principal": await factories.person(db, d1, elem, "principal"),
               "admin": await factories.person(db, d1, None, "district_admin"),
               "other_admin": await factories.person(db, d2, None, "district_admin")}
    for n, user_id in enumerate(people.values()):  # numbers that parse as real US phones
        await db.execute("update users set phone = $2 where id = $1", user_id,
                         f"+173755502{n:02d}")
    return {
        "district": d1, "other_district": d2, "high": high, "elem": elem, "other": other,
        **people}


async def snapshot(db) -> list[list[tuple]]:
    """Every row of the administrative tables, so an update shows as well as an insert."""
    return [[tuple(r) for r in await db.fetch(f"select * from {t} order by 1")]
            for t in ADMIN_TABLES]
