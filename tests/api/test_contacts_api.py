"""A school's contacts for real events over HTTP: the list, its replacement (whole or not
at all, per school), the calls and texts an event queues to them, and what
/v1/events/{id}/deliveries shows of them."""

from __future__ import annotations

import uuid

import pytest

from domain.alerts import SMS_SEGMENTS, sms_segments
from domain.watch import watch_token
from tests import factories
from tests.conftest import LINKS, bearer

WATCH = "http://127.0.0.1:8000/w/"  # the test settings' public URL
POLICE = {"name": "Riverbend PD dispatch", "phone": "(512) 555-0190", "kind": "police",
          "on": "real"}
SECURITY = {"name": "District security", "phone": "+1 512 555 0191",
            "kind": "district_security", "on": "real_and_drills"}


async def _school(db, **more) -> dict:
    """A school with an SRO, a principal and a teacher, 3 rooms, an address; and another
    school of the same district with its principal."""
    school = await factories.staffed_school(db, "sro", "principal", "teacher", room_count=3)
    await db.execute("update schools set name = 'Riverbend High', address = $2 where id = $1",
                     school["id"], "4200 River Road, Riverbend, TX 78701")
    other = await factories.staffed_school(db, "principal", district_id=school["district"])
    return school | {"other": other}


async def _put(client, school: dict, items: list, who: str = "principal"):
    return await client.put(f"/v1/schools/{school['id']}/contacts", json=items,
                            headers=bearer(school[who]))


async def _stored(db) -> list[tuple]:
    return [tuple(r) for r in await db.fetch(
        "select school_id, name, phone, kind, calls_on, removed_at is null from school_contacts "
        "order by school_id, position, removed_at nulls first")]


async def _outbox(db, event_id: str) -> list:
    return await db.fetch("select * from notification_outbox where event_id = $1 and "
                          "contact_id is not null order by id", uuid.UUID(event_id))


async def test_a_principal_replaces_the_list_an_sro_reads_it(client, db):
    """Phones are stored E.164, in the order given; the change is on the audit trail."""
    school = await _school(db)
    r = await _put(client, school, [POLICE, SECURITY])
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(c["name"], c["phone"], c["kind"], c["on"]) for c in items] == [
        ("Riverbend PD dispatch", "+15125550190", "police", "real"),
        ("District security", "+15125550191", "district_security", "real_and_drills")]
    read = await client.get(f"/v1/schools/{school['id']}/contacts",
                            headers=bearer(school["sro"]))
    assert read.status_code == 200 and read.json()["items"] == items
    [audit] = await db.fetch("select kind, detail from admin_audit where school_id = $1",
                             school["id"])
    assert audit["kind"] == "contacts_saved"
    assert audit["detail"]["added"] == 2 and len(audit["detail"]["contacts"]) == 2


@pytest.mark.parametrize(("items", "field"), [
    ([POLICE, SECURITY, POLICE | {"phone": "+15125550190", "name": "PD again"}], "[2].phone"),
    ([POLICE, SECURITY | {"phone": "555"}], "[1].phone"),
    ([POLICE, SECURITY | {"kind": "swat"}], "[1].kind"),
    ([POLICE | {"on": "drills"}], "[0].on"),
    ([POLICE | {"name": ""}], "[0].name"),
    ([POLICE | {"phone": f"+1512555{n:04d}"} for n in range(21)], "body"),
])
async def test_a_bad_item_stores_nothing_and_is_named(client, db, items, field):
    """The school's list stays as it was, and no audit entry is written."""
    school = await _school(db)
    assert (await _put(client, school, [SECURITY])).status_code == 200
    before = await _stored(db), await db.fetchval("select count(*) from admin_audit")
    r = await _put(client, school, items)
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field], r.text
    assert (await _stored(db), await db.fetchval("select count(*) from admin_audit")) == before


async def test_a_replacement_keeps_known_numbers_and_the_history_of_the_others(client, db):
    school = await _school(db)
    first = (await _put(client, school, [POLICE, SECURITY])).json()["items"]
    second = (await _put(client, school, [POLICE | {"name": "PD, renamed"}])).json()["items"]
    assert [c["id"] for c in second] == [first[0]["id"]]
    assert await _stored(db) == [
        (school["id"], "PD, renamed", "+15125550190", "police", "real", True),
        (school["id"], "District security", "+15125550191", "district_security",
         "real_and_drills", False)]
    assert (await _put(client, school, [])).json()["items"] == []


async def test_another_schools_principal_neither_reads_nor_replaces_them(client, db):
    """404 both ways, as for a school that does not exist; nothing of the list leaks."""
    school = await _school(db)
    ids = [c["id"] for c in (await _put(client, school, [POLICE])).json()["items"]]
    outsider = bearer(school["other"]["principal"])
    url = f"/v1/schools/{school['id']}/contacts"
    before = await _stored(db)
    for r in (await client.get(url, headers=outsider),
              await client.put(url, json=[SECURITY], headers=outsider)):
        assert r.status_code == 404, r.text
        assert ids[0] not in r.text and "Riverbend" not in r.text
    assert await _stored(db) == before
    mine = await client.get(f"/v1/schools/{school['other']['id']}/contacts", headers=outsider)
    assert mine.status_code == 200 and mine.json()["items"] == []


async def test_a_teacher_may_not_read_or_change_them(client, db):
    school = await _school(db)
    url = f"/v1/schools/{school['id']}/contacts"
    assert (await client.get(url, headers=bearer(school["teacher"]))).status_code == 403
    assert (await _put(client, school, [POLICE], who="sro")).status_code == 403


async def test_a_real_event_calls_both_kinds_and_texts_them_the_link(client, db):
    school = await _school(db)
    contacts = {c["name"]: c for c in (await _put(client, school, [POLICE, SECURITY])).json()[
        "items"]}
    event = await factories.start(client, school, who="teacher")
    rows = await _outbox(db, event)
    assert sorted((str(r["contact_id"]), r["channel"], r["phone"]) for r in rows) == sorted(
        (c["id"], channel, c["phone"]) for c in contacts.values() for channel in ("voice", "sms"))
    assert all(r["user_id"] is None and r["kind"] == "alert" for r in rows)
    for row in rows:
        contact = uuid.UUID(str(row["contact_id"]))
        if row["channel"] == "sms":
            link = WATCH + watch_token(LINKS, uuid.UUID(event), contact)
            assert row["body"].endswith("\n" + link)
            assert sms_segments(row["body"]) <= SMS_SEGMENTS
        else:
            assert "4200 River Road" in row["body"] and "Riverbend High" in row["body"]
            assert "Teacher" in row["body"]  # the starter, as the school names them
    assert await db.fetchval("select count(*) from watch_links") == 2


async def test_a_drill_calls_only_the_contacts_who_asked(client, db):
    school = await _school(db)
    await _put(client, school, [POLICE, SECURITY])
    event = await factories.start(client, school, drill=True, action="hold")
    assert {r["phone"] for r in await _outbox(db, event)} == {"+15125550191"}


async def test_an_action_change_calls_again_and_the_ending_texts_once(client, db):
    school = await _school(db)
    await _put(client, school, [POLICE])
    event = await factories.start(client, school, action="secure")
    lead = bearer(school["sro"])
    r = await client.post(f"/v1/events/{event}/actions", json={"action": "lockdown"},
                          headers=lead)
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/events/{event}/all-clear", json={}, headers=lead)
    assert r.status_code == 200, r.text
    kinds = [(r["kind"], r["channel"]) for r in await _outbox(db, event)]
    assert kinds == [("alert", "voice"), ("alert", "sms"), ("action", "voice"),
                     ("action", "sms"), ("all_clear", "sms")]
    assert await db.fetchval("select count(*) from watch_links") == 1


async def test_deliveries_name_the_contact_and_show_confirmations(client, db, clock):
    school = await _school(db)
    await _put(client, school, [POLICE])
    event = await factories.start(client, school)
    await db.execute("update notification_outbox set confirmed_at = $1 where channel = 'voice' "
                     "and contact_id is not null", clock.now)
    r = await client.get(f"/v1/events/{event}/deliveries", headers=bearer(school["sro"]))
    assert r.status_code == 200, r.text
    rows = r.json()["items"]
    contact_rows = [i for i in rows if i["contact_id"]]
    assert {(i["name"], i["contact_kind"], i["channel"]) for i in contact_rows} == {
        ("Riverbend PD dispatch", "police", "voice"), ("Riverbend PD dispatch", "police", "sms")}
    assert [i["confirmed_at"] is not None for i in contact_rows if i["channel"] == "voice"] == [
        True]
    assert all("confirmed_at" in i and i["contact_id"] is None for i in rows
               if i["user_id"])
    assert "voice" in r.json()["channels"]


async def test_a_schools_address_is_set_with_its_details(client, db):
    school = await _school(db)
    admin = await factories.person(db, school["district"], None, "district_admin")
    r = await client.patch(f"/v1/schools/{school['id']}", json={"address": "1 Main St"},
                           headers=bearer(admin))
    assert r.status_code == 200 and r.json()["address"] == "1 Main St", r.text
    r = await client.post(f"/v1/districts/{school['district']}/schools", headers=bearer(admin),
                          json={"name": "Delta Middle", "timezone": "America/Chicago",
                                "address": "2 Oak Ave"})
    assert r.status_code == 201 and r.json()["address"] == "2 Oak Ave", r.text
    detail = await db.fetchval("select detail from admin_audit where kind = 'school_updated'")
    assert detail == {"address": ["4200 River Road, Riverbend, TX 78701", "1 Main St"]}


async def test_the_dispatcher_sends_the_call_and_the_sms_to_the_contacts_number(
        client, db, pool, database_url, clock):
    """The rows go out on the voice and SMS lanes, to the contact's number (no user)."""
    from notifications.dispatcher import Dispatcher
    from tests.db.test_dispatcher import Recorder

    school = await _school(db)
    await _put(client, school, [POLICE])
    await factories.start(client, school)
    voice, sms = Recorder(), Recorder()
    sent = await Dispatcher(pool, database_url, {"voice": voice, "sms": sms, "push": sms},
                            clock, jitter=lambda: 0.5, links=LINKS).run_once()
    assert sent >= 2
    [call] = voice.sent
    assert (call.phone, call.user_id, call.kind, call.data) == (
        "+15125550190", None, "alert", {"language": "en"})
    assert [m.phone for m in sms.sent if m.contact_id] == ["+15125550190"]


async def test_two_replacements_at_once_take_turns(client, db):
    """Both succeed, one after the other: the list is one of the two, whole, and each
    number is current once."""
    import asyncio

    school = await _school(db)
    fire = {"name": "Fire", "phone": "+15125550192", "kind": "fire", "on": "real"}
    answers = await asyncio.gather(*(_put(client, school, items) for items in (
        [POLICE, SECURITY], [SECURITY | {"name": "Security desk"}, fire],
        [POLICE, fire], [SECURITY])))
    assert [r.status_code for r in answers] == [200] * 4
    current = await db.fetch("select name, phone from school_contacts where school_id = $1 "
                             "and removed_at is null order by position", school["id"])
    assert [(c["name"], c["phone"]) for c in current] in [
        [(i["name"], i["phone"]) for i in r.json()["items"]] for r in answers]
    assert await db.fetchval("select count(*) from admin_audit") == 4
