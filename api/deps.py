"""Per-request dependencies: a pooled connection, the caller, and `now` read once."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from api.auth import Caller

# What handlers ask for, by parameter name: `conn: Conn, caller: CallerOf, now: Now`.
Conn = NamedDependency[asyncpg.Connection]
CallerOf = NamedDependency[Caller]
Now = NamedDependency[datetime]


async def _provide_conn(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    async with state.pool.acquire() as conn:
        yield conn


def _provide_now(state: State) -> datetime:
    return state.clock()


def _provide_caller(request: Request) -> Caller:
    return request.user


DEPENDENCIES = {
    "conn": Provide(_provide_conn),
    "now": Provide(_provide_now, sync_to_thread=False),
    "caller": Provide(_provide_caller, sync_to_thread=False),
}
