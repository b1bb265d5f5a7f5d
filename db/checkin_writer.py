"""Check-ins of one event, written together.

Every check-in of an event moves the event's timeline counter, so each waits for
the previous one's commit (its WAL flush) to take the counter: one event's storm
would be as fast as one commit at a time. Instead, reports that arrive while a
batch is being written wait and go together in the next one: one statement, one
commit for all of them. A lone report goes at once; under a storm batches grow by
themselves. The caller's answer waits for its batch's commit, so a 201 still means
stored; each caller is told its own report's outcome (db/checkins.py).
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from db.checkins import Outcome, store_checkins
from db.pool import unavailable
from domain.checkins import CheckIn

_Waiting = tuple[CheckIn, "asyncio.Future[Outcome]"]


class CheckinWriter:
    """One per process; `most` bounds a batch (and so a statement's size)."""

    def __init__(self, pool: asyncpg.Pool, most: int = 200) -> None:
        self._pool, self._most = pool, most
        self._waiting: dict[uuid.UUID, list[_Waiting]] = {}
        self._writers: dict[uuid.UUID, asyncio.Task[None]] = {}

    async def write(self, checkin: CheckIn, school_id: uuid.UUID) -> Outcome:
        """What became of the report, once its batch is committed."""
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(checkin.event_id, []).append((checkin, done))
        if checkin.event_id not in self._writers:
            self._writers[checkin.event_id] = asyncio.create_task(
                self._write(checkin.event_id, school_id), name=f"checkins-{checkin.event_id}")
        return await asyncio.shield(done)  # a caller that goes away leaves its batch be

    async def _write(self, event_id: uuid.UUID, school_id: uuid.UUID) -> None:
        """An event belongs to one school, so its writer is told the school once."""
        try:
            while batch := self._take(event_id):
                await self._write_batch(event_id, school_id, batch)
        finally:
            del self._writers[event_id]

    async def _write_batch(self, event_id: uuid.UUID, school_id: uuid.UUID,
                           batch: list[_Waiting]) -> None:
        try:
            async with self._pool.acquire() as conn:
                outcomes = await store_checkins(conn, event_id, school_id,
                                                [c for c, _ in batch])
        except Exception as exc:  # each caller gets its own report's outcome
            if unavailable(exc):
                await self._pool.expire_connections()
                _fail(batch, exc)
            elif len(batch) == 1:
                _fail(batch, exc)
            else:  # one report the checks missed must not fail the others: one by one
                for waiting in batch:
                    await self._write_batch(event_id, school_id, [waiting])
        else:
            for checkin, done in batch:
                if not done.done():
                    done.set_result(outcomes[checkin.id])

    def _take(self, event_id: uuid.UUID) -> list[_Waiting]:
        waiting = self._waiting.get(event_id, [])
        batch, rest = waiting[:self._most], waiting[self._most:]
        if rest:
            self._waiting[event_id] = rest
        else:
            self._waiting.pop(event_id, None)
        return batch


def _fail(batch: list[_Waiting], exc: BaseException) -> None:
    for _, done in batch:
        if not done.done():
            done.set_exception(exc)
