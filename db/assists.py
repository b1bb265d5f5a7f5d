"""Queries about requests for help (assists), their answers, their log and a school's
responders."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from db import timeline
from db.directory import entry_name
from db.pool import Connection
from domain.assists import Assist, AssistStep, OnTheWay, Responders
from domain.errors import NotFound
from domain.roles import Role
from domain.schools import Room

_COLUMNS = """id, school_id, kind, event_id, room_id, location, note, checkin_id,
    requested_by, requested_at, resolved_at, resolved_by, outcome, became_event_id"""
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_ENCODER = msgspec.json.Encoder()

# the responses of assist `a`, oldest first, with the names the school has for them
_RESPONSES = f"""
coalesce((select json_agg(json_build_object(
              'user_id', r.user_id, 'at', r.at,
              'name', {entry_name("r.user_id", "a.school_id")}) order by r.at, r.user_id)
          from assist_responses r where r.assist_id = a.id), '[]'::json)::text as responses
"""


def _assist(row: asyncpg.Record) -> Assist:
    responses = msgspec.json.decode(row["responses"], type=tuple[OnTheWay, ...])
    return msgspec.convert({n: row[n] for n in _NAMES} | {"responses": responses}, Assist)


# load_assist -- one assist with its responses; `for update` locks it
_LOAD = f"select {_COLUMNS}, {_RESPONSES} from assists a where a.id = $1"
_LOAD_FOR_UPDATE = _LOAD + " for update of a"


async def load_assist(conn: Connection, assist_id: uuid.UUID, *, lock: bool = False) -> Assist:
    """The assist; NotFound when there is none. With `lock`, its changes take turns."""
    row = await conn.fetchrow(_LOAD_FOR_UPDATE if lock else _LOAD, assist_id)
    if row is None:
        raise NotFound(f"no request for help {assist_id}")
    return _assist(row)


# open_need -- the room's open needs_help during the event, locked
_OPEN_NEED = f"""
select {_COLUMNS}, {_RESPONSES} from assists a
where a.event_id = $1 and a.room_id = $2 and a.kind = 'needs_help' and a.resolved_at is null
for update of a
"""


async def open_need(conn: Connection, event_id: uuid.UUID, room_id: uuid.UUID) -> Assist | None:
    row = await conn.fetchrow(_OPEN_NEED, event_id, room_id)
    return _assist(row) if row else None


# open_person_need -- a member of staff's own open needs_help during the event
_OPEN_PERSON_NEED = f"""
select {_COLUMNS}, {_RESPONSES} from assists a
where a.event_id = $1 and a.room_id is null and a.requested_by = $2
  and a.kind = 'needs_help' and a.resolved_at is null
"""


async def open_person_need(conn: Connection, event_id: uuid.UUID,
                           user_id: uuid.UUID) -> Assist | None:
    row = await conn.fetchrow(_OPEN_PERSON_NEED, event_id, user_id)
    return _assist(row) if row else None


# insert_assist -- a new assist; nothing when the room already has its help open
_INSERT = f"""
insert into assists ({_COLUMNS}) values ({", ".join(f"${i}" for i in range(1, 15))})
on conflict (event_id, room_id) where kind = 'needs_help' and resolved_at is null do nothing
returning id
"""


async def insert_assist(conn: Connection, assist: Assist) -> bool:
    """Store a new assist; False if it is a room's need for help that another report
    opened first (read that one with `open_need`)."""
    return await conn.fetchval(_INSERT, *(getattr(assist, n) for n in _NAMES)) is not None


# update_assist -- what changes of an assist: its room's report, its end, its event
_UPDATE = """
update assists set checkin_id = $2, location = $3, note = $4, resolved_at = $5,
    resolved_by = $6, outcome = $7, became_event_id = $8
where id = $1
"""


async def update_assist(conn: Connection, assist: Assist) -> None:
    """Store a locked assist's change (`load_assist` with `lock`)."""
    await conn.execute(_UPDATE, assist.id, assist.checkin_id, assist.location, assist.note,
                       assist.resolved_at, assist.resolved_by, assist.outcome,
                       assist.became_event_id)


# add_response -- a responder's "on my way", once
_ADD_RESPONSE = """
insert into assist_responses (assist_id, user_id, at) values ($1, $2, $3)
on conflict do nothing returning at
"""


async def add_response(conn: Connection, assist_id: uuid.UUID, user_id: uuid.UUID,
                       at: datetime) -> bool:
    """Whether it is the person's first answer (a repeat changes nothing)."""
    return await conn.fetchval(_ADD_RESPONSE, assist_id, user_id, at) is not None


async def log(conn: Connection, assist: Assist, step: AssistStep, actor_id: uuid.UUID | None,
              at: datetime) -> None:
    """The step on the assist's own timeline, the assist as it now is for its detail."""
    await timeline.append(conn, assist.id, at, step, actor_id, _ENCODER.encode(assist),
                          log=timeline.ASSISTS)


# list_assists -- a school's assists, newest first, after the keyset (requested_at, id)
_LIST = f"""
select {_COLUMNS}, {_RESPONSES} from assists a
where a.school_id = $1
  and ($2::boolean is null or (a.resolved_at is null) = $2)
  and ($3::timestamptz is null or (a.requested_at, a.id) < ($3, $4::uuid))
order by a.requested_at desc, a.id desc
limit $5
"""


async def list_assists(conn: Connection, school_id: uuid.UUID, open_only: bool | None,
                       after: tuple[datetime, uuid.UUID] | None, limit: int) -> list[Assist]:
    requested, last_id = after or (None, None)
    rows = await conn.fetch(_LIST, school_id, open_only, requested, last_id, limit)
    return [_assist(r) for r in rows]


# responders -- the school's responder roles and named responders
_RESPONDERS = """
select s.responder_roles as roles,
       array(select r.user_id from school_responders r where r.school_id = s.id
             order by r.user_id) as user_ids
from schools s where s.id = $1
"""


async def responders(conn: Connection, school_id: uuid.UUID) -> Responders:
    row = await conn.fetchrow(_RESPONDERS, school_id)
    if row is None:
        raise NotFound(f"no school {school_id}")
    return Responders(roles=[Role(r) for r in row["roles"]], user_ids=list(row["user_ids"]))


# set_responders -- the school's responders, replaced
_SET_ROLES = "update schools set responder_roles = $2 where id = $1"
_CLEAR_NAMED = "delete from school_responders where school_id = $1"
_ADD_NAMED = """
insert into school_responders (school_id, user_id) select $1, unnest($2::uuid[])
"""


async def set_responders(conn: Connection, school_id: uuid.UUID, chosen: Responders) -> None:
    """Inside the caller's transaction, with the school held (get_school with `lock`)."""
    await conn.execute(_SET_ROLES, school_id, list(chosen.roles))
    await conn.execute(_CLEAR_NAMED, school_id)
    await conn.execute(_ADD_NAMED, school_id, chosen.user_ids)


# wording -- for the words of a message: the room (one of the school's) and the name the
# school has for the person asking
_WORDING = f"""
select r.id, r.code, r.name, r.building, r.floor, r.capacity,
       {entry_name("$3::uuid", "$2::uuid")} as asker
from (select 1) one left join rooms r on r.id = $1 and r.school_id = $2
"""


async def wording(conn: Connection, school_id: uuid.UUID, room_id: uuid.UUID | None,
                  asker: uuid.UUID) -> tuple[Room | None, str | None]:
    """The room (None if none, or not the school's) and the asker's name."""
    row = await conn.fetchrow(_WORDING, room_id, school_id, asker)
    assert row is not None  # one row, always
    room = Room(**{k: row[k] for k in ("id", "code", "name", "building", "floor",
                                       "capacity")}) if row["id"] else None
    return room, row["asker"]
