"""The bare comparison for `checkin_storm.py`: our stack with nothing of Muster in it.

One Litestar route, a msgspec Struct body, one `INSERT ... ON CONFLICT DO NOTHING`
through an asyncpg pool, served by uvicorn exactly as `muster serve` serves Muster
(one worker, the same pool size, logging at INFO to stderr, access log on). No auth,
no transaction, no reads: the floor our check-in endpoint is measured against.

    .venv/bin/python bench/bare_app.py --port 8001 --dsn postgresql://...
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Annotated

import asyncpg
import msgspec
import uvicorn
from litestar import Litestar, post
from litestar.datastructures import State

Count = Annotated[int, msgspec.Meta(ge=0, le=10000)]

# bench_checkins -- created when the app starts; the bench counts its rows afterwards
CREATE_TABLE = """
create table if not exists bench_checkins (
    event_id          uuid not null,
    client_id         uuid not null,
    room_id           uuid not null,
    status            text not null,
    students_present  integer not null,
    received_at       timestamptz not null default now(),
    primary key (event_id, client_id)
)
"""

# insert_checkin -- the one statement a check-in costs here
_INSERT = """
insert into bench_checkins (event_id, client_id, room_id, status, students_present)
values ($1, $2, $3, $4, $5)
on conflict do nothing
"""


class CheckInIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    client_id: uuid.UUID
    room_id: uuid.UUID
    status: str
    students_present: Count


class Stored(msgspec.Struct, frozen=True):
    client_id: uuid.UUID
    stored: bool


@post("/v1/events/{event_id:uuid}/checkins", status_code=201)
async def check_in(state: State, event_id: uuid.UUID, data: CheckInIn) -> Stored:
    async with state.pool.acquire() as conn:
        outcome = await conn.execute(_INSERT, event_id, data.client_id, data.room_id,
                                     data.status, data.students_present)
    return Stored(data.client_id, outcome == "INSERT 0 1")


def create_app(dsn: str, pool_size: int) -> Litestar:
    @asynccontextmanager
    async def database(app: Litestar) -> AsyncGenerator[None, None]:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=pool_size,
                                         command_timeout=30)
        try:
            async with pool.acquire() as conn:
                await conn.execute(CREATE_TABLE)
            app.state.pool = pool
            yield
        finally:
            await pool.close()

    return Litestar(route_handlers=[check_in], lifespan=[database], logging_config=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True, help="PostgreSQL DSN of the bench database")
    parser.add_argument("--pool-size", type=int, default=10)
    args = parser.parse_args()
    # as api/cli/main.py configures `muster serve`
    logging.basicConfig(level="INFO", stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(args.dsn, args.pool_size), host="127.0.0.1", port=args.port,
                log_level="info", log_config=None, proxy_headers=True)


if __name__ == "__main__":
    main()
