"""Schools added and changed by district admins, and the administrative audit trail."""

from __future__ import annotations

import uuid

import pytest

from tests import admin_world
from tests.admin_world import snapshot
from tests.conftest import bearer

world = admin_world.world

SCHOOL = {"name": "Delta Middle", "timezone": "America/Denver"}


async def test_district_admin_adds_a_school_and_reaches_it_at_once(client, db, world):
    """The new school has the district's state and the default school year, answers with
    the admin's role, and the admin's very next request reaches it."""
    headers = bearer(world["admin"])
    r = await client.post(f"/v1/districts/{world['district']}/schools", json=SCHOOL,
                          headers=headers)
    assert r.status_code == 201, r.text
    school = r.json()
    assert school | {"id": None} == {
        "id": None, "name": "Delta Middle", "district_id": str(world["district"]),
        "timezone": "America/Denver", "state": "TX", "school_year_start": "08-01",
        "role": "district_admin", "address": None}
    got = await client.get(f"/v1/schools/{school['id']}", headers=headers)
    assert got.status_code == 200 and got.json() == school


async def test_adding_a_school_with_every_field(client, world):
    """State and school year may be given."""
    r = await client.post(f"/v1/districts/{world['district']}/schools",
                          json=SCHOOL | {"state": "CO", "school_year_start": "08-15"},
                          headers=bearer(world["admin"]))
    assert (r.json()["state"], r.json()["school_year_start"]) == ("CO", "08-15")


@pytest.mark.parametrize(("who", "status"), [("principal", 403), ("teacher", 403),
                                             ("other_admin", 404)])
async def test_only_the_districts_admin_adds_schools(client, db, world, who, status):
    """Members of the district below district admin get 403; another district's admin
    gets 404, as for a district that does not exist; nothing is stored."""
    before = await snapshot(db)
    r = await client.post(f"/v1/districts/{world['district']}/schools", json=SCHOOL,
                          headers=bearer(world[who]))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert await snapshot(db) == before


async def test_unknown_district_is_404(client, world):
    """A district id that does not exist answers like another district's."""
    r = await client.post(f"/v1/districts/{uuid.uuid4()}/schools", json=SCHOOL,
                          headers=bearer(world["admin"]))
    assert r.status_code == 404


async def test_district_admin_changes_a_school(client, world):
    """Only the fields sent change; the answer is the school as stored."""
    r = await client.patch(f"/v1/schools/{world['high']}",
                           json={"timezone": "America/New_York", "school_year_start": "09-02"},
                           headers=bearer(world["admin"]))
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["timezone"], r.json()["school_year_start"]) == (
        "Alpha High", "America/New_York", "09-02")
    got = await client.get(f"/v1/schools/{world['high']}", headers=bearer(world["teacher"]))
    assert got.json()["timezone"] == "America/New_York"


@pytest.mark.parametrize(("who", "school", "status"), [
    ("principal", "high", 403), ("sro", "high", 403), ("principal", "elem", 404),
    ("other_admin", "high", 404), ("admin", "other", 404)])
async def test_only_the_districts_admin_changes_schools(client, db, world, who, school, status):
    """A principal may not rename their school (403); nobody reaches another's (404)."""
    before = await snapshot(db)
    r = await client.patch(f"/v1/schools/{world[school]}", json={"name": "Renamed"},
                           headers=bearer(world[who]))
    assert r.status_code == status, r.text
    assert await snapshot(db) == before


BAD_SCHOOLS = [
    ({"name": "X"}, "timezone"),
    ({"timezone": "America/Denver"}, "name"),
    (SCHOOL | {"timezone": "Mars/Olympus"}, "timezone"),
    (SCHOOL | {"timezone": "localtime"}, "timezone"),
    (SCHOOL | {"timezone": "../../etc/passwd"}, "timezone"),
    (SCHOOL | {"timezone": ""}, "timezone"),
    (SCHOOL | {"name": ""}, "name"),
    (SCHOOL | {"name": "  padded  "}, "name"),
    (SCHOOL | {"name": "N" * 201}, "name"),
    (SCHOOL | {"name": "a\u0000b"}, "name"),
    (SCHOOL | {"state": "tx"}, "state"),
    (SCHOOL | {"state": "Texas"}, "state"),
    (SCHOOL | {"school_year_start": "02-30"}, "school_year_start"),
    (SCHOOL | {"school_year_start": "13-01"}, "school_year_start"),
    (SCHOOL | {"school_year_start": "8-1"}, "school_year_start"),
    (SCHOOL | {"policy": {}}, "policy"),
    (SCHOOL | {"name": 5}, "name"),
]


@pytest.mark.parametrize(("body", "field"), BAD_SCHOOLS)
async def test_bad_school_is_400_naming_the_field(client, db, world, body, field):
    """Adding or changing a school with a bad field is refused, naming it, storing nothing."""
    before = await snapshot(db)
    headers = bearer(world["admin"])
    added = await client.post(f"/v1/districts/{world['district']}/schools", json=body,
                              headers=headers)
    patch_body = {k: v for k, v in body.items() if k == field}
    changed = await client.patch(f"/v1/schools/{world['high']}", json=patch_body,
                                 headers=headers)
    for r in (added, changed) if patch_body else (added,):
        assert r.status_code == 400, r.text
        assert field in [e["field"] for e in r.json()["errors"]]
    assert await snapshot(db) == before


async def test_audit_trail_records_who_what_and_when_newest_first(client, clock, world):
    """Each change is an entry with its actor, time, school and a small detail."""
    headers = bearer(world["admin"])
    await client.patch(f"/v1/schools/{world['high']}", json={"name": "Alpha High School"},
                       headers=headers)
    clock.advance(minutes=5)
    await client.put(f"/v1/schools/{world['high']}/rooms", json=[{"code": "GYM", "name": "Gym"}],
                     headers=bearer(world["principal"]))
    r = await client.get(f"/v1/schools/{world['high']}/audit", headers=headers)
    assert r.status_code == 200, r.text
    rooms, renamed = r.json()["items"]
    assert (rooms["kind"], rooms["actor_id"], rooms["detail"]) == (
        "rooms_saved", str(world["principal"]), {"created": 1, "updated": 0, "unchanged": 0})
    assert rooms["at"] == "2026-11-29T08:05:00Z" and rooms["actor_name"].startswith("Principal")
    assert (renamed["kind"], renamed["actor_id"], renamed["detail"]) == (
        "school_updated", str(world["admin"]), {"name": ["Alpha High", "Alpha High School"]})


async def test_a_change_that_changes_nothing_is_not_recorded(client, world):
    """Sending a school's current name again leaves no entry."""
    await client.patch(f"/v1/schools/{world['high']}", json={"name": "Alpha High"},
                       headers=bearer(world["admin"]))
    r = await client.get(f"/v1/schools/{world['high']}/audit", headers=bearer(world["admin"]))
    assert r.json()["items"] == []


async def test_audit_trail_pages_newest_first(client, world):
    """Following next_cursor visits every entry once, newest first."""
    headers = bearer(world["admin"])
    for n in range(5):
        await client.patch(f"/v1/schools/{world['high']}", json={"name": f"Alpha {n}"},
                           headers=headers)
    seen, cursor = [], None
    while True:
        r = await client.get(f"/v1/schools/{world['high']}/audit", headers=headers,
                             params={"limit": 2} | ({"cursor": cursor} if cursor else {}))
        seen += [e["detail"]["name"][1] for e in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Alpha {n}" for n in reversed(range(5))]


@pytest.mark.parametrize(("who", "school", "status"), [
    ("principal", "high", 200), ("admin", "elem", 200), ("sro", "high", 403),
    ("teacher", "high", 403), ("elem_principal", "high", 404), ("other_admin", "high", 404)])
async def test_audit_trail_is_for_principals_and_district_admins(client, world, who, school,
                                                                 status):
    """SROs and teachers may not read it; another school's is 404."""
    r = await client.get(f"/v1/schools/{world[school]}/audit", headers=bearer(world[who]))
    assert r.status_code == status, r.text


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"cursor": "nonsense"},
                                    {"cursor": "WyJhIiwiYiJd"}, {"cursor": "WzAsMV0"},
                                    {"cursor": "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5OV0"}])
async def test_audit_trail_refuses_bad_pages(client, world, params):
    """Out-of-range limits and cursors it never handed out are 400, never 500."""
    r = await client.get(f"/v1/schools/{world['high']}/audit", params=params,
                         headers=bearer(world["admin"]))
    assert r.status_code == 400, r.text
