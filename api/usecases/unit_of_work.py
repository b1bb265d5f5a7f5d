"""A request's work: one connection, one transaction, and what follows its commit.

A use case reads through `uow.conn` and changes things inside `async with uow:`, one
transaction: it commits when the block ends and rolls back if the block raises. A block
inside another joins it (a wrapper such as `idempotency.once` can hold the transaction
around a use case that opens its own). What must happen only once a change is durable
is registered during the block and runs after the outermost commit, in order:

- `forget_event`, `forget_callers`: this process's copies of events and callers are
  dropped, so its next request sees the change (other processes see it when their
  copies expire);
- `keep_record`: an ended event's drill record is computed in a transaction of its
  own, which never fails the change that ended it (api/usecases/drill_record.py).

After a rollback nothing registered runs: a refused change leaves no trace.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

import asyncpg
from asyncpg.transaction import Transaction

from api.usecases.drill_record import keep_record
from domain.events import Event


class Copies(Protocol):
    """A per-process copy of rows that a change must drop (EventCache, CallerCache)."""

    def forget(self, key: uuid.UUID, /) -> None: ...


class UnitOfWork:
    """One per request, over its pooled connection."""

    def __init__(self, conn: asyncpg.Connection, *, events: Copies, callers: Copies) -> None:
        self.conn, self._events, self._callers = conn, events, callers
        self._transaction: Transaction | None = None
        self._depth = 0
        self._after: list[Callable[[], Awaitable[None] | None]] = []

    async def __aenter__(self) -> Self:
        if self._depth == 0:
            self._transaction = self.conn.transaction()
            await self._transaction.start()
        self._depth += 1
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth or self._transaction is None:
            return
        transaction, self._transaction = self._transaction, None
        after, self._after = self._after, []
        if exc is not None:
            await transaction.rollback()
            return
        await transaction.commit()
        for step in after:
            if (pending := step()) is not None:
                await pending

    def forget_event(self, event_id: uuid.UUID) -> None:
        self._after.append(lambda: self._events.forget(event_id))

    def forget_callers(self, user_ids: Iterable[uuid.UUID | None]) -> None:
        """People whose memberships changed: read afresh on their next request here."""
        for user_id in {u for u in user_ids if u is not None}:
            self._after.append(functools.partial(self._callers.forget, user_id))

    def keep_record(self, event: Event, now: datetime) -> None:
        self._after.append(lambda: keep_record(self.conn, event, now))
