"""A school too big to alert from inside the request: the request stores a wave, a
dispatcher writes its messages, and an event's waves keep their order."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from notifications.queueing import INLINE_RECIPIENTS, write_waves
from tests import factories
from tests.conftest import LINKS, T0, bearer

BIG = INLINE_RECIPIENTS + 100


async def _school(db, members: int) -> dict:
    """A school with an SRO and `members` teachers (every other one with a phone app)."""
    school = await factories.staffed_school(db, "sro")
    d, s = school["district"], school["id"]
    users = [(uuid.uuid4(), f"Teacher {n}", f"+1201{n:07d}") for n in range(members)]
    await db.copy_records_to_table("users", columns=["id", "name", "phone"], records=users)
    await db.copy_records_to_table(
        "memberships", columns=["id", "user_id", "district_id", "school_id", "role", "name"],
        records=[(uuid.uuid4(), u[0], d, s, "teacher", u[1]) for u in users])
    await db.copy_records_to_table(
        "devices", columns=["id", "user_id", "platform", "push_token"],
        records=[(uuid.uuid4(), u[0], "android", f"tok-{n}") for n, u in enumerate(users)
                 if n % 2 == 0])
    return school | {"people": members + 1}


async def _outbox(db, event_id: str) -> dict[tuple[str, str], int]:
    rows = await db.fetch("select kind, channel, count(*) as n from notification_outbox "
                          "where event_id = $1 group by kind, channel", uuid.UUID(event_id))
    return {(r["kind"], r["channel"]): r["n"] for r in rows}


async def test_a_big_school_gets_a_wave_written_by_the_dispatcher(client, db, pool, clock):
    """The request writes one wave and no messages; writing it out gives every member
    the messages a small school's request would have written."""
    school = await _school(db, BIG)
    event_id = await factories.start(client, school)
    assert await _outbox(db, event_id) == {}
    assert await db.fetchval("select count(*) from alert_waves where expanded_at is null") == 1

    clock.advance(seconds=1)
    assert await write_waves(pool, clock, LINKS) == 1
    assert await _outbox(db, event_id) == {("alert", "push"): BIG // 2,
                                           ("alert", "sms"): school["people"],
                                           ("repeat", "voice"): 2 * school["people"]}
    planned = await db.fetchval("select min(not_before) from notification_outbox")
    assert planned == T0  # from the lockdown's time, not the writing
    assert await db.fetchval("select count(*) from alert_waves where expanded_at is null") == 0
    assert await write_waves(pool, clock, LINKS) == 0


async def test_a_small_school_is_alerted_from_the_request(client, db):
    school = await _school(db, 10)
    event_id = await factories.start(client, school)
    assert (await _outbox(db, event_id))[("alert", "sms")] == 11
    assert await db.fetchval("select count(*) from alert_waves") == 0


async def test_a_cancel_waits_behind_its_alert(client, db, pool, clock):
    """A pocket dial cancelled at once: the cancellation is a wave behind the alert's,
    written after it, so everyone the alert was meant for hears it was a false alarm."""
    school = await _school(db, BIG)
    event_id = await factories.start(client, school)
    r = await client.post(f"/v1/events/{event_id}/cancel", json={"reason": "pocket dial"},
                          headers=bearer(school["sro"]))
    assert r.status_code == 200
    assert await write_waves(pool, clock, LINKS) == 2
    counts = await _outbox(db, event_id)
    assert counts[("cancelled", "sms")] == school["people"]
    assert counts[("cancelled", "push")] == BIG // 2


async def test_dispatchers_writing_at_once_write_each_wave_once(client, db, pool, clock):
    school = await _school(db, BIG)
    event_id = await factories.start(client, school)
    await client.post(f"/v1/events/{event_id}/actions", json={"action": "hold"},
                      headers=bearer(school["sro"]))
    written = await asyncio.gather(*(write_waves(pool, clock, LINKS) for _ in range(3)))
    assert sum(written) == 2
    counts = await _outbox(db, event_id)
    assert counts[("alert", "sms")] == counts[("action", "sms")] == school["people"]


async def test_an_action_change_drops_the_repeats_of_the_alert_before_it(client, db, pool,
                                                                         clock):
    """The alert's wave, written out after the change was stored, still queues its repeats:
    the change's wave drops them, and plans its own from the change's time."""
    school = await _school(db, BIG)
    event_id = await factories.start(client, school)
    clock.advance(seconds=30)
    r = await client.post(f"/v1/events/{event_id}/actions", json={"action": "hold"},
                          headers=bearer(school["sro"]))
    assert r.status_code == 200
    assert await write_waves(pool, clock, LINKS) == 2
    rows = await db.fetch("select state, min(not_before) as first, count(*) as n, "
                          "bool_and(body like '%HOLD:%') as hold "
                          "from notification_outbox where event_id = $1 and kind = 'repeat' "
                          "group by state", uuid.UUID(event_id))
    assert {r["state"]: (r["first"], r["n"], r["hold"]) for r in rows} == {
        "skipped": (T0 + timedelta(seconds=60), 2 * school["people"], False),
        "queued": (T0 + timedelta(seconds=90), 2 * school["people"], True)}


@pytest.mark.parametrize("drill", [True, False])
async def test_a_wave_is_sent_like_any_message(client, db, pool, database_url, clock, drill):
    """Through a dispatcher pass: written, then claimed and sent."""
    from notifications.dispatcher import Dispatcher
    from notifications.senders import ConsoleSender

    school = await _school(db, BIG)
    event_id = await factories.start(client, school, drill=drill)
    dispatcher = Dispatcher(pool, database_url, {"push": ConsoleSender("push"),
                                                 "sms": ConsoleSender("sms")}, clock,
                            batch=2000, links=LINKS)
    assert await dispatcher.run_once("push") == BIG // 2
    sent = await db.fetchval("select count(*) from notification_outbox where state = 'sent' "
                             "and event_id = $1", uuid.UUID(event_id))
    assert sent == BIG // 2


async def test_the_all_clear_of_a_big_school_is_a_wave_too(client, db, pool, clock):
    """Even once the alert is written out, the all-clear of 600 people goes as a wave
    (reading who was notified costs as much as writing the messages)."""
    school = await _school(db, BIG)
    event_id = await factories.start(client, school)
    await write_waves(pool, clock, LINKS)
    clock.advance(minutes=5)
    r = await client.post(f"/v1/events/{event_id}/all-clear", json={},
                          headers=bearer(school["sro"]))
    assert r.status_code == 200
    assert ("all_clear", "sms") not in await _outbox(db, event_id)
    assert await write_waves(pool, clock, LINKS) == 1
    assert (await _outbox(db, event_id))[("all_clear", "sms")] == school["people"]


async def test_an_update_to_a_big_school_is_a_wave_behind_its_alert(client, db, pool, clock):
    """As an ending: the request stores a wave; written after the alert's, it reaches
    everyone alerted, each in their language."""
    school = await _school(db, BIG)
    event_id = await factories.start(client, school)
    await db.execute("update users set language = 'es' where id = $1", school["sro"])
    r = await client.post(f"/v1/events/{event_id}/updates", json={"text": "Police inside."},
                          headers=bearer(school["sro"]))
    assert r.status_code == 201, r.text
    assert await db.fetchval("select count(*) from notification_outbox") == 0
    assert await write_waves(pool, clock, LINKS) == 2
    counts = await _outbox(db, event_id)
    assert counts[("update", "sms")] == school["people"]
    assert counts[("update", "push")] == BIG // 2
    sro = await db.fetchval("select body from notification_outbox where kind = 'update' "
                            "and user_id = $1", school["sro"])
    assert sro.startswith("ACTUALIZACION: Police inside.\n")
