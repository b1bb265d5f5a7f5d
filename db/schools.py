"""Queries about schools and rooms. Lists are keyset-paginated."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import asyncpg

from db.pool import Connection
from domain.schools import Room, School

_SCHOOL_COLUMNS = """id, district_id, name, timezone, state,
    school_year_start_month, school_year_start_day, address"""
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


async def list_schools(conn: Connection, ids: Collection[uuid.UUID],
                       after: tuple[str, uuid.UUID] | None, limit: int) -> list[School]:
    name, last_id = after or (None, None)
    rows = await conn.fetch(_LIST_SCHOOLS, list(ids), name, last_id, limit)
    return [_school(r) for r in rows]


# get_school -- one school, optionally locked
_GET_SCHOOL = f"select {_SCHOOL_COLUMNS} from schools where id = $1"
_GET_SCHOOL_FOR_UPDATE = _GET_SCHOOL + " for no key update"


async def get_school(conn: Connection, school_id: uuid.UUID, *,
                     lock: bool = False) -> School | None:
    """The school; `lock` holds its row until the transaction ends, so that administrative
    changes to one school take turns (`no key update`: events and check-ins, which only
    reference the row, are never held up)."""
    row = await conn.fetchrow(_GET_SCHOOL_FOR_UPDATE if lock else _GET_SCHOOL, school_id)
    return _school(row) if row else None


async def district_state(conn: Connection, district_id: uuid.UUID) -> str:
    """The state of a district known to exist."""
    state: str = await conn.fetchval("select state from districts where id = $1",
                                     district_id)
    return state


_INSERT_SCHOOL = f"insert into schools ({_SCHOOL_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8)"
_UPDATE_SCHOOL = """
update schools set name = $3, timezone = $4, state = $5, school_year_start_month = $6,
    school_year_start_day = $7, address = $8
where id = $1 and district_id = $2
"""


def _school_values(school: School) -> tuple[object, ...]:
    return tuple(getattr(school, c.strip()) for c in _SCHOOL_COLUMNS.split(","))


async def insert_school(conn: Connection, school: School) -> None:
    await conn.execute(_INSERT_SCHOOL, *_school_values(school))


async def update_school(conn: Connection, school: School) -> None:
    await conn.execute(_UPDATE_SCHOOL, *_school_values(school))


# list_rooms -- a school's rooms by code, after the keyset (code, id).
_LIST_ROOMS = f"""
select {_ROOM_COLUMNS} from rooms
where school_id = $1 and ($2::text is null or (code, id) > ($2, $3::uuid))
order by code, id
limit $4
"""


async def list_rooms(conn: Connection, school_id: uuid.UUID,
                     after: tuple[str, uuid.UUID] | None, limit: int) -> list[Room]:
    code, last_id = after or (None, None)
    rows = await conn.fetch(_LIST_ROOMS, school_id, code, last_id, limit)
    return [_room(r) for r in rows]


# rooms_reporter_first -- all of a school's rooms by code, the room of the person's newest
# report at the school (any event) first: where they most likely are
_ROOMS_REPORTER_FIRST = f"""
select {", ".join("r." + c.strip() for c in _ROOM_COLUMNS.split(","))},
       last.room_id is not null as last
from rooms r
left join lateral (
    select room_id from checkins
    where reported_by = $2 and school_id = $1
    order by observed_at desc limit 1
) last on last.room_id = r.id
where r.school_id = $1
order by last.room_id is null, r.code
"""


async def rooms_reporter_first(conn: Connection, school_id: uuid.UUID, reporter: uuid.UUID
                               ) -> tuple[list[Room], uuid.UUID | None]:
    """The rooms, and which of them the person reported last (None: never here)."""
    rows = await conn.fetch(_ROOMS_REPORTER_FIRST, school_id, reporter)
    last = next((r["id"] for r in rows if r["last"]), None)
    return [Room(**{k: v for k, v in r.items() if k != "last"}) for r in rows], last


# rooms_by_code -- the school's rooms with these codes, locked for an upsert
_ROOMS_BY_CODE = f"""
select {_ROOM_COLUMNS} from rooms where school_id = $1 and code = any($2::text[]) for update
"""


async def rooms_by_code(conn: Connection, school_id: uuid.UUID,
                        codes: Collection[str]) -> dict[str, Room]:
    rows = await conn.fetch(_ROOMS_BY_CODE, school_id, list(codes))
    return {r["code"]: _room(r) for r in rows}


_INSERT_ROOM = f"insert into rooms (school_id, {_ROOM_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7)"
_UPDATE_ROOM = """
update rooms set code = $3, name = $4, building = $5, floor = $6, capacity = $7
where school_id = $1 and id = $2
"""


def _room_values(school_id: uuid.UUID, rooms: Collection[Room]) -> list[tuple[object, ...]]:
    return [(school_id, r.id, r.code, r.name, r.building, r.floor, r.capacity) for r in rooms]


async def save_rooms(conn: Connection, school_id: uuid.UUID, created: Collection[Room],
                     updated: Collection[Room]) -> None:
    """Insert new rooms and update known ones (same id, so their check-ins stay theirs)."""
    await conn.executemany(_INSERT_ROOM, _room_values(school_id, created))
    await conn.executemany(_UPDATE_ROOM, _room_values(school_id, updated))
