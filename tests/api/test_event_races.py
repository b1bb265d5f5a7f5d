"""Starts of an event at one school at the same moment (a whole staff pressing "lockdown"):
one starts it, every other is a 409 naming it, and nothing is stored twice or half."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from api.settings import Settings
from tests import factories
from tests.asgi import first_answer
from tests.conftest import SECRET, bearer

AT_ONCE = 20


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A pool with a connection for every request, so that all of them are in the database
    at the same moment instead of queueing for a connection."""
    return Settings(data_dir=str(tmp_path), jwt_secret=SECRET, db_pool_size=AT_ONCE)


@pytest.fixture
async def school(db):
    return await factories.staffed_school(db, *factories.STAFF)


def starts_at_once(client, school, body: dict) -> list[tuple[int, dict]]:
    """AT_ONCE starts of `body` at `school`, sent together by its members in turn."""
    url = f"/v1/schools/{school['id']}/events"
    callers = [school[role] for role in ("teacher", "staff", "sro", "principal")]

    async def all_at_once() -> list[tuple[int, bytes]]:
        return await asyncio.gather(*(
            first_answer(client.app, "POST", url,
                         bearer(callers[i % len(callers)]) | {"content-type": "application/json"},
                         json.dumps(body).encode())
            for i in range(AT_ONCE)))

    return [(status, json.loads(raw)) for status, raw in client.blocking_portal.call(all_at_once)]


def one_started(answers: list[tuple[int, dict]]) -> str:
    """The id of the one event started; every other answer is a 409 naming it."""
    assert Counter(status for status, _ in answers) == {201: 1, 409: AT_ONCE - 1}, answers
    started = next(body["id"] for status, body in answers if status == 201)
    assert {body["active_event_id"] for status, body in answers if status == 409} == {started}
    return started


async def alerts_queued(db) -> Counter:
    """(event, person, channel, kind, due) of every queued message, counted (a real
    alert's repeats are one call per round, due one window apart)."""
    return Counter(tuple(r) for r in await db.fetch(
        "select event_id::text, user_id, channel, kind, not_before from notification_outbox"))


async def test_twenty_lockdowns_at_once_start_one(client, school, db):
    """One 201, nineteen 409 naming it, no 5xx; one event, one 'started' line on its
    timeline, and its alert queued once per person and channel."""
    started = one_started(starts_at_once(client, school, {"action": "lockdown", "drill": False}))
    assert [tuple(r) for r in await db.fetch("select id::text, status from events")] == [
        (started, "active")]
    assert await db.fetchval("select count(*) from event_timeline") == 1
    queued = await alerts_queued(db)
    assert queued and set(queued.values()) == {1}
    assert {(event, kind) for event, _, _, kind, _ in queued} == {(started, "alert"),
                                                                  (started, "repeat")}


async def test_twenty_real_starts_over_a_drill_supersede_it_once(client, school, db):
    """During a drill, twenty real starts at once: one supersedes the drill, the others
    are 409 naming the new real event; the drill ended once, the real alert queued once."""
    r = await client.post(f"/v1/schools/{school['id']}/events",
                          json={"action": "hold", "drill": True}, headers=bearer(school["sro"]))
    drill = r.json()["id"]
    drill_alerts = await alerts_queued(db)
    started = one_started(starts_at_once(client, school, {"action": "lockdown", "drill": False}))
    assert sorted(tuple(r) for r in await db.fetch("select id::text, status from events")) == \
        sorted([(drill, "superseded"), (started, "active")])
    assert Counter(tuple(r) for r in await db.fetch(
        "select event_id::text, kind from event_timeline")) == {
        (drill, "started"): 1, (drill, "status"): 1, (started, "started"): 1}
    queued = await alerts_queued(db) - drill_alerts
    assert queued and set(queued.values()) == {1}
    assert {(event, kind) for event, _, _, kind, _ in queued} == {(started, "alert"),
                                                                  (started, "repeat")}
