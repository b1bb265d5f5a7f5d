"""An alert's link: the SMS and push carry it, and its token opens the event's page data,
takes the acknowledgement and the room reports, for its one person and one event."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from api.pages.links import WORDS as PAGE_WORDS
from domain.language import Language
from domain.links import OFFLINE_REPLAY_WINDOW
from notifications.waves import write_waves
from tests import factories
from tests.conftest import LINKS, T0, bearer

PAGE = "http://127.0.0.1:8000/e/"  # the test settings' public URL


async def _world(db, client, **event) -> dict:
    """A school with an SRO and a teacher (a phone, no app: alerted by SMS), three rooms,
    and a real lockdown; the teacher's token for it."""
    school = await factories.staffed_school(db, "sro", "teacher", room_count=3)
    event_id = await factories.start(client, school, **event)
    token = LINKS.token(uuid.UUID(event_id), school["teacher"])
    return school | {"event": event_id, "token": token, "url": f"/v1/links/{token}"}


def _report(room: uuid.UUID, **changes) -> dict:
    return {"client_id": str(uuid.uuid4()), "room_id": str(room), "status": "ok",
            "students_present": 22} | changes


async def _sms_of(db, event_id: str, user_id: uuid.UUID) -> list[str]:
    rows = await db.fetch("select body from notification_outbox where event_id = $1 and "
                          "user_id = $2 and channel = 'sms' order by id",
                          uuid.UUID(event_id), user_id)
    return [r["body"] for r in rows]


async def test_the_alert_carries_the_link_and_only_its_digest_is_kept(client, db):
    world = await _world(db, client)
    [sms] = await _sms_of(db, world["event"], world["teacher"])
    assert sms.endswith(f"\n{PAGE}{world['token']}")
    stored = await db.fetch("select * from event_links where user_id = $1", world["teacher"])
    assert [(r["digest"], str(r["event_id"])) for r in stored] == [
        (hashlib.sha256(world["token"].encode()).digest(), world["event"])]
    assert world["token"].encode() not in repr(await db.fetch("table event_links")).encode()


async def test_an_action_change_sends_the_same_link(client, db):
    world = await _world(db, client, action="hold")
    r = await client.post(f"/v1/events/{world['event']}/actions", json={"action": "lockdown"},
                          headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    start, change = await _sms_of(db, world["event"], world["teacher"])
    assert start.startswith("HOLD") and change.startswith("LOCKDOWN")
    assert {start.rpartition("\n")[2], change.rpartition("\n")[2]} == {PAGE + world["token"]}
    assert await db.fetchval("select count(*) from event_links") == 2  # the SRO's, the teacher's


async def test_a_push_carries_the_link(client, db):
    world = await _world(db, client)
    await db.execute("insert into devices (id, user_id, platform, push_token) "
                     "values ($1, $2, 'ios', 'tok')", uuid.uuid4(), world["teacher"])
    r = await client.post(f"/v1/events/{world['event']}/actions", json={"action": "secure"},
                          headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    data = await db.fetchval("select data from notification_outbox where channel = 'push'")
    assert data["link"] == PAGE + world["token"]


async def test_the_link_opens_the_event_without_signing_in(client, db):
    world = await _world(db, client, message="Intruder near the gym.")
    r = await client.get(world["url"])
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["event"]["id"] == world["event"] and page["event"]["action"] == "lockdown"
    assert page["event"]["message"] == "Intruder near the gym."
    assert page["event"]["drill"] is False and page["open_until"] is None
    assert page["school_name"] == "Test High"
    assert page["person_name"].startswith("Teacher")
    assert [room["code"] for room in page["rooms"]] == ["R-001", "R-002", "R-003"]
    assert page["checkins"] == [] and page["last_room_id"] is None


async def test_reading_the_page_does_not_acknowledge_but_the_ack_does_once(client, db, clock):
    """An SMS app fetching a link preview must not acknowledge for the person."""
    world = await _world(db, client)
    assert (await client.get(world["url"])).status_code == 200
    assert await db.fetchval("select count(*) from acknowledgements") == 0
    for _ in range(2):
        r = await client.post(world["url"] + "/ack")
        assert r.status_code == 204, r.text
        clock.advance(seconds=5)
    acks = await db.fetch("select user_id, at from acknowledgements")
    assert [(a["user_id"], a["at"]) for a in acks] == [(world["teacher"], T0)]


async def test_a_room_checks_in_by_link_as_by_the_api(client, db, clock):
    """201 new, 200 for its client_id again (the same report), the person as reporter;
    the page then lists it, and offers that room first next time."""
    world = await _world(db, client)
    room = world["rooms"][2]
    report = _report(room, status="needs_help", injured=1, note="Nurse please")
    first = await client.post(world["url"] + "/checkins", json=report)
    assert first.status_code == 201, first.text
    clock.advance(seconds=3)
    again = await client.post(world["url"] + "/checkins", json=report)
    assert (again.status_code, again.json()) == (200, first.json())
    stored = await db.fetch("select event_id, room_id, reported_by from checkins")
    assert [tuple(r) for r in stored] == [(uuid.UUID(world["event"]), room, world["teacher"])]
    page = (await client.get(world["url"])).json()
    assert [c["id"] for c in page["checkins"]] == [first.json()["id"]]
    assert page["rooms"][0]["id"] == page["last_room_id"] == str(room)
    r = await client.get(f"/v1/events/{world['event']}/accountability",
                         headers=bearer(world["sro"]))
    assert r.json()["rooms_needs_help"] == 1


async def test_a_later_report_of_the_room_replaces_the_earlier(client, db, clock):
    world = await _world(db, client)
    room = world["rooms"][0]
    for present in (20, 21):
        clock.advance(seconds=10)
        r = await client.post(world["url"] + "/checkins", json=_report(room,
                              students_present=present))
        assert r.status_code == 201, r.text
    page = (await client.get(world["url"])).json()
    assert [c["students_present"] for c in page["checkins"]] == [21]


async def test_bad_reports_by_link_are_refused_as_by_the_api(client, db):
    world = await _world(db, client)
    other = await factories.staffed_school(db, room_count=1)
    r = await client.post(world["url"] + "/checkins", json=_report(other["rooms"][0]))
    assert (r.status_code, r.json()["errors"][0]["field"]) == (400, "room_id")
    r = await client.post(world["url"] + "/checkins", json=_report(world["rooms"][0],
                          students_present=-1))
    assert r.status_code == 400, r.text
    assert await db.fetchval("select count(*) from checkins") == 0


async def test_unknown_and_garbled_tokens_are_404(client, db):
    world = await _world(db, client)
    never_issued = LINKS.token(uuid.UUID(world["event"]), uuid.uuid4())
    for token in (never_issued, "A" * 22, "short", "A" * 21 + "%21", world["token"] + "x"):
        for method, path, body in (("GET", "", None), ("POST", "/ack", None),
                                   ("POST", "/checkins", _report(world["rooms"][0]))):
            r = await client.request(method, f"/v1/links/{token}{path}", json=body)
            assert r.status_code == 404, (token, path, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert "Teacher" not in r.text and world["event"] not in r.text
    assert await db.fetchval("select count(*) from checkins") == 0
    assert await db.fetchval("select count(*) from acknowledgements") == 0


async def test_a_removed_member_or_an_expired_substitute_has_no_link(client, db, clock):
    world = await _world(db, client)
    sub = await factories.person(db, world["district"], world["id"], "teacher",
                                 expires_at=T0 + timedelta(hours=1))
    r = await client.post(f"/v1/events/{world['event']}/actions", json={"action": "hold"},
                          headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    sub_url = f"/v1/links/{LINKS.token(uuid.UUID(world['event']), sub)}"
    assert (await client.get(sub_url)).status_code == 200
    r = await client.delete(f"/v1/schools/{world['id']}/staff/{world['teacher']}",
                            headers=bearer(world["sro"]))
    assert r.status_code == 204, r.text
    clock.advance(hours=1)
    for url in (world["url"], sub_url):
        assert (await client.get(url)).status_code == 404
        assert (await client.post(url + "/ack")).status_code == 404
        r = await client.post(url + "/checkins", json=_report(world["rooms"][0]))
        assert r.status_code == 404, r.text
    assert await db.fetchval("select count(*) from checkins") == 0


async def test_an_ended_event_takes_kept_reports_for_the_window_then_the_link_expires(
        client, db, clock):
    """A report observed before the end, sent within OFFLINE_REPLAY_WINDOW, is kept (one
    observed after the end is 409); past the window the link is gone (410)."""
    world = await _world(db, client)
    observed = clock.advance(minutes=1)
    clock.advance(minutes=1)
    r = await client.post(f"/v1/events/{world['event']}/all-clear", json={},
                          headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    clock.advance(hours=23)
    assert (await client.get(world["url"])).json()["open_until"] is not None
    kept = _report(world["rooms"][0], observed_at=observed.isoformat())
    assert (await client.post(world["url"] + "/checkins", json=kept)).status_code == 201
    late = (await client.post(world["url"] + "/checkins", json=_report(world["rooms"][1])))
    assert late.status_code == 409, late.text
    clock.advance(hours=1, minutes=1)
    assert clock.now > T0 + timedelta(minutes=2) + OFFLINE_REPLAY_WINDOW
    for method, path, body in (("GET", "", None), ("POST", "/ack", None),
                               ("POST", "/checkins", kept)):
        r = await client.request(method, world["url"] + path, json=body)
        assert r.status_code == 410, r.text
        assert r.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("select count(*) from checkins") == 1


async def test_a_link_reaches_its_own_event_only(client, db):
    """The link of an ended drill takes no report for the real event started after it."""
    school = await factories.staffed_school(db, "sro", "teacher", room_count=1)
    drill = await factories.start(client, school, action="hold", drill=True)
    real = await factories.start(client, school)  # supersedes the drill
    drill_url = f"/v1/links/{LINKS.token(uuid.UUID(drill), school['teacher'])}"
    r = await client.post(drill_url + "/checkins", json=_report(school["rooms"][0]))
    assert r.status_code == 409, r.text
    assert await db.fetchval("select count(*) from checkins") == 0
    assert (await client.post(drill_url + "/ack")).status_code == 204
    acked = await db.fetch("select event_id from acknowledgements")
    assert [a["event_id"] for a in acked] == [uuid.UUID(drill)]
    assert real != drill


async def test_a_district_admin_alerted_for_a_real_event_has_a_link(client, db):
    world = await _world(db, client)
    admin = await factories.person(db, world["district"], None, "district_admin")
    r = await client.post(f"/v1/events/{world['event']}/actions", json={"action": "hold"},
                          headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    url = f"/v1/links/{LINKS.token(uuid.UUID(world['event']), admin)}"
    assert (await client.get(url)).status_code == 200


async def test_a_waves_alerts_carry_links_too(client, db, pool, clock, monkeypatch):
    """A school too big for the request: the dispatcher writes the links with the wave."""
    monkeypatch.setattr("notifications.queueing.INLINE_RECIPIENTS", 1)
    world = await _world(db, client)
    assert await db.fetchval("select count(*) from event_links") == 0
    assert await write_waves(pool, clock, LINKS) == 1
    [sms] = await _sms_of(db, world["event"], world["teacher"])
    assert sms.endswith(PAGE + world["token"])
    assert (await client.get(world["url"])).status_code == 200


async def test_the_next_events_link_offers_the_room_reported_last_first(client, db, clock):
    """Where the person reported last at the school, in any event, is where they most
    likely are: that room leads the next event's list."""
    world = await _world(db, client)
    room = world["rooms"][1]
    r = await client.post(world["url"] + "/checkins", json=_report(room))
    assert r.status_code == 201, r.text
    clock.advance(minutes=5)
    await client.post(f"/v1/events/{world['event']}/all-clear", json={},
                      headers=bearer(world["sro"]))
    clock.advance(days=3)
    later = await factories.start(client, world, action="hold", drill=True)
    page = (await client.get(f"/v1/links/{LINKS.token(uuid.UUID(later), world['teacher'])}"
                             )).json()
    assert page["last_room_id"] == page["rooms"][0]["id"] == str(room)
    assert [r["code"] for r in page["rooms"][1:]] == ["R-001", "R-003"]
    assert page["checkins"] == []


async def test_the_page_shows_the_event_and_acknowledges_nothing_itself(client, db):
    """The HTML a link opens: the action and its words, marked real, with the page's
    rules (no caching, no inline script, no referrer: the token is in the path); opening
    it does not acknowledge, its script does."""
    world = await _world(db, client, message="Intruder near the gym.")
    r = await client.get(f"/e/{world['token']}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    for words in ("LOCKDOWN", "Locks, lights, out of sight.", "Intruder near the gym.",
                  "NOT A DRILL", 'class="link dark"', "I got it", ">Send<"):
        assert words in r.text, words
    assert await db.fetchval("select count(*) from acknowledgements") == 0


async def test_a_page_that_does_not_open_names_nothing(client, db, clock):
    world = await _world(db, client)
    r = await client.get("/e/" + "A" * 22)
    assert r.status_code == 404 and "This link does not work" in r.text
    await client.post(f"/v1/events/{world['event']}/all-clear", json={},
                      headers=bearer(world["sro"]))
    clock.advance(days=2)
    r = await client.get(f"/e/{world['token']}")
    assert r.status_code == 410 and "This link has expired" in r.text
    assert "Test High" not in r.text and "Teacher" not in r.text


async def test_the_service_worker_is_served_for_the_links_scope(client):
    r = await client.get("/e/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "no-cache"
    assert 'addEventListener("fetch"' in r.text


async def test_the_page_speaks_the_persons_language(client, db):
    """A Spanish speaker's page: the SRP's words, its own words and its script's words in
    Spanish (lang="es"); what somebody typed stays as typed."""
    school = await factories.staffed_school(db, "sro", "teacher", room_count=3)
    await db.execute("update users set language = 'es' where id = $1", school["teacher"])
    event_id = await factories.start(client, school, message="Intruder near the gym.",
                                     drill=True)
    token = LINKS.token(uuid.UUID(event_id), school["teacher"])
    r = await client.get(f"/e/{token}")
    assert r.status_code == 200, r.text
    for words in ('<html lang="es">', "<title>SIMULACRO · ENCIERRO", "ENCIERRO",
                  "Cierren con llave, apaguen las luces, no se dejen ver.",
                  "Intruder near the gym.", "SIMULACRO · esto es un simulacro", "Recibido",
                  ">Enviar<", "Elija su sal"):
        assert words in r.text, words
    for english in ("LOCKDOWN", "I got it", ">Send<", "Choose your room"):
        assert english not in r.text, english


def test_the_pages_words_are_in_every_language() -> None:
    """Each language has every word the page and its script use."""
    def shape(words: object) -> object:
        return {k: shape(v) for k, v in words.items()} if isinstance(words, dict) else None
    assert set(PAGE_WORDS) == set(Language)
    assert len({str(shape(words)) for words in PAGE_WORDS.values()}) == 1


async def test_the_link_shows_the_events_updates_newest_first(client, db, clock):
    """The page's data carries what we know, which the page polls for."""
    world = await _world(db, client, location="North hallway")
    for text in ("Police are inside.", "East wing is clear."):
        clock.advance(minutes=1)
        r = await client.post(f"/v1/events/{world['event']}/updates", json={"text": text},
                              headers=bearer(world["sro"]))
        assert r.status_code == 201, r.text
    page = (await client.get(world["url"])).json()
    assert [u["text"] for u in page["updates"]] == ["East wing is clear.", "Police are inside."]
    html = (await client.get(f"/e/{world['token']}")).text
    assert "Threat: North hallway." in html
    assert html.index("East wing is clear.") < html.index("Police are inside.")
