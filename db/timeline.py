"""An event's timeline: the audit trail and the live stream, numbered per event.

`append` bumps `events.last_seq` under the event's row lock, so sequence order
is commit order: a stream resumed after seq N can never miss an entry below N.
It also NOTIFYs `CHANNEL` in the same transaction; listeners in every process
hear it at commit, in commit order.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from db.directory import entry_name
from db.pool import Connection
from domain.values import Value

CHANNEL = "muster_timeline"
_MAX_DETAIL = 7600  # bytes of detail in a notification: the rest of an entry takes < 300


class TimelineEntry(Value, kw_only=True):
    """One line of an event's history; `detail` is the JSON the matching endpoint returns."""

    event_id: uuid.UUID
    seq: int
    at: datetime
    kind: str  # a TimelineKind
    actor_id: uuid.UUID | None
    detail: msgspec.Raw
    # False when a notification left the detail out (too big); read it with entries_after
    complete: bool = True
    actor_name: str | None = None  # filled by entries_after, not sent in notifications


def announce(event_id: str, seq: str, at: str, kind: str, actor_id: str, detail: str) -> str:
    """The SQL that NOTIFYs a new entry, so that every statement writing entries builds
    the same payload (a `TimelineEntry`); each argument is an SQL expression, `detail`
    one of JSON text. PostgreSQL refuses a payload of 8000 bytes or more: a bigger
    detail goes without (`complete` false) and listeners read it from the table."""
    fits = f"octet_length({detail}) <= {_MAX_DETAIL}"
    return (f"pg_notify('{CHANNEL}', json_build_object("
            f"'event_id', {event_id}, 'seq', {seq}, 'at', to_json({at}), 'kind', {kind}, "
            f"'actor_id', {actor_id}, 'detail', case when {fits} then ({detail})::json end, "
            f"'complete', {fits})::text)")


class Log(Value):
    """A numbered history and what it belongs to: an event's, or an assist's (the same
    channel and payload, keyed by the assist's id, so that one feed streams both)."""

    table: str  # the entries
    owner: str  # the rows whose last_seq numbers them
    key: str  # the entries' column naming their owner
    school: str  # SQL for the owner's school, from its id $1


EVENTS = Log("event_timeline", "events", "event_id", "(select e.school_id from events e "
             "where e.id = $1)")
ASSISTS = Log("assist_timeline", "assists", "assist_id", "(select a.school_id from assists a "
              "where a.id = $1)")


def _append(log: Log) -> str:
    """append -- next seq under the owner's row lock, the entry, and its notification"""
    return f"""
with next as (
    update {log.owner} set last_seq = last_seq + 1 where id = $1 returning last_seq
), entry as (
    insert into {log.table} ({log.key}, seq, at, kind, actor_id, detail)
    select $1, next.last_seq, $2, $3, $4, $5::text::json from next
    returning seq
)
select seq, {announce("$1::uuid", "seq", "$2::timestamptz", "$3::text", "$4::uuid", "$5::text")}
from entry
"""


_APPEND = {log: _append(log) for log in (EVENTS, ASSISTS)}


async def append(conn: Connection, event_id: uuid.UUID, at: datetime, kind: str,
                 actor_id: uuid.UUID | None, detail: bytes, *, log: Log = EVENTS) -> int:
    """Add an entry (inside the caller's transaction) and announce it at commit; its seq.
    `kind` is a TimelineKind (an AssistStep for an assist's log)."""
    seq: int = await conn.fetchval(_APPEND[log], event_id, at, kind, actor_id, detail.decode())
    return seq


def decode_notification(payload: str) -> TimelineEntry:
    return msgspec.json.decode(payload, type=TimelineEntry)


def _entries_after(log: Log) -> str:
    """entries_after -- a log's entries after a seq, in order, with the actor's name as the
    owner's school has it"""
    return f"""
with t as materialized (
    select t.{log.key} as event_id, t.seq, t.at, t.kind, t.actor_id, t.detail::text as detail
    from {log.table} t
    where t.{log.key} = $1 and t.seq > $2
    order by t.seq limit $3
), named as materialized (  -- each actor looked up once, not once per entry
    select a.actor_id, {entry_name("a.actor_id", log.school)} as actor_name
    from (select distinct actor_id from t where actor_id is not null) a
)
select t.event_id, t.seq, t.at, t.kind, t.actor_id, named.actor_name, t.detail
from t left join named using (actor_id)
order by t.seq
"""


_ENTRIES_AFTER = {log: _entries_after(log) for log in (EVENTS, ASSISTS)}


async def entries_after(conn: Connection, event_id: uuid.UUID, after_seq: int,
                        limit: int, *, log: Log = EVENTS) -> list[TimelineEntry]:
    """For a stream's replay and catch-up, and for the audit timeline (of an event, or
    with `log` of an assist, whose id then stands in `event_id`)."""
    rows = await conn.fetch(_ENTRIES_AFTER[log], event_id, after_seq, limit)
    return [TimelineEntry(event_id=r["event_id"], seq=r["seq"], at=r["at"], kind=r["kind"],
                          actor_id=r["actor_id"], actor_name=r["actor_name"],
                          detail=msgspec.Raw(r["detail"].encode()))
            for r in rows]


# last_seq -- the number of the event's newest entry
_LAST_SEQ = "select last_seq from events where id = $1"


async def last_seq(conn: Connection, event_id: uuid.UUID) -> int:
    """The seq of the event's newest entry (0 before any): a reader's state as of this
    seq is brought up to date by the stream's entries after it."""
    seq: int | None = await conn.fetchval(_LAST_SEQ, event_id)
    return seq or 0
