"""Replays' pages (api/routes/events/replay.py): read once for every stream that asks together, full
pages kept, and a bounded number of pages per turn of the event loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import msgspec

from api.http.turns import STREAMS_PER_TURN, StreamsInTurns, Turns
from api.routes.events.replay import PAGE, ReplayPages
from db import timeline
from tests import factories

AT = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


async def long_lockdown(db, entries: int):
    """A lockdown with `entries` check-ins on its timeline."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    sro = await factories.person(db, d, s, "sro")
    event_id = await factories.lockdown(db, s, sro, AT)
    for n in range(entries):
        await timeline.append(db, event_id, AT, "checkin", sro, msgspec.json.encode({"n": n}))
    return event_id


def ids(chunk: bytes) -> list[int]:
    return [int(line.removeprefix(b"id: ")) for line in chunk.split(b"\r\n")
            if line.startswith(b"id: ")]


async def test_streams_replaying_together_share_each_page(db, pool):
    """Twenty streams asking for the same page at once get one read of it, as one chunk of
    `PAGE` messages; the full page is kept, the short last one (which may grow) is not."""
    event_id = await long_lockdown(db, PAGE + 50)
    pages = ReplayPages()
    first = await asyncio.gather(*(pages.after(pool, event_id, 0) for _ in range(20)))
    assert all(page is first[0] for page in first)
    assert ids(first[0].chunk) == list(range(1, PAGE + 1))
    assert first[0].full and first[0].last_seq == PAGE
    assert await pages.after(pool, event_id, 0) is first[0]

    last = await asyncio.gather(*(pages.after(pool, event_id, PAGE) for _ in range(5)))
    assert all(page is last[0] for page in last)
    assert ids(last[0].chunk) == list(range(PAGE + 1, PAGE + 51))
    assert not last[0].full
    assert await pages.after(pool, event_id, PAGE) is not last[0]  # read again


async def test_kept_pages_are_bounded_in_bytes(db, pool):
    """Past `max_bytes`, the least recently used page is dropped (and read again)."""
    event_id = await long_lockdown(db, 2 * PAGE)
    pages = ReplayPages(max_bytes=1)
    first = await pages.after(pool, event_id, 0)
    assert await pages.after(pool, event_id, 0) is not first


async def test_at_most_a_few_turns_are_given_per_turn_of_the_loop():
    """Fifty streams waiting to send: each turn of the event loop lets a few of them go
    (four here), in the order they asked, so other work runs between."""
    turns, done = Turns(4), []

    async def stream(n: int) -> None:
        await turns.take()
        done.append(n)

    waiting = [asyncio.create_task(stream(n)) for n in range(50)]
    per_turn = []
    while len(done) < 50:
        before = len(done)
        await asyncio.sleep(0)
        per_turn.append(len(done) - before)
    await asyncio.gather(*waiting)
    assert max(per_turn) == 4
    assert done == list(range(50))


async def test_streams_opened_at_once_let_other_requests_in_between():
    """200 dashboards reconnecting hand the app 200 stream requests in one turn; a
    check-in that comes just after enters the app before all but the first few of them,
    not behind every one."""
    entered: list[str] = []

    async def app(scope, receive, send) -> None:
        entered.append(scope["path"])

    gate = StreamsInTurns(app)
    streams = [asyncio.create_task(gate({"type": "http", "path": f"/v1/events/{n}/stream"},
                                        None, None)) for n in range(200)]
    checkin = asyncio.create_task(gate({"type": "http", "path": "/v1/events/1/checkins"},
                                       None, None))
    await asyncio.gather(*streams, checkin)
    assert entered.index("/v1/events/1/checkins") <= 2 * STREAMS_PER_TURN
    assert len(entered) == 201
