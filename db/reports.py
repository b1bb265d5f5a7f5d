"""Queries for drill records: the facts a timing record is computed from, the stored
record, and the revisions of after-action notes."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

import msgspec

from db.checkins import checkins_of
from db.directory import entry_name
from db.pool import Connection
from domain.after_action import AfterActionRevision
from domain.events import Event
from domain.schools import Room
from domain.timing import Acknowledgement, ActionTaken, SentMessage, TimingFacts, TimingRecord

# rooms_of -- the school's rooms by code (as accountability lists them)
_ROOMS = "select id, code, name from rooms where school_id = $1 order by code, id"

# messages_of -- each alert message of the event (the start's, which the timing counts;
# a district's repeats are as many again) and when a provider first took it: a message
# claimed more than once may have been sent twice (its lease ran out), and the first
# hand-off counts; one claimed once was handed off at its sent_at, if at all
_MESSAGES = """
select o.user_id, o.kind, o.state = 'failed' as failed,
       case when o.attempts > 1
            then coalesce((select min(d.at) from deliveries d
                           where d.outbox_id = o.id and d.outcome = 'sent'), o.sent_at)
            else o.sent_at end as handed_off_at
from notification_outbox o
where o.event_id = $1 and o.kind = 'alert'
"""

# acknowledgements_of -- who acknowledged the event's alert, and when
_ACKS = "select user_id, at from acknowledgements where event_id = $1"

# actions_of -- the start and each change of action, from the timeline
_ACTIONS = """
select at, detail ->> 'action' as action from event_timeline
where event_id = $1 and kind in ('started', 'action')
order by seq
"""


async def load_facts(conn: Connection, event: Event) -> TimingFacts:
    """Everything stored about the event that its timing record is computed from."""
    rooms = await conn.fetch(_ROOMS, event.school_id)
    messages = await conn.fetch(_MESSAGES, event.id)
    acks = await conn.fetch(_ACKS, event.id)
    actions = await conn.fetch(_ACTIONS, event.id)
    return TimingFacts(
        rooms=[Room(**dict(r)) for r in rooms],
        checkins=await checkins_of(conn, event.id),
        messages=[SentMessage(**dict(r)) for r in messages],
        acknowledgements=[Acknowledgement(**dict(r)) for r in acks],
        actions=[msgspec.convert(dict(r), ActionTaken) for r in actions],
    )


# names_of -- people as a school names them (its directory entries)
_NAMES = f"""
select u.id, {entry_name("u.id", "$1")} as name from users u where u.id = any($2::uuid[])
"""


async def names_of(conn: Connection, school_id: uuid.UUID,
                   user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Those the school has (or had) a name for."""
    rows = await conn.fetch(_NAMES, school_id, list(user_ids))
    return {r["id"]: r["name"] for r in rows if r["name"] is not None}


async def lock_record(conn: Connection, event_id: uuid.UUID) -> None:
    """Serialise recomputations of one event's record until the transaction ends, so that
    a record computed from older facts never overwrites a newer one."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))",
                       f"report:{event_id}")


# store_record -- the event's timing record, replacing an earlier computation
_STORE = """
insert into event_reports (event_id, computed_at, record) values ($1, $2, $3)
on conflict (event_id) do update
    set computed_at = excluded.computed_at, record = excluded.record
"""


async def store_record(conn: Connection, event_id: uuid.UUID, record: TimingRecord,
                       computed_at: datetime) -> None:
    await conn.execute(_STORE, event_id, computed_at, record)


async def load_record(conn: Connection,
                      event_id: uuid.UUID) -> tuple[TimingRecord, datetime] | None:
    """The stored record and when it was computed; None if it never was."""
    row = await conn.fetchrow(
        "select record, computed_at from event_reports where event_id = $1", event_id)
    if row is None:
        return None
    return msgspec.convert(row["record"], TimingRecord), row["computed_at"]


_AFTER_ACTION_COLUMNS = """revision, edited_by, edited_at, scheduled_at, during, students,
    staff, visitors, observers, notification_method, problems, lessons_learned, report"""


async def current_revision(conn: Connection, event_id: uuid.UUID) -> int:
    """The number of the latest after-action revision, 0 for none."""
    revision: int = await conn.fetchval("select coalesce(max(revision), 0) "
                                        "from after_action_revisions where event_id = $1",
                                        event_id)
    return revision


# insert_after_action -- one revision of the notes (the event row is locked by the caller)
_INSERT_AFTER_ACTION = f"""
insert into after_action_revisions (event_id, {_AFTER_ACTION_COLUMNS})
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
"""


async def insert_after_action(conn: Connection, event_id: uuid.UUID,
                              notes: AfterActionRevision) -> None:
    p = notes.participants
    await conn.execute(
        _INSERT_AFTER_ACTION, event_id, notes.revision, notes.edited_by, notes.edited_at,
        notes.scheduled_at, notes.during, p.students, p.staff, p.visitors,
        msgspec.to_builtins(notes.observers), notes.notification_method,
        msgspec.to_builtins(notes.problems), notes.lessons_learned, notes.report)


# load_after_action -- the current (latest) revision of the event's notes
_LOAD_AFTER_ACTION = f"""
select {_AFTER_ACTION_COLUMNS} from after_action_revisions
where event_id = $1 order by revision desc limit 1
"""


async def load_after_action(conn: Connection,
                            event_id: uuid.UUID) -> AfterActionRevision | None:
    row = await conn.fetchrow(_LOAD_AFTER_ACTION, event_id)
    if row is None:
        return None
    fields = dict(row)
    fields["participants"] = {k: fields.pop(k) for k in ("students", "staff", "visitors")}
    return msgspec.convert(fields, AfterActionRevision)
