"""Queries about events: load (with the school's policy), insert, update, list."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from db import timeline
from db.pool import Connection
from domain.errors import NotFound
from domain.events import Event, TimelineKind
from domain.policy import Policy
from domain.srp import EventStatus
from domain.values import Value

_COLUMNS = """id, school_id, action, drill, status, message, directive, location, hazard,
    purpose, strategy, started_at, started_by, ended_at, ended_by, end_reason, room_id"""


class EventContext(Value):
    """An event with the policy of its school, as one request needs them."""

    event: Event
    policy: Policy


def _event(row: asyncpg.Record) -> Event:
    return msgspec.convert(dict(row), Event)


# load_event -- one event and its school's policy overrides; `for update` locks it
_LOAD_EVENT = f"""
select {", ".join("e." + c.strip() for c in _COLUMNS.split(","))}, s.policy
from events e join schools s on s.id = e.school_id
where e.id = $1
"""
_LOAD_EVENT_FOR_UPDATE = _LOAD_EVENT + " for update of e"


async def load_event(conn: Connection, event_id: uuid.UUID, *,
                     lock: bool = False) -> EventContext:
    """The event and its school's policy; NotFound when there is no such event."""
    row = await conn.fetchrow(_LOAD_EVENT_FOR_UPDATE if lock else _LOAD_EVENT, event_id)
    if row is None:
        raise NotFound(f"no event {event_id}")
    fields = dict(row)
    policy = Policy.from_overrides(fields.pop("policy"))
    return EventContext(msgspec.convert(fields, Event), policy)


# load_school_policy -- a school's policy overrides; `for no key update` holds the school
# (not its key, so the foreign keys of check-ins and messages to it still pass)
_LOAD_POLICY = "select policy from schools where id = $1"
_LOAD_POLICY_FOR_START = _LOAD_POLICY + " for no key update"


async def load_school_policy(conn: Connection, school_id: uuid.UUID, *,
                             lock: bool = False) -> Policy:
    """The school's policy; NotFound when there is no such school. With `lock`, the school
    is held until the transaction ends, so that the starts of events at one school take
    turns: each reads the active event only after the one before it has committed, and
    decides on what is stored instead of colliding on the one-active-event index."""
    overrides = await conn.fetchval(_LOAD_POLICY_FOR_START if lock else _LOAD_POLICY, school_id)
    if overrides is None:
        raise NotFound(f"no school {school_id}")
    return Policy.from_overrides(overrides)


# load_active_event -- the school's active event, locked against its concurrent change or end
_LOAD_ACTIVE = f"select {_COLUMNS} from events where school_id = $1 and status = 'active' " \
               "for update"


async def load_active_event(conn: Connection, school_id: uuid.UUID) -> Event | None:
    row = await conn.fetchrow(_LOAD_ACTIVE, school_id)
    return _event(row) if row else None


_INSERT = f"""
insert into events ({_COLUMNS})
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
"""


async def insert_event(conn: Connection, event: Event) -> None:
    """Store a new event; the caller holds its school (load_school_policy with `lock`), so
    no other start can race it to the one-active-event index."""
    await conn.execute(_INSERT, *_values(event))


def _values(event: Event) -> tuple[object, ...]:
    return tuple(getattr(event, c.strip()) for c in _COLUMNS.split(","))


_UPDATE = """
update events set action = $2, status = $3, message = $4, directive = $5, location = $6,
    hazard = $7, strategy = $8, ended_at = $9, ended_by = $10, end_reason = $11, purpose = $12
where id = $1
"""


async def update_event(conn: Connection, event: Event) -> None:
    """Store an event's new action or end (the row is locked by load_event)."""
    await conn.execute(_UPDATE, event.id, event.action, event.status, event.message,
                       event.directive, event.location, event.hazard, event.strategy,
                       event.ended_at, event.ended_by, event.end_reason, event.purpose)


class EventFilter(Value, kw_only=True):
    status: EventStatus | None = None
    drill: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


# list_events -- a school's events, newest first, after the keyset (started_at, id)
_LIST = f"""
select {_COLUMNS} from events
where school_id = $1
  and ($2::text is null or status = $2)
  and ($3::boolean is null or drill = $3)
  and ($4::timestamptz is null or started_at >= $4)
  and ($5::timestamptz is null or started_at < $5)
  and ($6::timestamptz is null or (started_at, id) < ($6, $7::uuid))
order by started_at desc, id desc
limit $8
"""


async def list_events(conn: Connection, school_id: uuid.UUID, where: EventFilter,
                      after: tuple[datetime, uuid.UUID] | None, limit: int) -> list[Event]:
    started, last_id = after or (None, None)
    rows = await conn.fetch(_LIST, school_id, where.status, where.drill, where.since,
                            where.until, started, last_id, limit)
    return [_event(r) for r in rows]


async def record_ack(conn: Connection, event_id: uuid.UUID, user_id: uuid.UUID,
                     at: datetime) -> None:
    """'I received the alert'; the first acknowledgement counts, repeats change nothing."""
    await conn.execute("insert into acknowledgements (event_id, user_id, at) values ($1, $2, $3) "
                       "on conflict do nothing", event_id, user_id, at)


async def record(conn: Connection, event: Event, kind: TimelineKind, actor_id: uuid.UUID,
                 at: datetime, *, new: bool = False) -> None:
    """Store an event's new state and its timeline entry (started, action or status)."""
    await (insert_event if new else update_event)(conn, event)
    await timeline.append(conn, event.id, at, kind, actor_id, msgspec.json.encode(event))
