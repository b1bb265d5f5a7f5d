"""Queries about schools and rooms. Lists are keyset-paginated."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import asyncpg

from domain.schools import Room, School

_SCHOOL_COLUMNS = """id, district_id, name, timezone, state,
    school_year_start_month, school_year_start_day"""
_ROOM_COLUMNS = "id, code, name, building, floor, capacity"


def _school(row: asyncpg.Record) -> School:
    return School(**dict(row))


def _room(row: asyncpg.Record) -> Room:
    return Room(**dict(row))


# list_schools -- the given schools by name, after the keyset (name, id).
_LIST_SCHOOLS = f"""
select {_SCHOOL_COLUMNS} from schools
where id = any($1::uuid[]) and ($2::text is null or (name, id) > ($2, $3::uuid))
order by name, id
limit $4
"""


async def list_schools(conn: asyncpg.Connection, ids: Collection[uuid.UUID],
                       after: tuple[str, uuid.UUID] | None, limit: int) -> list[School]:
    name, last_id = after or (None, None)
    rows = await conn.fetch(_LIST_SCHOOLS, list(ids), name, last_id, limit)
    return [_school(r) for r in rows]


async def get_school(conn: asyncpg.Connection, school_id: uuid.UUID) -> School | None:
    row = await conn.fetchrow(f"select {_SCHOOL_COLUMNS} from schools where id = $1", school_id)
    return _school(row) if row else None


# list_rooms -- a school's rooms by code, after the keyset (code, id).
_LIST_ROOMS = f"""
select {_ROOM_COLUMNS} from rooms
where school_id = $1 and ($2::text is null or (code, id) > ($2, $3::uuid))
order by code, id
limit $4
"""


async def list_rooms(conn: asyncpg.Connection, school_id: uuid.UUID,
                     after: tuple[str, uuid.UUID] | None, limit: int) -> list[Room]:
    code, last_id = after or (None, None)
    rows = await conn.fetch(_LIST_ROOMS, school_id, code, last_id, limit)
    return [_room(r) for r in rows]
