"""The per-process copy of active events: one load a second, shared by requests that
miss together; ended events never kept."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import pytest

from api.usecases.event_cache import EventCache
from domain.errors import NotFound
from domain.srp import EventStatus
from tests import factories
from tests.conftest import T0


class CountingPool:
    """The real pool, counting the connections taken from it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.acquired = pool, 0

    def acquire(self):
        self.acquired += 1
        return self.pool.acquire()


async def new_lockdown(db: asyncpg.Connection) -> uuid.UUID:
    d = await factories.district(db)
    s = await factories.school(db, d)
    return await factories.lockdown(db, s, await factories.person(db, d, s, "sro"), T0)


@pytest.fixture
async def event(db):
    return await new_lockdown(db)


@pytest.fixture
def counting(pool) -> CountingPool:
    return CountingPool(pool)


async def test_requests_that_miss_together_share_one_load(counting, event):
    cache = EventCache()
    copies = await asyncio.gather(*(cache.get(counting, event, T0) for _ in range(50)))
    assert counting.acquired == 1
    assert {c.event.id for c in copies} == {event}


async def test_a_copy_serves_until_its_ttl_then_is_loaded_again(counting, event, db):
    """Within the ttl a change made elsewhere is not seen (the store checks what
    matters again); after it, it is."""
    cache = EventCache(ttl=timedelta(seconds=1))
    await cache.get(counting, event, T0)
    await db.execute("update events set status = 'cancelled', ended_at = $2 where id = $1",
                     event, T0 + timedelta(milliseconds=500))
    still = await cache.get(counting, event, T0 + timedelta(milliseconds=999))
    assert (still.event.status, counting.acquired) == (EventStatus.ACTIVE, 1)
    later = await cache.get(counting, event, T0 + timedelta(seconds=1))
    assert (later.event.status, counting.acquired) == (EventStatus.CANCELLED, 2)


async def test_an_ended_event_is_never_kept(counting, event, db):
    await db.execute("update events set status = 'all_clear', ended_at = $2 where id = $1",
                     event, T0)
    cache = EventCache()
    for _ in range(2):
        assert (await cache.get(counting, event, T0)).event.status is EventStatus.ALL_CLEAR
    assert counting.acquired == 2


async def test_a_forgotten_event_is_loaded_again(counting, event):
    cache = EventCache()
    await cache.get(counting, event, T0)
    cache.forget(event)
    await cache.get(counting, event, T0)
    assert counting.acquired == 2


async def test_no_such_event_is_not_found_for_every_caller(counting, db):
    cache = EventCache()
    missing = uuid.uuid4()
    results = await asyncio.gather(*(cache.get(counting, missing, T0) for _ in range(3)),
                                   return_exceptions=True)
    assert all(isinstance(r, NotFound) for r in results) and counting.acquired == 1


async def test_a_full_cache_starts_again_rather_than_grow(counting, event, db):
    cache = EventCache(max_size=1)
    other = await new_lockdown(db)
    await cache.get(counting, event, T0)
    await cache.get(counting, other, T0)
    await cache.get(counting, other, T0)
    await cache.get(counting, event, T0)
    assert counting.acquired == 3
