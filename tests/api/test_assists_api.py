"""Requests for help over HTTP: ask (idempotently), who is alerted, answers, resolve,
turn into an event, lists, timeline, stream; races; another school's ids."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from pathlib import Path

import pytest

from api.settings import Settings
from db.devices import register_device
from tests import factories
from tests.asgi import first_answer
from tests.conftest import SECRET, T0, bearer

JSON = {"content-type": "application/json"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A connection for each request sent at once (the races below)."""
    return Settings(data_dir=str(tmp_path), jwt_secret=SECRET, db_pool_size=8)


@pytest.fixture
async def school(db):
    """A staffed school with rooms, a nurse (staff) named as responder, a district admin,
    and an SRO of another district."""
    school = await factories.staffed_school(db, *factories.STAFF, room_count=2)
    school["nurse"] = await factories.person(db, school["district"], school["id"], "staff")
    school["district_admin"] = await factories.person(db, school["district"], None,
                                                      "district_admin")
    other_d = await factories.district(db, "Other ISD")
    other_s = await factories.school(db, other_d, "Other High")
    school["outsider"] = await factories.person(db, other_d, other_s, "sro")
    await register_device(db, school["sro"], None, "ios", "token-sro", T0)
    return school


async def ask(client, school, who="teacher", **body):
    body = {"kind": "medical", "room_id": str(school["rooms"][0]), "note": "Nosebleed"} | body
    return await client.post(f"/v1/schools/{school['id']}/assists", json=body,
                             headers=bearer(school[who]))


async def asked(client, school, who="teacher", **body) -> dict:
    r = await ask(client, school, who, **body)
    assert r.status_code == 201, r.text
    return r.json()


async def name_nurse(client, school):
    r = await client.put(f"/v1/schools/{school['id']}/responders",
                         json={"roles": ["sro", "principal"], "user_ids": [str(school["nurse"])]},
                         headers=bearer(school["principal"]))
    assert r.status_code == 200, r.text


async def queued(db, assist_id) -> set[tuple]:
    return {tuple(r) for r in await db.fetch(
        "select user_id, channel, kind, critical, priority, event_id from notification_outbox "
        "where assist_id = $1", uuid.UUID(assist_id))}


async def test_the_default_responders_are_the_sro_and_the_principal(client, school):
    r = await client.get(f"/v1/schools/{school['id']}/responders",
                         headers=bearer(school["teacher"]))
    assert r.status_code == 200, r.text
    assert sorted(r.json()["roles"]) == ["principal", "sro"] and r.json()["user_ids"] == []


async def test_a_request_alerts_the_responders_only_push_and_sms_critical(client, school, db):
    """A teacher asks: the SRO (push, critical, and SMS), the principal and the named nurse
    (SMS: no device) are alerted at once; not the teacher, nor other staff."""
    await name_nurse(client, school)
    assist = await asked(client, school)
    assert assist["kind"] == "medical" and assist["requested_by"] == str(school["teacher"])
    assert assist["resolved_at"] is None and assist["responses"] == []
    assert await queued(db, assist["id"]) == {
        (school["sro"], "push", "assist", True, 9, None),
        (school["sro"], "sms", "assist", False, 9, None),
        (school["principal"], "sms", "assist", False, 9, None),
        (school["nurse"], "sms", "assist", False, 9, None)}
    body = await db.fetchval("select body from notification_outbox where channel = 'sms' "
                             "and assist_id = $1 limit 1", uuid.UUID(assist["id"]))
    assert body.startswith("HELP NEEDED (medical): Teacher") and "Room 1 (R-001)" in body
    assert "Nosebleed" in body


async def test_the_asker_is_not_alerted_and_spanish_speakers_read_spanish(client, school, db):
    await db.execute("update users set language = 'es' where id = $1", school["principal"])
    assist = await asked(client, school, "sro", kind="security", room_id=None,
                         location="Parking lot", note=None)
    rows = await db.fetch("select user_id, body from notification_outbox where assist_id = $1",
                          uuid.UUID(assist["id"]))
    assert [r["user_id"] for r in rows] == [school["principal"]]  # no device: SMS only
    body = rows[0]["body"]
    assert body.startswith("SE NECESITA AYUDA (seguridad): Sro ") and \
        body.endswith(" pide ayuda en Parking lot."), body


async def test_an_idempotent_retry_asks_once(client, school, db):
    headers = bearer(school["teacher"]) | {"Idempotency-Key": "help-1"}
    body = {"kind": "behavior", "location": "Cafeteria"}
    first = await client.post(f"/v1/schools/{school['id']}/assists", json=body, headers=headers)
    again = await client.post(f"/v1/schools/{school['id']}/assists", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert await db.fetchval("select count(*) from assists") == 1


@pytest.mark.parametrize("body, field", [
    ({"kind": "needs_help"}, "kind"),
    ({"kind": "fire"}, "kind"),
    ({"kind": "medical", "room_id": "{other_room}"}, "room_id"),
    ({"kind": "medical", "extra": 1}, "extra"),
])
async def test_bad_requests_are_400_naming_the_field(client, school, db, body, field):
    other = await factories.school(db, school["district"], "Beta")
    other_room = (await factories.rooms(db, other, 1))[0]
    body = {k: (str(other_room) if v == "{other_room}" else v) for k, v in body.items()}
    r = await client.post(f"/v1/schools/{school['id']}/assists", json=body,
                          headers=bearer(school["teacher"]))
    assert r.status_code == 400, r.text
    assert field in r.text
    assert await db.fetchval("select count(*) from assists") == 0


async def test_choosing_responders(client, school, db):
    """Principals and district admins choose; named people must be members; someone must
    be reached."""
    url = f"/v1/schools/{school['id']}/responders"
    r = await client.put(url, json={"roles": ["sro"]}, headers=bearer(school["sro"]))
    assert r.status_code == 403, r.text
    r = await client.put(url, json={"roles": ["sro"], "user_ids": [str(school["outsider"])]},
                         headers=bearer(school["principal"]))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "user_ids", r.text
    r = await client.put(url, json={"roles": []}, headers=bearer(school["district_admin"]))
    assert r.status_code == 400, r.text
    r = await client.put(url, json={"roles": ["teacher", "teacher"],
                                    "user_ids": [str(school["nurse"])] * 2},
                         headers=bearer(school["district_admin"]))
    assert r.json() == {"roles": ["teacher"], "user_ids": [str(school["nurse"])]}
    assist = await asked(client, school, "staff")
    assert {u for u, *_ in await queued(db, assist["id"])} == {school["teacher"],
                                                               school["nurse"]}


async def test_responders_answer_and_the_asker_sees_who_is_coming(client, school, clock):
    await name_nurse(client, school)
    assist = await asked(client, school)
    url = f"/v1/assists/{assist['id']}"
    r = await client.post(url + "/responses", headers=bearer(school["staff"]))
    assert r.status_code == 403, r.text  # neither a responder nor a lead
    for who in ("nurse", "sro", "sro"):
        clock.advance(seconds=1)
        r = await client.post(url + "/responses", headers=bearer(school[who]))
        assert r.status_code == 200, r.text
    r = await client.get(url, headers=bearer(school["teacher"]))
    assert [x["user_id"] for x in r.json()["responses"]] == [str(school["nurse"]),
                                                             str(school["sro"])]
    assert r.json()["responses"][0]["name"].startswith("Staff")


async def test_resolve_once_then_no_more_answers(client, school):
    assist = await asked(client, school)
    url = f"/v1/assists/{assist['id']}"
    r = await client.post(url + "/resolve", json={"outcome": "  "},
                          headers=bearer(school["teacher"]))
    assert r.status_code == 400, r.text
    r = await client.post(url + "/resolve", json={"outcome": "All fine"},
                          headers=bearer(school["staff"]))
    assert r.status_code == 403, r.text
    r = await client.post(url + "/resolve", json={"outcome": "Nurse treated it"},
                          headers=bearer(school["teacher"]))  # the asker may
    assert r.status_code == 200 and r.json()["outcome"] == "Nurse treated it", r.text
    for path, body in (("/resolve", {"outcome": "again"}), ("/responses", None),
                       ("/event", {"action": "lockdown", "drill": False})):
        r = await client.post(url + path, json=body, headers=bearer(school["sro"]))
        assert r.status_code == 409, (path, r.text)


async def test_a_responder_turns_it_into_a_real_event_once(client, school, db):
    assist = await asked(client, school, kind="security", note="Man with a knife")
    url = f"/v1/assists/{assist['id']}/event"
    r = await client.post(url, json={"action": "lockdown", "drill": True},
                          headers=bearer(school["sro"]))
    assert r.status_code == 400 and "drill" in r.text, r.text
    r = await client.post(url, json={"action": "lockdown", "drill": False},
                          headers=bearer(school["teacher"]))
    assert r.status_code == 403, r.text
    r = await client.post(url, json={"action": "lockdown", "drill": False},
                          headers=bearer(school["sro"]))
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["room_id"] == str(school["rooms"][0])
    assert event["message"] == "Man with a knife" and event["status"] == "active"
    again = await client.post(url, json={"action": "lockdown", "drill": False},
                              headers=bearer(school["principal"]))
    assert again.status_code == 409, again.text
    r = await client.get(f"/v1/assists/{assist['id']}", headers=bearer(school["teacher"]))
    assert r.json()["became_event_id"] == event["id"]
    assert await db.fetchval("select count(*) from events") == 1
    assert await db.fetchval("select count(*) from notification_outbox where event_id = $1 "
                             "and kind = 'alert'", uuid.UUID(event["id"])) > 0


async def test_the_timeline_and_the_list(client, school, clock):
    first = await asked(client, school)
    clock.advance(seconds=1)
    second = await asked(client, school, kind="other", room_id=None, note="Spill")
    await client.post(f"/v1/assists/{first['id']}/responses", headers=bearer(school["sro"]))
    await client.post(f"/v1/assists/{first['id']}/resolve", json={"outcome": "done"},
                      headers=bearer(school["sro"]))
    r = await client.get(f"/v1/assists/{first['id']}/timeline", headers=bearer(school["staff"]))
    assert [(e["seq"], e["kind"]) for e in r.json()["items"]] == [
        (1, "requested"), (2, "on_the_way"), (3, "resolved")]
    assert r.json()["items"][1]["actor"]["id"] == str(school["sro"])
    assert r.json()["items"][2]["detail"]["outcome"] == "done"
    url = f"/v1/schools/{school['id']}/assists"
    page = (await client.get(url, params={"limit": 1}, headers=bearer(school["staff"]))).json()
    assert [a["id"] for a in page["items"]] == [second["id"]]  # newest first
    rest = (await client.get(url, params={"limit": 1, "cursor": page["next_cursor"]},
                             headers=bearer(school["staff"]))).json()
    assert [a["id"] for a in rest["items"]] == [first["id"]] and rest["next_cursor"] is None
    open_ = (await client.get(url, params={"open": "true"}, headers=bearer(school["staff"])))
    assert [a["id"] for a in open_.json()["items"]] == [second["id"]]


async def test_another_schools_member_gets_404_everywhere(client, school, db):
    assist = await asked(client, school)
    outsider = bearer(school["outsider"])
    for method, path, body in (("GET", "", None), ("GET", "/timeline", None),
                               ("POST", "/responses", None),
                               ("POST", "/resolve", {"outcome": "x"}),
                               ("POST", "/event", {"action": "lockdown", "drill": False})):
        r = await client.request(method, f"/v1/assists/{assist['id']}{path}", json=body,
                                 headers=outsider)
        assert r.status_code == 404 and "Test High" not in r.text, (path, r.text)
    status, _ = client.blocking_portal.call(first_answer, client.app, "GET",
                                            f"/v1/assists/{assist['id']}/stream", outsider)
    assert status == 404
    for method, path in (("GET", "/assists"), ("POST", "/assists"), ("GET", "/responders")):
        r = await client.request(method, f"/v1/schools/{school['id']}{path}",
                                 json={"kind": "other"} if method == "POST" else None,
                                 headers=outsider)
        assert r.status_code == 404, r.text
    assert await db.fetchval("select count(*) from assists") == 1
    assert await db.fetchval("select count(*) from assist_responses") == 0


async def test_the_stream_sends_the_assist(client, school):
    assist = await asked(client, school)
    status, chunk = client.blocking_portal.call(
        first_answer, client.app, "GET", f"/v1/assists/{assist['id']}/stream",
        bearer(school["teacher"]))
    assert status == 200
    assert chunk.startswith(b"id: 1\r\nevent: assist\r\ndata: {"), chunk


async def test_the_feed_fans_an_assists_steps_out_by_its_id(client, school):
    """An assist's entries go out on the timeline feed keyed by its id (the stream's
    source), as an event's do: who is coming reaches the asker live."""
    assist = await asked(client, school)
    feed = client.app.state.feed

    async def next_entry():
        with feed.subscribe(uuid.UUID(assist["id"])) as live:
            status, _ = await first_answer(client.app, "POST",
                                           f"/v1/assists/{assist['id']}/responses",
                                           bearer(school["sro"]))
            assert status == 200
            while True:  # the request's own entry (seq 1) may still be on its way
                entry = await asyncio.wait_for(live.next(), 60)
                if getattr(entry, "seq", 0) == 2:
                    return entry

    entry = client.blocking_portal.call(next_entry)
    assert (entry.seq, entry.kind) == (2, "on_the_way")
    assert json.loads(bytes(entry.detail))["responses"][0]["user_id"] == str(school["sro"])


def at_once(client, calls: list[tuple[str, uuid.UUID, dict | None]]) -> list[int]:
    """The statuses of `calls` (url, who, body) sent together."""
    async def together() -> list[tuple[int, bytes]]:
        return await asyncio.gather(*(
            first_answer(client.app, "POST", url, bearer(who) | JSON,
                         json.dumps(body).encode() if body is not None else b"")
            for url, who, body in calls))

    return [status for status, _ in client.blocking_portal.call(together)]


async def test_races_two_answers_two_resolves_two_escalations(client, school, db):
    assist = await asked(client, school)
    url = f"/v1/assists/{assist['id']}"
    assert at_once(client, [(url + "/responses", school["sro"], None),
                            (url + "/responses", school["principal"], None)]) == [200, 200]
    assert await db.fetchval("select count(*) from assist_responses") == 2
    escalations = at_once(client, [(url + "/event", school[who], {"action": "lockdown",
                                                                   "drill": False})
                                   for who in ("sro", "principal")])
    assert Counter(escalations) == {201: 1, 409: 1}
    assert await db.fetchval("select count(*) from events") == 1
    resolves = at_once(client, [(url + "/resolve", school[who], {"outcome": who})
                                for who in ("sro", "principal")])
    assert Counter(resolves) == {200: 1, 409: 1}
    assert [r["kind"] for r in await db.fetch(
        "select kind from assist_timeline order by seq")] == [
        "requested", "on_the_way", "on_the_way", "escalated", "resolved"]


def report(school, room, status="needs_help", **body):
    return {"client_id": str(uuid.uuid4()), "room_id": str(room), "status": status,
            "students_present": 18, "students_missing": 2, "injured": 1} | body


async def test_a_room_needing_help_alerts_the_responders_once_per_room(client, school, db,
                                                                          clock):
    """A needs_help report opens the room's help and alerts the responders (not the
    reporter) with the counts and the note; the room's later reports (a second needs_help,
    then ok) go to them too, on the same open help; an ok report elsewhere asks nothing."""
    event = await factories.start(client, school, "sro")
    room, other_room = school["rooms"]
    url = f"/v1/events/{event}/checkins"
    r = await client.post(url, json=report(school, room, note="Student fainted"),
                          headers=bearer(school["teacher"]))
    assert r.status_code == 201, r.text
    (assist,) = (await client.get(f"/v1/schools/{school['id']}/assists",
                                  headers=bearer(school["teacher"]))).json()["items"]
    assert (assist["kind"], assist["event_id"], assist["room_id"]) == ("needs_help", event,
                                                                       str(room))
    rows = await db.fetch("select user_id, channel, body, event_id from notification_outbox "
                          "where assist_id = $1", uuid.UUID(assist["id"]))
    assert {(r["user_id"], r["channel"]) for r in rows} == {
        (school["sro"], "push"), (school["sro"], "sms"), (school["principal"], "sms")}
    assert {r["event_id"] for r in rows} == {uuid.UUID(event)}
    sms = next(r["body"] for r in rows if r["channel"] == "sms")
    assert sms == ("ROOM NEEDS HELP at Room 1 (R-001). 18 present, 2 missing, 1 injured. "
                   "Note: Student fainted")
    clock.advance(seconds=5)
    for status in ("needs_help", "ok"):
        r = await client.post(url, json=report(school, room, status),
                              headers=bearer(school["staff"]))
        assert r.status_code == 201, r.text
    r = await client.post(url, json=report(school, other_room, "ok"),
                          headers=bearer(school["staff"]))
    assert await db.fetchval("select count(*) from assists") == 1
    steps = [r["kind"] for r in await db.fetch("select kind from assist_timeline order by seq")]
    assert steps == ["requested", "changed", "changed"]  # and the SRO's, below
    bodies = [r["body"] for r in await db.fetch(
        "select body from notification_outbox where assist_id = $1 and channel = 'sms' "
        "and user_id = $2 order by id", uuid.UUID(assist["id"]), school["principal"])]
    assert bodies[-1].startswith("ROOM HELP UPDATE at Room 1 (R-001). 18 present") and \
        "Now reports OK." in bodies[-1]
    # the SRO reports the room: the principal is told, not the SRO of their own report
    told = "select user_id, count(*) from notification_outbox group by user_id"
    before = dict(map(tuple, await db.fetch(told)))
    r = await client.post(url, json=report(school, room, "ok"), headers=bearer(school["sro"]))
    after = dict(map(tuple, await db.fetch(told)))
    assert {u: n - before.get(u, 0) for u, n in after.items() if n != before.get(u, 0)} == {
        school["principal"]: 1}
    kinds = Counter(r["kind"] for r in await db.fetch(
        "select kind from event_timeline where event_id = $1", uuid.UUID(event)))
    assert kinds["assist"] == 4 and kinds["checkin"] == 5
    # resolved: the room's next ok report asks for nothing; a new needs_help opens anew
    await client.post(f"/v1/assists/{assist['id']}/resolve", json={"outcome": "EMS took over"},
                      headers=bearer(school["sro"]))
    await client.post(url, json=report(school, room, "ok"), headers=bearer(school["staff"]))
    assert await db.fetchval("select count(*) from assists") == 1
    await client.post(url, json=report(school, room), headers=bearer(school["staff"]))
    assert await db.fetchval("select count(*) from assists where resolved_at is null") == 1


async def test_a_drills_room_asks_help_without_a_critical_sound(client, school, db):
    event = await factories.start(client, school, "sro", drill=True, action="hold")
    r = await client.post(f"/v1/events/{event}/checkins",
                          json=report(school, school["rooms"][0]),
                          headers=bearer(school["teacher"]))
    assert r.status_code == 201, r.text
    rows = await db.fetch("select channel, critical, body from notification_outbox "
                          "where assist_id is not null")
    assert rows and not any(r["critical"] for r in rows)
    assert all(r["body"].startswith("DRILL - ROOM NEEDS HELP") for r in rows)


async def test_two_rooms_reports_at_once_open_one_help(client, school, db):
    event = await factories.start(client, school, "sro")
    url = f"/v1/events/{event}/checkins"
    statuses = at_once(client, [(url, school[who], report(school, school["rooms"][0]))
                                for who in ("teacher", "staff", "nurse")])
    assert statuses == [201, 201, 201]
    assert await db.fetchval("select count(*) from assists") == 1
    assert Counter(r["kind"] for r in await db.fetch("select kind from assist_timeline")) == {
        "requested": 1, "changed": 2}


async def test_the_drill_log_counts_assists_apart_never_as_drills(client, school):
    await asked(client, school)
    await asked(client, school, kind="security", room_id=None)
    year = {"school_year": "2026-2027"}
    log = await client.get(f"/v1/schools/{school['id']}/drill-log", params=year,
                           headers=bearer(school["sro"]))
    assert log.status_code == 200, log.text
    assert log.json()["items"] == [] and log.json()["assists"] == {"medical": 1, "security": 1}
    compliance = await client.get(f"/v1/schools/{school['id']}/compliance", params=year,
                                  headers=bearer(school["sro"]))
    assert compliance.status_code == 200, compliance.text
    requirements = compliance.json()["requirements"]
    assert requirements and {r["conducted"] for r in requirements} == {0}
