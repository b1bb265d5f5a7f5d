"""The unit of work: one transaction per change, and what follows only a commit."""

from __future__ import annotations

import uuid

import pytest

from api.usecases.unit_of_work import UnitOfWork


class Copy:
    """A per-process copy that records what it was told to forget."""

    def __init__(self) -> None:
        self.forgotten: list[uuid.UUID] = []

    def forget(self, key: uuid.UUID) -> None:
        self.forgotten.append(key)


async def _districts(conn) -> int:
    return await conn.fetchval("select count(*) from districts")


async def _add_district(conn) -> None:
    await conn.execute("insert into districts (id, name, state) values ($1, 'North', 'TX')",
                       uuid.uuid4())


def _uow(db) -> tuple[UnitOfWork, Copy, Copy]:
    events, callers = Copy(), Copy()
    return UnitOfWork(db, events=events, callers=callers), events, callers


async def test_what_follows_a_change_runs_once_it_has_committed(db):
    """Copies are forgotten after the commit, not while the change is still invisible."""
    uow, events, callers = _uow(db)
    event_id, user_id = uuid.uuid4(), uuid.uuid4()
    async with uow:
        await _add_district(uow.conn)
        uow.forget_event(event_id)
        uow.forget_callers([user_id, None, user_id])
        assert events.forgotten == [] and callers.forgotten == []
    assert events.forgotten == [event_id]
    assert callers.forgotten == [user_id]
    assert await _districts(db) == 1


async def test_a_refused_change_leaves_no_trace(db):
    """A block that raises rolls back, and nothing registered in it runs."""
    uow, events, _ = _uow(db)
    with pytest.raises(RuntimeError):
        async with uow:
            await _add_district(uow.conn)
            uow.forget_event(uuid.uuid4())
            raise RuntimeError("refused")
    assert events.forgotten == []
    assert await _districts(db) == 0


async def test_an_inner_block_joins_the_outer_transaction(db):
    """A use case's own block inside a wrapper's commits nothing until the wrapper's ends,
    and a failure after it undoes both."""
    uow, events, _ = _uow(db)
    with pytest.raises(RuntimeError):
        async with uow:
            async with uow:
                await _add_district(uow.conn)
                uow.forget_event(uuid.uuid4())
            assert events.forgotten == []
            raise RuntimeError("the wrapper fails after the use case")
    assert events.forgotten == []
    assert await _districts(db) == 0
    async with uow, uow:  # and the unit of work is usable again
        await _add_district(uow.conn)
    assert await _districts(db) == 1
