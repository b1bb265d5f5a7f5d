"""Phones replaying at volume: duplicates and out-of-order reports, sent concurrently."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from datetime import timedelta

import msgspec

from domain.checkins import CheckIn, latest_per_room
from tests import factories
from tests.conftest import T0, bearer

ROOMS, REPORTS_PER_ROOM, IN_FLIGHT = 40, 6, 32


async def test_duplicates_and_disorder_at_volume_store_each_report_once(client, db, clock):
    """240 reports over 40 rooms, each sent two or three times (a phone's offline queue
    replayed, a retry after a lost answer), all shuffled, 32 at a time: each is stored once
    (201 once, 200 after), the timeline has one entry each, and every room shows its
    newest observation."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    rooms = await factories.rooms(db, s, ROOMS)
    sro = await factories.person(db, d, s, "sro")
    r = await client.post(f"/v1/schools/{s}/events", json={"action": "lockdown", "drill": False},
                          headers=bearer(sro))
    event = r.json()["id"]
    clock.advance(minutes=30)
    rng = random.Random(7)
    reports = [{"client_id": str(uuid.uuid4()), "room_id": str(room),
                "status": rng.choice(["ok", "needs_help"]),
                "students_present": rng.randrange(0, 35), "injured": rng.randrange(0, 2),
                "observed_at": (T0 + timedelta(seconds=rng.randrange(1, 1500)))
                .isoformat().replace("+00:00", "Z")}
               for room in rooms for _ in range(REPORTS_PER_ROOM)]
    sends = [body for body in reports for _ in range(rng.choice([2, 3]))]
    rng.shuffle(sends)

    gate = asyncio.Semaphore(IN_FLIGHT)

    async def send(body: dict):
        async with gate:
            return await client.post(f"/v1/events/{event}/checkins", json=body,
                                     headers=bearer(sro))

    answers = await asyncio.gather(*(send(body) for body in sends))

    firsts = Counter(a.json()["client_id"] for a in answers if a.status_code == 201)
    assert {a.status_code for a in answers} == {200, 201}
    assert firsts == Counter({body["client_id"]: 1 for body in reports})
    stored = [msgspec.json.decode(a.content, type=CheckIn) for a in answers
              if a.status_code == 201]
    assert await db.fetchval("select count(*) from checkins") == len(reports)
    seqs = [r["seq"] for r in await db.fetch(
        "select seq from event_timeline where event_id = $1 and kind = 'checkin' order by seq",
        uuid.UUID(event))]
    assert len(seqs) == len(reports) and len(set(seqs)) == len(seqs)

    acc = (await client.get(f"/v1/events/{event}/accountability", headers=bearer(sro))).json()
    expected = latest_per_room(stored)
    assert acc["rooms_reported"] == ROOMS
    assert {(room["room_id"], room["status"], room["students_present"], room["injured"])
            for room in acc["rooms"]} == {
        (str(c.room_id), c.status, c.students_present, c.injured) for c in expected.values()}
