"""A school too big to alert from inside the request: the request stores a wave, a
dispatcher writes its messages, and an event's waves keep their order."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from notifications.queueing import INLINE_RECIPIENTS
from notifications.waves import write_waves
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


async def _written(db, event_id: str) -> list[tuple]:
    """The event's messages, in the order they were written."""
    rows = await db.fetch("select user_id, channel, kind, not_before from notification_outbox "
                          "where event_id = $1 order by id", uuid.UUID(event_id))
    return [tuple(r) for r in rows]


async def test_a_wave_writes_everyones_pushes_first_leads_first(client, db, pool, clock):
    """Parts commit one by one, so the order they are written in is the order they can be
    sent in: every push before any SMS, every SMS before what is due later, and within
    each the SRO first."""
    school = await _school(db, BIG)
    await db.execute("insert into devices (id, user_id, platform, push_token) "
                     "values ($1, $2, 'android', 'tok-sro')", uuid.uuid4(), school["sro"])
    event_id = await factories.start(client, school)
    await write_waves(pool, clock, LINKS)
    written = await _written(db, event_id)
    phases = [0 if channel == "push" else 1 if when == T0 else 2
              for _, channel, _, when in written]
    assert phases == sorted(phases)
    assert phases.count(0) == BIG // 2 + 1
    firsts = [written[phases.index(phase)][0] for phase in (0, 1, 2)]
    assert firsts == [school["sro"]] * 3
    parts = await db.fetchval("select parts_written from alert_waves")
    assert parts == 3 * 2  # two chunks of people, three phases


async def test_a_wave_left_mid_way_is_written_on_for_the_same_people(client, db, pool, clock):
    """A dispatcher that stopped after some parts leaves the wave to the next, which
    writes the rest exactly once, for the people the wave started with: one who joined
    since gets nothing from it, one who left gets nothing more."""
    school = await _school(db, BIG)
    event_id = await factories.start(client, school)
    await write_waves(pool, clock, LINKS)
    whole = await _written(db, event_id)
    people = await db.fetchval("select people from alert_waves")
    # as if it stopped after the pushes and the first chunk's SMS (3 parts of 6)
    later = people[INLINE_RECIPIENTS:]
    await db.execute("delete from notification_outbox where event_id = $1 and "
                     "(not_before > $2 or (channel = 'sms' and user_id = any($3)))",
                     uuid.UUID(event_id), T0, later)
    await db.execute("update alert_waves set parts_written = 3, expanded_at = null")
    left, joined = later[-1], uuid.uuid4()
    await db.execute("delete from memberships where user_id = $1", left)
    await db.execute("insert into users (id, name, phone) values ($1, 'New', '+12015550100')",
                     joined)
    await db.execute("insert into memberships (id, user_id, district_id, school_id, role, "
                     "name) values ($1, $2, $3, $4, 'teacher', 'New')", uuid.uuid4(), joined,
                     school["district"], school["id"])

    assert await write_waves(pool, clock, LINKS) == 1
    again = await _written(db, event_id)
    assert sorted(again) == sorted(m for m in whole
                                   if m[0] != left or (m[1] == "push" and m[3] == T0))
    assert await db.fetchval("select parts_written from alert_waves where expanded_at "
                             "is not null") == 6


async def test_an_event_is_not_handed_off_while_its_wave_is_being_written(client, db, pool,
                                                                           clock):
    """Mid-wave, every message written may be sent before the next part is in: the
    hand-off milestone waits for the wave."""
    from db import receipts

    school = await _school(db, BIG)
    event_id = await factories.start(client, school)
    await write_waves(pool, clock, LINKS)
    await db.execute("update notification_outbox set state = 'sent' where not_before <= $1",
                     T0)
    await db.execute("update alert_waves set expanded_at = null")
    assert not await receipts.record_handoff(db, uuid.UUID(event_id), T0)
    await db.execute("update alert_waves set expanded_at = $1", T0)
    assert await receipts.record_handoff(db, uuid.UUID(event_id), T0)
