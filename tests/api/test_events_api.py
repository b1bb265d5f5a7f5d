"""Events over HTTP: start, supersede, conflict, escalate, end, idempotent retries."""

from __future__ import annotations

import uuid

import pytest

from tests import factories
from tests.conftest import bearer


@pytest.fixture
async def school(db):
    """One school with rooms and a person in every role, plus another district's SRO."""
    school = await factories.staffed_school(db, *factories.STAFF, room_count=3)
    other_d = await factories.district(db, "Other ISD")
    other_s = await factories.school(db, other_d, "Other High")
    school["district_admin"] = await factories.person(db, school["district"], None,
                                                      "district_admin")
    school["outsider"] = await factories.person(db, other_d, other_s, "sro")
    return school


async def test_anyone_may_start_a_real_lockdown(client, school, clock):
    """A teacher starts a real lockdown; the event carries the SRP directive."""
    r = await factories.start_request(client, school, "teacher")
    assert r.status_code == 201, r.text
    event = r.json()
    assert event | {"id": None} == {
        "id": None, "school_id": str(school["id"]), "action": "lockdown", "drill": False,
        "status": "active", "message": None, "directive": "Locks, lights, out of sight.",
        "location": None, "hazard": None, "purpose": None, "strategy": None,
        "started_at": "2026-11-29T08:00:00Z", "started_by": str(school["teacher"]),
        "ended_at": None, "ended_by": None, "end_reason": None, "room_id": None}


async def test_teacher_may_not_start_a_drill(client, school, db):
    """Drills are for safety leads; the refusal stores nothing."""
    r = await factories.start_request(client, school, "teacher", drill=True)
    assert r.status_code == 403
    assert "teacher may not start a drill" in r.json()["detail"]
    assert await db.fetchval("select count(*) from events") == 0


async def test_a_second_event_while_one_is_active_is_409(client, school):
    """Starting another real event returns 409 naming the active one."""
    first = (await factories.start_request(client, school)).json()
    r = await factories.start_request(client, school, action="hold")
    assert r.status_code == 409
    assert r.json()["active_event_id"] == first["id"]


async def test_a_real_event_supersedes_an_active_drill(client, school, clock):
    """A real lockdown during a drill ends the drill as superseded."""
    drill = (await factories.start_request(client, school, "principal", drill=True,
                                           action="evacuate", location="Football field")).json()
    clock.advance(minutes=3)
    real = await factories.start_request(client, school, "teacher")
    assert real.status_code == 201
    ended = (await client.get(f"/v1/events/{drill['id']}", headers=bearer(school["sro"]))).json()
    assert ended["status"] == "superseded" and ended["ended_at"] == "2026-11-29T08:03:00Z"


async def test_escalate_then_all_clear(client, school, clock):
    """Hold -> lockdown -> all-clear, each step on the timeline with its actor."""
    event = (await factories.start_request(client, school, action="hold")).json()
    clock.advance(minutes=1)
    r = await client.post(f"/v1/events/{event['id']}/actions", json={"action": "lockdown"},
                          headers=bearer(school["principal"]))
    assert r.status_code == 200 and r.json()["action"] == "lockdown"
    clock.advance(minutes=20)
    r = await client.post(f"/v1/events/{event['id']}/all-clear", json={"message": "Police on site"},
                          headers=bearer(school["sro"]))
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["ended_by"]) == ("all_clear", str(school["sro"]))
    again = await client.post(f"/v1/events/{event['id']}/all-clear", json={},
                              headers=bearer(school["sro"]))
    assert again.status_code == 409


async def test_cancel_needs_a_reason_and_a_safety_lead(client, school):
    """A false alarm is cancelled with a reason by an SRO, not by a teacher."""
    event = (await factories.start_request(client, school, "teacher")).json()
    url = f"/v1/events/{event['id']}/cancel"
    assert (await client.post(url, json={"reason": "pocket dial"},
                              headers=bearer(school["teacher"]))).status_code == 403
    assert (await client.post(url, json={"reason": ""},
                              headers=bearer(school["sro"]))).status_code == 400
    r = await client.post(url, json={"reason": "pocket dial"}, headers=bearer(school["sro"]))
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["end_reason"]) == ("cancelled", "pocket dial")


async def test_idempotency_key_replays_the_first_answer(client, school, db):
    """The same key and body return the first event; nothing is started twice."""
    headers = bearer(school["sro"]) | {"Idempotency-Key": "k-1"}
    url = f"/v1/schools/{school['id']}/events"
    first = await client.post(url, json={"action": "lockdown", "drill": False}, headers=headers)
    again = await client.post(url, content=b'{"drill": false,  "action": "lockdown"}',
                              headers=headers | {"content-type": "application/json"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await db.fetchval("select count(*) from events") == 1


async def test_idempotency_key_with_another_body_is_422(client, school, db):
    """Reusing a key for a different request is refused, and nothing changes."""
    headers = bearer(school["sro"]) | {"Idempotency-Key": "k-2"}
    url = f"/v1/schools/{school['id']}/events"
    await client.post(url, json={"action": "lockdown", "drill": False}, headers=headers)
    r = await client.post(url, json={"action": "hold", "drill": False}, headers=headers)
    assert r.status_code == 422
    assert await db.fetchval("select action from events") == "lockdown"


async def test_a_key_used_at_one_school_starts_an_event_at_another(client, school, db):
    """A district admin's key means one request: used again with the same body at another
    school of the district, it starts an event there instead of replaying the first."""
    district = await db.fetchval("select district_id from schools where id = $1", school["id"])
    riverbend = await factories.school(db, district, "Riverbend High")
    headers = bearer(school["district_admin"]) | {"Idempotency-Key": "k-3"}
    body = {"action": "lockdown", "drill": False}
    started = [await client.post(f"/v1/schools/{s}/events", json=body, headers=headers)
               for s in (school["id"], riverbend)]
    assert [r.status_code for r in started] == [201, 201]
    assert [r.json()["school_id"] for r in started] == [str(school["id"]), str(riverbend)]
    assert await db.fetchval("select count(*) from events where status = 'active'") == 2


async def test_a_key_older_than_a_day_starts_a_new_event(client, school, db, clock):
    """A day and a second after its first use, the same key and body start a new event
    (the first had ended); the key now answers with the new one, and every other expired
    key is purged. A key's time is the request's, not the database's clock."""
    url = f"/v1/schools/{school['id']}/events"

    async def start_with(who: str, key: str):
        return await client.post(url, json={"action": "lockdown", "drill": False},
                                 headers=bearer(school[who]) | {"Idempotency-Key": key})

    first = (await start_with("sro", "k-4")).json()
    await client.post(f"/v1/events/{first['id']}/all-clear", json={}, headers=bearer(school["sro"]))
    other = (await start_with("staff", "s-1")).json()
    await client.post(f"/v1/events/{other['id']}/all-clear", json={}, headers=bearer(school["sro"]))
    now = clock.advance(hours=24, seconds=1)
    again = await start_with("sro", "k-4")
    assert again.status_code == 201 and again.json()["id"] != first["id"]
    kept = await db.fetch("select user_id, key, created_at from idempotency_keys")
    assert [tuple(r) for r in kept] == [(school["sro"], "k-4", now)]
    retry = await start_with("sro", "k-4")
    assert (retry.status_code, retry.json()) == (201, again.json())


async def test_another_tenants_event_is_404(client, school):
    """An SRO of another district cannot see or end this school's event."""
    event = (await factories.start_request(client, school)).json()
    for method, path, body in [("get", "", None), ("post", "/all-clear", {}),
                               ("get", "/accountability", None), ("post", "/ack", None),
                               ("get", "/deliveries", None), ("get", "/timeline", None)]:
        r = await client.request(method.upper(), f"/v1/events/{event['id']}{path}", json=body,
                                 headers=bearer(school["outsider"]))
        assert r.status_code == 404, path
        assert str(school["id"]) not in r.text


async def test_list_events_filters_and_pages(client, school, clock):
    """Events list newest first, filter by drill and status, and page with a cursor."""
    for n in range(3):
        e = (await factories.start_request(client, school, drill=n % 2 == 0)).json()
        clock.advance(minutes=5)
        await client.post(f"/v1/events/{e['id']}/all-clear", json={},
                          headers=bearer(school["sro"]))
    url, headers = f"/v1/schools/{school['id']}/events", bearer(school["principal"])
    r = await client.get(url, params={"drill": "true"}, headers=headers)
    assert [e["drill"] for e in r.json()["items"]] == [True, True]
    page1 = (await client.get(url, params={"limit": 2}, headers=headers)).json()
    page2 = (await client.get(url, params={"limit": 2, "cursor": page1["next_cursor"]},
                              headers=headers)).json()
    starts = [e["started_at"] for e in page1["items"] + page2["items"]]
    assert starts == sorted(starts, reverse=True) and len(set(starts)) == 3
    assert page2["next_cursor"] is None


async def test_acknowledge_is_recorded_once(client, school, db):
    """Acknowledging twice records the first time only."""
    event = (await factories.start_request(client, school)).json()
    for _ in range(2):
        r = await client.post(f"/v1/events/{event['id']}/ack", headers=bearer(school["teacher"]))
        assert r.status_code == 204
    assert await db.fetchval("select count(*) from acknowledgements") == 1


async def test_unknown_event_is_404(client, school):
    """An event id that does not exist is a 404 problem."""
    r = await client.get(f"/v1/events/{uuid.uuid4()}", headers=bearer(school["sro"]))
    assert r.status_code == 404


async def test_timeline_lists_every_step_with_its_actor(client, school, clock):
    """Start, escalation, a check-in and the all-clear appear in order, with who did it."""
    event = (await factories.start_request(client, school, action="hold")).json()
    url = f"/v1/events/{event['id']}"
    await client.post(f"{url}/actions", json={"action": "lockdown"}, headers=bearer(school["sro"]))
    await client.post(f"{url}/checkins", headers=bearer(school["teacher"]), json={
        "client_id": str(uuid.uuid4()), "room_id": str(school["rooms"][0]), "status": "ok",
        "students_present": 12})
    clock.advance(minutes=9)
    await client.post(f"{url}/all-clear", json={}, headers=bearer(school["principal"]))
    page = (await client.get(f"{url}/timeline", params={"limit": 3},
                             headers=bearer(school["teacher"]))).json()
    rest = (await client.get(f"{url}/timeline", params={"cursor": page["next_cursor"]},
                             headers=bearer(school["teacher"]))).json()
    items = page["items"] + rest["items"]
    assert [(i["seq"], i["kind"]) for i in items] == [
        (1, "started"), (2, "action"), (3, "checkin"), (4, "status")]
    assert [i["actor"]["id"] for i in items] == [
        str(school[w]) for w in ("sro", "sro", "teacher", "principal")]
    assert items[1]["detail"]["action"] == "lockdown"
    assert items[2]["detail"]["students_present"] == 12
    assert items[3]["detail"]["status"] == "all_clear" and items[3]["at"] == "2026-11-29T08:09:00Z"


async def test_a_school_can_let_only_safety_leads_start_real_events(client, school, db):
    """The role policy is per-school data: with an override, a teacher's real lockdown is 403."""
    await db.execute("""update schools set policy = '{"start_real_event": ["sro", "principal",
                        "district_admin"]}' where id = $1""", school["id"])
    assert (await factories.start_request(client, school, "teacher")).status_code == 403
    assert (await factories.start_request(client, school, "sro")).status_code == 201


async def _outbox(db) -> list[tuple]:
    return [tuple(r) for r in await db.fetch(
        """select o.user_id, o.channel, o.kind, o.critical, o.unless_acknowledged,
                  left(o.body, 8) from notification_outbox o order by o.priority desc, o.id""")]


async def test_a_real_lockdown_queues_push_and_sms_for_everyone(client, school, db):
    """Starting a real event queues, in the same transaction, an SMS to every member and to
    the district admin (and push to those with a device), leads first."""
    await db.execute("insert into devices (id, user_id, platform, push_token) "
                     "values ($1, $2, 'ios', 'tok-1')", uuid.uuid4(), school["teacher"])
    await factories.start_request(client, school, "teacher")
    queued = await _outbox(db)
    people = {school[w] for w in ("teacher", "staff", "sro", "principal", "district_admin")}
    assert {u for u, channel, *_ in queued if channel == "sms"} == people
    assert [(u, c, crit) for u, c, _, crit, *_ in queued if c == "push"] == [
        (school["teacher"], "push", True)]
    assert {body for _, _, kind, *_, body in queued if kind != "repeat"} == {"LOCKDOWN"}
    assert {u for u, channel, kind, *_ in queued if (channel, kind) == ("voice", "repeat")} \
        == people  # tests/api/test_repeats.py
    leads = {school["sro"], school["principal"], school["district_admin"]}
    assert {u for u, *_ in queued[:3]} == leads


async def test_a_drill_queues_no_district_admin_and_endings_go_to_the_notified(client, school,
                                                                              db, clock):
    """A drill alerts the school only, labelled DRILL; its all-clear goes to exactly
    those it alerted."""
    event = (await factories.start_request(client, school, "principal", drill=True)).json()
    alerted = {(u, c) for u, c, kind, *_ in await _outbox(db) if kind == "alert"}
    assert school["district_admin"] not in {u for u, _ in alerted}
    assert {body for *_, body in await _outbox(db)} == {"DRILL - "}
    clock.advance(minutes=4)
    await client.post(f"/v1/events/{event['id']}/all-clear", json={},
                      headers=bearer(school["sro"]))
    endings = {(u, c) for u, c, kind, *_ in await _outbox(db) if kind == "all_clear"}
    assert endings == alerted


async def test_a_refused_start_queues_nothing(client, school, db):
    """A 409 leaves the outbox as it was."""
    await factories.start_request(client, school)
    before = await db.fetchval("select count(*) from notification_outbox")
    assert (await factories.start_request(client, school, action="hold")).status_code == 409
    assert await db.fetchval("select count(*) from notification_outbox") == before


async def test_an_evacuation_says_what_it_is_for(client, school, db):
    """A fire evacuation drill keeps its purpose, on the event and in the database."""
    r = await factories.start_request(client, school, "principal", drill=True,
                                      action="evacuate", location="Football field", purpose="fire")
    assert r.status_code == 201, r.text
    assert r.json()["purpose"] == "fire"
    assert await db.fetchval("select purpose from events") == "fire"


async def test_a_new_action_states_its_own_purpose(client, school, db):
    """Escalating to an evacuation may give a purpose; leaving it clears the purpose."""
    event = (await factories.start_request(client, school)).json()
    path, headers = f"/v1/events/{event['id']}/actions", bearer(school["sro"])
    r = await client.post(path, json={"action": "evacuate", "location": "Gym",
                                      "purpose": "bomb_threat"}, headers=headers)
    assert r.status_code == 200 and r.json()["purpose"] == "bomb_threat"
    r = await client.post(path, json={"action": "shelter", "hazard": "hazmat"}, headers=headers)
    assert r.status_code == 200 and r.json()["purpose"] is None
    assert await db.fetchval("select purpose from events") is None


@pytest.mark.parametrize(("body", "field"), [
    ({"action": "lockdown", "purpose": "fire"}, "purpose"),
    ({"action": "evacuate", "location": "Field", "purpose": "flood"}, "purpose"),
    ({"action": "evacuate", "location": "Field", "purpose": 1}, "purpose"),
])
async def test_a_purpose_only_on_an_evacuation_and_only_a_known_one(client, school, db, body,
                                                                   field):
    """A purpose on a lockdown, or one Muster does not know, is a 400 naming it."""
    r = await factories.start_request(client, school, **body)
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await db.fetchval("select count(*) from events") == 0
