"""Work done once per Idempotency-Key: a retry of the same request gets the first answer
(the rule is domain/idempotency.py; the keys are kept by db/idempotency.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import NamedTuple, TypeVar

import msgspec

from api.usecases.unit_of_work import UnitOfWork
from db import idempotency
from domain.idempotency import KeyScope, KeyUse, Replay, fingerprint, replay_decision

T = TypeVar("T")


class FirstAnswer(NamedTuple):
    """The stored answer to the key's first use, to be sent again as it was."""

    status: int
    body: object


async def once(uow: UnitOfWork, key: KeyScope, body: bytes, now: datetime, status: int,
               work: Callable[[], Awaitable[T]]) -> T | FirstAnswer:
    """`work`'s result, kept under `key` with `status`; or, for a retry of the key's first
    use, that use's answer and nothing done. The key is held until the transaction ends,
    so a retry sent while the first is still working waits for its answer; the same key
    with another body is refused (IdempotencyMismatch)."""
    use = KeyUse(fingerprint(body), now)
    async with uow:
        stored = await idempotency.claim(uow.conn, key)
        first = stored.first if stored is not None else None
        if replay_decision(first, use) is Replay.REPLAY and stored is not None:
            return FirstAnswer(stored.status, stored.body)
        result = await work()  # its own `async with uow` joins this transaction
        await idempotency.store(uow.conn, key, use, status, msgspec.json.encode(result))
    return result
