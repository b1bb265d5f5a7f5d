"""The check-in writer: reports that arrive together are committed together."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from msgspec.structs import replace

from db.checkin_writer import CheckinWriter
from domain.checkins import CheckIn, CheckInStatus
from tests import factories
from tests.conftest import T0


@pytest.fixture
async def lockdown(db):
    d = await factories.district(db)
    s = await factories.school(db, d)
    other = await factories.school(db, d, "Other High")
    sro = await factories.person(db, d, s, "sro")
    event = uuid.uuid4()
    await db.execute("insert into events (id, school_id, action, drill, status, directive, "
                     "started_at, started_by) values ($1, $2, 'lockdown', false, 'active', "
                     "'x', $3, $4)", event, s, T0, sro)
    return {"event": event, "school": s, "rooms": await factories.rooms(db, s, 5),
            "other_room": (await factories.rooms(db, other, 1))[0], "sro": sro}


def report(lockdown, room, client_id=None) -> CheckIn:
    return CheckIn(id=uuid.uuid4(), event_id=lockdown["event"], room_id=room,
                   client_id=client_id or uuid.uuid4(), status=CheckInStatus.OK,
                   students_present=20, students_missing=0, students_extra=0, injured=0,
                   location=None, note=None, observed_at=T0, received_at=T0,
                   clock_skew_flagged=False, reported_by=lockdown["sro"])


async def test_reports_arriving_together_share_a_commit_and_keep_their_order(db, pool,
                                                                             lockdown):
    """60 reports at once: every one stored, numbered 1..60 in arrival order, in fewer
    transactions than reports (rows written by one transaction share its xmin)."""
    writer = CheckinWriter(pool)
    reports = [report(lockdown, lockdown["rooms"][n % 5]) for n in range(60)]
    seqs = await asyncio.gather(*(writer.store(r, lockdown["school"]) for r in reports))
    assert seqs == list(range(1, 61))
    transactions = await db.fetchval(
        "select count(distinct xmin::text) from event_timeline where event_id = $1",
        lockdown["event"])
    assert transactions < 60
    assert await db.fetchval("select last_seq from events where id = $1", lockdown["event"]) == 60


async def test_a_report_alone_is_written_at_once(db, pool, lockdown):
    writer = CheckinWriter(pool)
    assert await writer.store(report(lockdown, lockdown["rooms"][0]), lockdown["school"]) == 1
    assert await writer.store(report(lockdown, lockdown["rooms"][1]), lockdown["school"]) == 2


async def test_a_refused_or_repeated_report_leaves_the_rest_of_its_batch_alone(db, pool,
                                                                               lockdown):
    """Another school's room and a client_id sent twice in one batch: those are not
    stored (None), the others are."""
    writer = CheckinWriter(pool)
    twice = uuid.uuid4()
    batch = [report(lockdown, lockdown["rooms"][0]),
             report(lockdown, lockdown["other_room"]),
             report(lockdown, lockdown["rooms"][1], client_id=twice),
             report(lockdown, lockdown["rooms"][2], client_id=twice),
             report(lockdown, lockdown["rooms"][3])]
    seqs = await asyncio.gather(*(writer.store(r, lockdown["school"]) for r in batch))
    assert seqs == [1, None, 2, None, 3]
    assert await db.fetchval("select count(*) from checkins") == 3


async def test_each_room_shows_its_newest_report_of_the_batch(db, pool, lockdown):
    """Two reports of one room in one batch, the newer observation first in line: the
    room's current report is the newer observation, not the last one written."""
    room = lockdown["rooms"][0]
    older = report(lockdown, room)
    newer = replace(report(lockdown, room), observed_at=T0 + timedelta(minutes=1),
                    status=CheckInStatus.NEEDS_HELP)
    writer = CheckinWriter(pool)
    await asyncio.gather(writer.store(newer, lockdown["school"]),
                         writer.store(older, lockdown["school"]))
    current = await db.fetchval("select checkin_id from room_reports where room_id = $1", room)
    assert current == newer.id
