"""Staff reporting themselves over HTTP: the newest report counts, each is on the
timeline, and accountability adds up the school's staff (names for those who may see
the staff list)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests import factories
from tests.api.test_role_matrix import snapshot
from tests.conftest import bearer

NOBODY_YET = {"safe": 0, "need_help": 0, "not_with_students": 0, "off_site": 0}


@pytest.fixture
async def school(db, client):
    """A person in each role, a district admin, a real lockdown, another district's SRO."""
    school = await factories.staffed_school(db, *factories.STAFF, room_count=1)
    school["district_admin"] = await factories.person(db, school["district"], None,
                                                      "district_admin")
    school["outsider"] = (await factories.staffed_school(db, "sro"))["sro"]
    return school | {"event": await factories.start(client, school)}


def _report(client, school, who, status="safe", **more):
    return client.post(f"/v1/events/{school['event']}/status", json={"status": status, **more},
                       headers=bearer(school[who]))


async def _staff(client, school, who="principal") -> dict:
    r = await client.get(f"/v1/events/{school['event']}/accountability",
                         headers=bearer(school[who]))
    assert r.status_code == 200, r.text
    return r.json()["staff"]


async def test_the_newest_report_counts_and_each_is_on_the_timeline(client, db, school, clock):
    r = await _report(client, school, "teacher", "not_with_students", note="In the hall")
    assert r.status_code == 201, r.text
    assert r.json() == {"event_id": school["event"], "user_id": str(school["teacher"]),
                        "status": "not_with_students", "note": "In the hall",
                        "reported_at": "2026-11-29T08:00:00Z"}
    clock.advance(minutes=2)
    assert (await _report(client, school, "teacher", "need_help")).status_code == 201
    staff = await _staff(client, school)
    assert staff["by_status"] == NOBODY_YET | {"need_help": 1}
    assert [(s["status"], s["note"]) for s in staff["reports"]] == [("need_help", None)]
    timeline = (await client.get(f"/v1/events/{school['event']}/timeline",
                                 headers=bearer(school["teacher"]))).json()["items"]
    reports = [e for e in timeline if e["kind"] == "staff_status"]
    assert [(e["detail"]["status"], e["actor"]["id"]) for e in reports] == [
        ("not_with_students", str(school["teacher"])), ("need_help", str(school["teacher"]))]


async def test_accountability_names_who_has_not_reported_for_the_leads_only(client, school):
    """Counts for every member; the names of those not reported for who may see the
    staff list. A district admin who reports is counted among the staff."""
    for who, status in (("teacher", "safe"), ("district_admin", "off_site")):
        assert (await _report(client, school, who, status)).status_code == 201
    staff = await _staff(client, school)
    assert (staff["total"], staff["reported"]) == (5, 2)
    assert staff["by_status"] == NOBODY_YET | {"safe": 1, "off_site": 1}
    assert sorted(p["user_id"] for p in staff["not_reported"]) == sorted(
        str(school[w]) for w in ("staff", "sro", "principal"))
    assert all(p["name"] for p in staff["not_reported"])
    teachers_view = await _staff(client, school, "teacher")
    assert teachers_view == staff | {"not_reported": None, "reports": None}


async def test_an_expired_substitute_is_not_staff_any_more(client, db, school, clock):
    sub = await factories.person(db, school["district"], school["id"], "teacher",
                                 expires_at=clock.now + timedelta(minutes=5))
    assert (await _staff(client, school))["total"] == 5
    clock.advance(minutes=6)
    staff = await _staff(client, school)
    assert staff["total"] == 4 and str(sub) not in {p["user_id"] for p in staff["not_reported"]}


async def test_the_event_answer_carries_the_staff_tally(client, school):
    r = await client.get(f"/v1/events/{school['event']}", headers=bearer(school["staff"]))
    assert r.json()["accountability"]["staff"]["by_status"] == NOBODY_YET


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "hiding"}, "status"), ({}, "status"), ({"status": "safe", "note": "x" * 501},
                                                       "note"),
    ({"status": "safe", "user_id": str(uuid.uuid4())}, "user_id"),
])
async def test_bad_reports_are_400_naming_the_field_and_store_nothing(client, db, school, body,
                                                                      field):
    """Nobody reports someone else: a body naming another person is refused."""
    before = await snapshot(db)
    r = await client.post(f"/v1/events/{school['event']}/status", json=body,
                          headers=bearer(school["teacher"]))
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await snapshot(db) == before


async def test_another_schools_sro_cannot_report_here(client, db, school):
    before = await snapshot(db)
    r = await _report(client, school, "outsider")
    assert r.status_code == 404 and r.json()["detail"] == f"no event {school['event']}"
    assert await snapshot(db) == before


async def test_an_ended_event_takes_no_report(client, db, school):
    await client.post(f"/v1/events/{school['event']}/all-clear", json={},
                      headers=bearer(school["sro"]))
    before = await snapshot(db)
    r = await _report(client, school, "teacher")
    assert r.status_code == 409, r.text
    assert await snapshot(db) == before


async def test_a_member_needing_help_alerts_the_responders_once_while_it_is_open(client, db,
                                                                                 school):
    """"Need help" opens the person's help and alerts the school's responders (not the
    person), in their words; reporting it again while it is open alerts nobody again;
    once resolved, a new "need help" opens a new one."""
    async def helps() -> list[dict]:
        r = await client.get(f"/v1/schools/{school['id']}/assists",
                             headers=bearer(school["principal"]))
        return r.json()["items"]

    async def alerted() -> set[tuple[uuid.UUID, str]]:
        return {(r["user_id"], r["body"]) for r in await db.fetch(
            "select user_id, body from notification_outbox where assist_id is not null "
            "and channel = 'sms'")}

    assert (await _report(client, school, "teacher", "need_help", note="Hurt my ankle"))\
        .status_code == 201
    (help_,) = await helps()
    assert (help_["kind"], help_["event_id"], help_["room_id"], help_["requested_by"]) == (
        "needs_help", school["event"], None, str(school["teacher"]))
    sent = await alerted()
    assert {who for who, _ in sent} == {school["sro"], school["principal"]}
    name = await db.fetchval("select name from memberships where user_id = $1",
                             school["teacher"])
    assert {body for _, body in sent} == {f"STAFF NEEDS HELP: {name}. Note: Hurt my ankle"}

    assert (await _report(client, school, "teacher", "need_help")).status_code == 201
    assert len(await helps()) == 1 and await alerted() == sent
    r = await client.post(f"/v1/assists/{help_['id']}/resolve", json={"outcome": "nurse came"},
                          headers=bearer(school["sro"]))
    assert r.status_code == 200, r.text
    assert (await _report(client, school, "teacher", "need_help")).status_code == 201
    assert len(await helps()) == 2
