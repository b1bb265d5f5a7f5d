"""The caller cache (api/http/auth.py): requests that miss together share one load, and a
change forgotten while a load was under way is not hidden by it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from api.usecases.callers import CallerCache
from tests import factories

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


async def test_requests_that_miss_together_share_one_load(db, pool):
    """A person's twenty open streams judging their access at once: one load."""
    d = await factories.district(db)
    teacher = await factories.person(db, d, await factories.school(db, d), "teacher")
    cache = CallerCache()
    callers = await asyncio.gather(*(cache.get(teacher, None, pool, NOW) for _ in range(20)))
    assert callers[0] is not None and all(c is callers[0] for c in callers)
    assert await cache.get(teacher, None, pool, NOW) is callers[0]  # and it is kept


async def test_a_load_under_way_when_the_person_is_forgotten_is_not_kept(db, pool):
    """A load that began before a change (e.g. a removal) answers its own requests, but
    the next request loads again."""
    d = await factories.district(db)
    teacher = await factories.person(db, d, await factories.school(db, d), "teacher")
    cache = CallerCache()
    loading = asyncio.create_task(cache.get(teacher, None, pool, NOW))
    await asyncio.sleep(0)  # the load has started
    cache.forget(teacher)
    first = await loading
    assert first is not None
    assert await cache.get(teacher, None, pool, NOW) is not first
