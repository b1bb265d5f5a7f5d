"""The check-in statement says what became of each report of its batch."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from msgspec.structs import replace

from db.checkins import ForeignRoom, Replayed, Stored, TooLate, store_checkins
from domain.checkins import CheckIn
from domain.srp import EventStatus
from tests import factories
from tests.conftest import T0

END = T0 + timedelta(minutes=5)


@pytest.fixture
async def world(db):
    return await factories.lockdown_with_rooms(db, 3, T0)


def report(world, room, **changes) -> CheckIn:
    return factories.room_report(world, room, T0, **changes)


async def store(db, world, *batch: CheckIn) -> list:
    outcomes = await store_checkins(db, world["event"], world["school"], list(batch))
    return [outcomes[c.id] for c in batch]


async def end_event(db, world) -> None:
    await db.execute("update events set status = 'all_clear', ended_at = $2, ended_by = $3 "
                     "where id = $1", world["event"], END, world["sro"])


async def test_stored_reports_are_numbered_in_arrival_order(db, world):
    first, second = report(world, world["rooms"][0]), report(world, world["rooms"][1])
    assert await store(db, world, first, second) == [Stored(1, False), Stored(2, False)]


async def test_a_report_stored_before_comes_back_whole(db, world):
    """A phone retrying gets the report it sent first, not the retry's content."""
    first = report(world, world["rooms"][0], note="first")
    await store(db, world, first)
    retry = report(world, world["rooms"][1], client_id=first.client_id, note="retry")
    assert await store(db, world, retry) == [Replayed(first)]
    assert await db.fetchval("select count(*) from checkins") == 1


async def test_a_client_id_twice_in_one_batch_replays_the_first(db, world):
    first = report(world, world["rooms"][0])
    again = report(world, world["rooms"][1], client_id=first.client_id)
    assert await store(db, world, first, again) == [Stored(1, False), Replayed(first)]


async def test_a_report_observed_at_the_end_is_too_late_one_before_is_late(db, world):
    """The event as the statement found it under its lock: ended, and when."""
    await end_event(db, world)
    at_end = report(world, world["rooms"][0], observed_at=END)
    before = report(world, world["rooms"][1], observed_at=END - timedelta(seconds=1))
    assert await store(db, world, at_end, before) == [
        TooLate(EventStatus.ALL_CLEAR, END), Stored(1, True)]


async def test_a_replay_after_the_end_is_a_replay_not_too_late(db, world):
    first = report(world, world["rooms"][0])
    await store(db, world, first)
    await end_event(db, world)
    retry = replace(first, id=uuid.uuid4(), observed_at=END + timedelta(minutes=1))
    assert await store(db, world, retry) == [Replayed(first)]


async def test_another_schools_room_is_named(db, world):
    foreign = report(world, world["other_room"])
    ours = report(world, world["rooms"][0])
    assert await store(db, world, foreign, ours) == [ForeignRoom(world["other_room"]),
                                                     Stored(1, False)]
    assert await db.fetchval("select count(*) from checkins") == 1
