"""A contact's read-only link (/v1/watch/{token}, the /w/ page): it shows its one event
as responders need it, to no one else, while the event runs and for the links' window
after."""

from __future__ import annotations

import uuid
from datetime import timedelta

from domain.links import OFFLINE_REPLAY_WINDOW
from domain.watch import watch_token
from tests import factories
from tests.api.test_contacts_api import POLICE, SECURITY, _put, _school
from tests.conftest import LINKS, bearer


async def _watched(client, db, **event) -> dict:
    """A real lockdown at a school with two contacts; the police's link to it."""
    school = await _school(db)
    contacts = (await _put(client, school, [POLICE, SECURITY])).json()["items"]
    event_id = await factories.start(client, school, **event)
    token = watch_token(LINKS, uuid.UUID(event_id), uuid.UUID(contacts[0]["id"]))
    return school | {"event": event_id, "token": token, "url": f"/v1/watch/{token}",
                     "contacts": contacts}


async def test_the_link_shows_the_event_without_signing_in(client, db):
    world = await _watched(client, db, message="Intruder near the gym")
    room = world["rooms"][0]
    r = await client.post(f"/v1/events/{world['event']}/checkins", headers=bearer(
        world["teacher"]), json={"client_id": str(uuid.uuid4()), "room_id": str(room),
                                 "status": "needs_help", "students_present": 18,
                                 "students_missing": 2, "injured": 1, "note": "Door broken"})
    assert r.status_code == 201, r.text
    await db.execute(
        "update events set last_seq = last_seq + 1 where id = $1", uuid.UUID(world["event"]))
    await db.execute(
        """insert into event_timeline (event_id, seq, at, kind, actor_id, detail)
           select id, last_seq, started_at, 'update', started_by,
                  '{"text": "Suspect seen near the gym", "threat_location": "Gym"}'::json
           from events where id = $1""", uuid.UUID(world["event"]))
    r = await client.get(world["url"])
    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["school_name"], view["address"], view["action"], view["drill"],
            view["status"]) == ("Riverbend High", "4200 River Road, Riverbend, TX 78701",
                                "lockdown", False, "active")
    assert [(x["code"], x["students_missing"], x["injured"], x["note"])
            for x in view["rooms_needing_help"]] == [("R-001", 2, 1, "Door broken")]
    assert [x["code"] for x in view["rooms_not_reported"]] == ["R-002", "R-003"]
    assert (view["students"]["missing"], view["students"]["injured"]) == (2, 1)
    assert [(u["text"], u["threat_location"]) for u in view["updates"]] == [
        ("Suspect seen near the gym", "Gym")]
    assert str(world["teacher"]) not in r.text and "+1" not in r.text  # no person


async def test_unknown_garbled_and_a_persons_tokens_are_404(client, db):
    world = await _watched(client, db)
    persons = LINKS.token(uuid.UUID(world["event"]), world["teacher"])
    for token in ("A" * 22, "short", persons, world["token"][:-1] + "%2F"):
        r = await client.get(f"/v1/watch/{token}")
        assert r.status_code == 404, (token, r.text)
        assert "Riverbend" not in r.text


async def test_a_contact_taken_off_the_list_loses_the_link(client, db):
    world = await _watched(client, db)
    await _put(client, world, [SECURITY])
    assert (await client.get(world["url"])).status_code == 404
    other = watch_token(LINKS, uuid.UUID(world["event"]), uuid.UUID(world["contacts"][1]["id"]))
    assert (await client.get(f"/v1/watch/{other}")).status_code == 200


async def test_an_ended_events_link_works_for_the_window_then_expires(client, db, clock):
    world = await _watched(client, db)
    r = await client.post(f"/v1/events/{world['event']}/all-clear", json={},
                          headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    view = (await client.get(world["url"])).json()
    assert view["status"] == "all_clear" and view["open_until"] is not None
    clock.advance(seconds=(OFFLINE_REPLAY_WINDOW + timedelta(seconds=1)).total_seconds())
    r = await client.get(world["url"])
    assert r.status_code == 410 and "Riverbend" not in r.text, r.text
    page = await client.get(world["url"].replace("/v1/watch/", "/w/"))
    assert page.status_code == 410 and "expired" in page.text


async def test_the_page_is_served_with_the_pages_policy(client, db):
    world = await _watched(client, db)
    page = await client.get(f"/w/{world['token']}")
    assert page.status_code == 200, page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "NOT A DRILL" in page.text and "4200 River Road" in page.text
    assert "<script>" not in page.text  # data only, in a JSON block
    missing = await client.get("/w/" + "A" * 22)
    assert missing.status_code == 404 and "Riverbend" not in missing.text
