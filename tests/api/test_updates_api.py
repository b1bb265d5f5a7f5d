"""What we know over HTTP: an update goes to everyone the event alerted, in their language
and with their link, not as a critical alert; refusals store nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from db.outbox import claim
from domain.alerts import sms_segments
from tests import factories
from tests.api.test_role_matrix import snapshot
from tests.conftest import LINKS, bearer

PAGE = "http://127.0.0.1:8000/e/"  # the test settings' public URL
UPDATE = {"text": "Police are inside. Stay where you are.", "threat_location": "North gym"}


@pytest.fixture
async def school(db, client):
    """A school with a person in each role (the teacher reads Spanish and has the app),
    a real lockdown under way, and another district's SRO."""
    school = await factories.staffed_school(db, *factories.STAFF, room_count=2)
    await db.execute("update users set language = 'es' where id = $1", school["teacher"])
    await db.execute("insert into devices (id, user_id, platform, push_token) "
                     "values ($1, $2, 'ios', 'tok-teacher')", uuid.uuid4(), school["teacher"])
    other = await factories.staffed_school(db, "sro")
    return school | {"event": await factories.start(client, school), "outsider": other["sro"]}


def _post(client, school, who="sro", body=UPDATE, **headers):
    return client.post(f"/v1/events/{school['event']}/updates", json=body,
                       headers=bearer(school[who]) | headers)


async def _updates_sent(db) -> list:
    return await db.fetch("select user_id, channel, body, critical, priority, data "
                          "from notification_outbox where kind = 'update' order by id")


async def test_an_update_goes_to_everyone_alerted_in_their_language_with_their_link(
        client, db, school, clock):
    clock.advance(minutes=4)
    r = await _post(client, school)
    assert r.status_code == 201, r.text
    update = r.json()
    assert update | {"id": None} == {
        "id": None, "event_id": school["event"], "text": UPDATE["text"],
        "threat_location": "North gym", "posted_at": "2026-11-29T08:04:00Z",
        "posted_by": str(school["sro"])}
    sent = await _updates_sent(db)
    alerted = await db.fetch("select distinct user_id, channel from notification_outbox "
                             "where kind = 'alert'")
    assert sorted((m["user_id"], m["channel"]) for m in sent) == sorted(map(tuple, alerted))
    assert not any(m["critical"] for m in sent) and {m["priority"] for m in sent} == {8}
    teacher = {m["channel"]: m for m in sent if m["user_id"] == school["teacher"]}
    link = PAGE + LINKS.token(uuid.UUID(school["event"]), school["teacher"])
    assert teacher["push"]["body"] == ("ACTUALIZACIÓN: Amenaza: North gym. Police are inside. "
                                       "Stay where you are.")
    assert teacher["push"]["data"]["link"] == link
    assert teacher["sms"]["body"].startswith("ACTUALIZACION: Amenaza: North gym.")
    assert teacher["sms"]["body"].endswith(f"\n{link}")
    [sro_sms] = [m["body"] for m in sent if m["user_id"] == school["sro"]]
    assert sro_sms.startswith("UPDATE: Threat: North gym. Police are inside.")
    assert all(sms_segments(m["body"]) <= 2 for m in sent)


async def test_it_is_on_the_timeline_and_listed_newest_first(client, db, school, clock):
    first = (await _post(client, school)).json()
    clock.advance(minutes=1)
    second = (await _post(client, school, body={"text": "East wing is clear."})).json()
    timeline = (await client.get(f"/v1/events/{school['event']}/timeline",
                                 headers=bearer(school["teacher"]))).json()["items"]
    updates = [e for e in timeline if e["kind"] == "update"]
    assert [u["detail"] for u in updates] == [first, second]
    assert {u["actor"]["id"] for u in updates} == {str(school["sro"])}
    url = f"/v1/events/{school['event']}/updates"
    page = (await client.get(url, params={"limit": 1}, headers=bearer(school["teacher"]))).json()
    assert page["items"] == [second] and page["next_cursor"]
    rest = (await client.get(url, params={"cursor": page["next_cursor"]},
                             headers=bearer(school["teacher"]))).json()
    assert rest == {"items": [first], "next_cursor": None}


async def test_someone_who_was_not_alerted_gets_no_update(client, db, school):
    """Only those the event alerted hear its updates (a substitute added since opens
    the event's page when alerted by its next action change)."""
    late = await factories.person(db, school["district"], school["id"], "teacher")
    assert (await _post(client, school)).status_code == 201
    assert late not in {m["user_id"] for m in await _updates_sent(db)}


@pytest.mark.parametrize(("who", "status"), [("teacher", 403), ("staff", 403),
                                             ("outsider", 404)])
async def test_who_may_not_post_gets_a_refusal_and_nothing_is_stored(client, db, school, who,
                                                                      status):
    before = await snapshot(db)
    r = await _post(client, school, who)
    assert r.status_code == status, r.text
    assert await snapshot(db) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"text": "   "}, "text"),
    ({"threat_location": "Gym"}, "text"),
    ({"text": "x" * 1001}, "text"),
    ({"text": "ok", "threat_location": "y" * 201}, "threat_location"),
    ({"text": "ok", "threat": "Gym"}, "threat"),
    ({"text": "DRILL is over"}, "text"),
    ({"text": "a\x00b"}, "text"),
])
async def test_bad_updates_are_400_naming_the_field_and_store_nothing(client, db, school, body,
                                                                      field):
    before = await snapshot(db)
    r = await _post(client, school, body=body)
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await snapshot(db) == before


async def test_an_ended_event_takes_no_update(client, db, school):
    await client.post(f"/v1/events/{school['event']}/all-clear", json={},
                      headers=bearer(school["sro"]))
    before = await snapshot(db)
    r = await _post(client, school)
    assert r.status_code == 409 and "cannot take an update" in r.json()["detail"]
    assert await snapshot(db) == before


async def test_a_retry_with_its_idempotency_key_sends_once(client, db, school):
    key = {"Idempotency-Key": "update-1"}
    first = await _post(client, school, **key)
    again = await _post(client, school, **key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert await db.fetchval("select count(*) from event_updates") == 1
    other = await _post(client, school, body={"text": "Another thing"}, **key)
    assert other.status_code == 422


async def test_an_update_not_yet_sent_when_the_event_ends_is_dropped(client, db, school,
                                                                     clock):
    """"Threat: north gym" after the all-clear would only mislead."""
    assert (await _post(client, school)).status_code == 201
    await client.post(f"/v1/events/{school['event']}/all-clear", json={},
                      headers=bearer(school["sro"]))
    claimed = (await claim(db, clock.now, 1000, timedelta(seconds=30))).messages
    assert {m.kind for m in claimed} == {"all_clear"}
    assert await db.fetchval("select count(*) from notification_outbox where kind = 'update' "
                             "and state <> 'skipped'") == 0


async def test_a_real_lockdown_says_where_the_threat_is(client, db):
    """A lockdown's location is the threat's, in its alert."""
    school = await factories.staffed_school(db, "sro", "teacher")
    r = await factories.start_request(client, school, location="North hallway")
    assert r.status_code == 201, r.text
    assert r.json()["location"] == "North hallway"
    bodies = await db.fetch("select body from notification_outbox where channel = 'sms'")
    assert bodies and all(b["body"].startswith("LOCKDOWN: Locks, lights, out of sight. "
                                               "Threat: North hallway.\n") for b in bodies)
