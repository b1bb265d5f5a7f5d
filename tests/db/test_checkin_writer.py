"""The check-in writer: reports that arrive together are committed together."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from msgspec.structs import replace

from db.checkin_writer import CheckinWriter
from db.checkins import Stored
from domain.checkins import CheckIn, CheckInStatus
from tests import factories
from tests.conftest import T0


@pytest.fixture
async def lockdown(db):
    return await factories.lockdown_with_rooms(db, 5, T0)


async def stored_by(writer: CheckinWriter, checkin: CheckIn, school_id) -> Stored | None:
    """The report as its batch committed it; None when it was not stored."""
    outcome = await writer.write(checkin, school_id)
    return outcome if isinstance(outcome, Stored) else None


def report(lockdown, room, client_id=None) -> CheckIn:
    return factories.room_report(lockdown, room, T0, client_id=client_id or uuid.uuid4())


async def test_reports_arriving_together_share_a_commit_and_keep_their_order(db, pool,
                                                                             lockdown):
    """60 reports at once: every one stored, numbered 1..60 in arrival order, in fewer
    transactions than reports (rows written by one transaction share its xmin)."""
    writer = CheckinWriter(pool)
    reports = [report(lockdown, lockdown["rooms"][n % 5]) for n in range(60)]
    stored = await asyncio.gather(*(stored_by(writer, r, lockdown["school"]) for r in reports))
    assert [s.seq for s in stored] == list(range(1, 61))
    assert not any(s.late for s in stored)
    transactions = await db.fetchval(
        "select count(distinct xmin::text) from event_timeline where event_id = $1",
        lockdown["event"])
    assert transactions < 60
    assert await db.fetchval("select last_seq from events where id = $1", lockdown["event"]) == 60


async def test_a_report_alone_is_written_at_once(db, pool, lockdown):
    writer = CheckinWriter(pool)
    first = await stored_by(writer, report(lockdown, lockdown["rooms"][0]), lockdown["school"])
    second = await stored_by(writer, report(lockdown, lockdown["rooms"][1]), lockdown["school"])
    assert (first.seq, second.seq) == (1, 2)


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
    stored = await asyncio.gather(*(stored_by(writer, r, lockdown["school"]) for r in batch))
    assert [s and s.seq for s in stored] == [1, None, 2, None, 3]
    assert await db.fetchval("select count(*) from checkins") == 3


async def test_each_room_shows_its_newest_report_of_the_batch(db, pool, lockdown):
    """Two reports of one room in one batch, the newer observation first in line: the
    room's current report is the newer observation, not the last one written."""
    room = lockdown["rooms"][0]
    older = report(lockdown, room)
    newer = replace(report(lockdown, room), observed_at=T0 + timedelta(minutes=1),
                    status=CheckInStatus.NEEDS_HELP)
    writer = CheckinWriter(pool)
    await asyncio.gather(stored_by(writer, newer, lockdown["school"]),
                         stored_by(writer, older, lockdown["school"]))
    current = await db.fetchval("select checkin_id from room_reports where room_id = $1", room)
    assert current == newer.id


async def test_a_report_observed_after_the_end_is_not_stored_one_before_it_is_late(db, pool,
                                                                                   lockdown):
    """The writer's caller may hold a second-old copy of the event: whether it still takes
    reports is decided again under its lock. Observed at the end or after: not stored;
    observed before: stored, and said to be late (it changes the drill record)."""
    end = T0 + timedelta(minutes=5)
    await db.execute("update events set status = 'all_clear', ended_at = $2, ended_by = $3 "
                     "where id = $1", lockdown["event"], end, lockdown["sro"])
    writer = CheckinWriter(pool)
    at_end = replace(report(lockdown, lockdown["rooms"][0]), observed_at=end)
    before = replace(report(lockdown, lockdown["rooms"][1]), observed_at=end - timedelta(seconds=1))
    assert await stored_by(writer, at_end, lockdown["school"]) is None
    stored = await stored_by(writer, before, lockdown["school"])
    assert stored is not None and stored.late
    assert await db.fetchval("select array_agg(id) from checkins") == [before.id]
