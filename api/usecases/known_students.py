"""Which students each school has, as this process has learnt it: a storm's reports name
2,000 students a second, and asking the database about each report's roll call took a
pooled connection and a sixth of the server's time."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from db.students import students_of_school


class KnownStudents:
    """The students of each school the database has confirmed. A student is never deleted
    nor moved to another school (one who leaves turns inactive; an erased one keeps their
    id), so what is kept stays true; an id not kept is asked of the database, and kept if
    it is the school's. Past `max_ids` in all, everything is forgotten (a refill costs a
    query per school)."""

    def __init__(self, max_ids: int = 500_000) -> None:
        self._max_ids, self._count = max_ids, 0
        self._schools: dict[uuid.UUID, set[uuid.UUID]] = {}

    async def strangers(self, pool: asyncpg.Pool, school_id: uuid.UUID,
                        ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        """Those of `ids` that are not the school's students."""
        known = self._schools.get(school_id, set())
        unknown = [i for i in ids if i not in known]
        if not unknown:
            return []
        async with pool.acquire() as conn:
            found = await students_of_school(conn, school_id, unknown)
        self._learn(school_id, found)
        return [i for i in unknown if i not in found]

    def _learn(self, school_id: uuid.UUID, found: set[uuid.UUID]) -> None:
        if self._count + len(found) > self._max_ids:
            self._schools.clear()
            self._count = 0
        known = self._schools.setdefault(school_id, set())
        self._count += len(found - known)
        known |= found
