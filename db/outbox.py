"""The notification outbox: rows written with the event change, claimed by dispatchers.

A row is claimed under a lease (`FOR UPDATE SKIP LOCKED`, so several dispatchers
share the work without taking the same row); a dispatcher that dies leaves its
rows to be claimed again when the lease runs out. Hence a message can be sent
twice (a crash between the provider's answer and the commit of its outcome),
never lost: for an emergency alert, a duplicate is the safe side.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from db.pool import Connection
from domain.alerts import PlannedMessage
from domain.delivery import DeliveryOutcome, OutboxMessage

CHANNEL = "muster_outbox"


# skip_acknowledged -- due drill reminders and real alerts' repeats of people who have
# acknowledged the event: an ack (app or link page), a room report of theirs for it, or a
# call about it they confirmed (pressed 1). Every claim runs this, and a district's round
# leaves 10,000 calls due for hours (calls go at about one a second): who acknowledged is
# read per event that has rows due, through each table's event index, never by probing or
# hashing all of their history (bench/follow_ups.py, 10,000 due rows and 50 events of
# history: 25-60 ms a claim; an EXISTS per table took 140-1,250 ms, JIT compiling included)
_SKIP_ACKNOWLEDGED = """
with due as materialized (
    select id, event_id, user_id from notification_outbox
    where state = 'queued' and unless_acknowledged and not_before <= $1
), acknowledged as (
    select k.event_id, k.user_id
    from (select distinct event_id from due) e
    cross join lateral (
        select a.event_id, a.user_id from acknowledgements a where a.event_id = e.event_id
        union
        select c.event_id, c.reported_by from checkins c where c.event_id = e.event_id
        union
        select v.event_id, v.user_id from notification_outbox v
        where v.event_id = e.event_id and v.confirmed_at is not null) k
)
update notification_outbox o set state = 'skipped', updated_at = $1
from due join acknowledged k using (event_id, user_id)
where o.id = due.id and o.state = 'queued'  -- checked again if a dispatcher claimed it since
"""

# skip_ended -- alerts and updates not yet sent for an event that has ended: a stale
# LOCKDOWN or "Threat: gym" arriving after (or instead of) its all-clear would only mislead
_SKIP_ENDED = """
update notification_outbox o set state = 'skipped', updated_at = $1
from events e
where e.id = o.event_id and e.status <> 'active'
  and o.state = 'queued' and o.kind in ('alert', 'action', 'reminder', 'repeat', 'update')
"""

# skip_confirmed -- calls queued again whose message someone has since confirmed (pressed 1)
_SKIP_CONFIRMED = """
update notification_outbox set state = 'skipped', updated_at = $1
where state = 'queued' and confirmed_at is not null
"""

# skip_repeats -- the repeats still queued of an event's earlier alert: they would say
# the action it has just changed from
_SKIP_REPEATS = """
update notification_outbox set state = 'skipped', updated_at = $2
where event_id = $1 and kind = 'repeat' and state = 'queued'
"""

# claim -- due rows, leased to this dispatcher, returned most urgent first: the order
# of an UPDATE's RETURNING is the plan's (a hash or merge join returns the rows in
# table order), so the leased rows are sorted again
_CLAIM = """
with due as (
    select id from notification_outbox
    where ((state = 'queued' and not_before <= $1) or (state = 'sending' and lease_until < $1))
      and ($4::text is null or channel = $4)
    order by priority desc, id
    for update skip locked
    limit $2
), leased as (
    update notification_outbox o
    set state = 'sending', lease_until = $1 + $3::interval, attempts = o.attempts + 1,
        updated_at = $1
    from due
    where o.id = due.id
    returning o.id, o.event_id, o.assist_id, o.reunification_id, o.user_id, o.contact_id,
              o.guardian_id, o.phone, o.channel, o.kind, o.body, o.critical, o.data,
              o.attempts, o.priority
)
select l.id, l.event_id, l.assist_id, l.reunification_id, l.user_id, l.contact_id,
       l.guardian_id, l.channel, l.kind, l.body,
       l.critical, l.data, l.attempts, coalesce(l.phone, u.phone) as phone,
       array(select d.push_token from devices d
             where d.user_id = l.user_id and d.disabled_at is null
             order by d.last_seen_at desc) as push_tokens
from leased l left join users u on u.id = l.user_id
order by l.priority desc, l.id
"""


async def claim(conn: Connection, now: datetime, limit: int, lease: timedelta,
                channel: str | None = None) -> list[OutboxMessage]:
    """Lease up to `limit` due messages (of one channel, if given)."""
    await conn.execute(_SKIP_ACKNOWLEDGED, now)
    await conn.execute(_SKIP_ENDED, now)
    await conn.execute(_SKIP_CONFIRMED, now)
    rows = await conn.fetch(_CLAIM, now, limit, lease, channel)
    return [msgspec.convert(dict(r), OutboxMessage) for r in rows]


async def skip_repeats(conn: Connection, event_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(_SKIP_REPEATS, event_id, now)


async def record_outcome(conn: Connection, message_id: int, at: datetime, *,
                         outcome: str, provider_id: str | None = None,
                         error_code: str | None = None, retry_at: datetime | None = None) -> None:
    """The provider's answer: sent, failed for good, or to retry at `retry_at`.
    Only a row still leased ('sending') changes, so an outcome is recorded once."""
    state = "queued" if retry_at else outcome
    async with conn.transaction():
        updated = await conn.fetchval(
            """update notification_outbox
               set state = $2, provider_id = coalesce($3, provider_id), error_code = $4,
                   not_before = coalesce($5, not_before), lease_until = null,
                   sent_at = case when $2 = 'sent' then $6 else sent_at end, updated_at = $6
               where id = $1 and state = 'sending' returning id""",
            message_id, state, provider_id, error_code, retry_at, at)
        if updated:
            await conn.execute(
                "insert into deliveries (outbox_id, at, outcome, error_code) "
                "values ($1, $2, $3, $4)",
                message_id, at, DeliveryOutcome.RETRY if retry_at else outcome, error_code)


async def enqueue(conn: Connection, event_id: uuid.UUID | None,
                  messages: list[PlannedMessage], *, assist_id: uuid.UUID | None = None,
                  reunification_id: uuid.UUID | None = None) -> None:
    """Write the messages about an event, a request for help or a reunification (inside
    the caller's transaction) and wake the dispatchers at commit."""
    if not messages:
        return
    # COPY: a district-wide lockdown writes ~20,000 rows inside the request
    await conn.copy_records_to_table(
        "notification_outbox",
        columns=["event_id", "assist_id", "reunification_id", "user_id", "contact_id",
                 "guardian_id", "phone", "channel", "kind", "priority", "body", "critical",
                 "data", "not_before", "unless_acknowledged"],
        records=[(event_id, assist_id, reunification_id, m.user_id, m.contact_id,
                  m.guardian_id, m.phone, m.channel, m.kind, m.priority, m.body, m.critical,
                  m.data, m.not_before, m.unless_acknowledged)
                 for m in messages])
    await conn.execute("select pg_notify($1, '')", CHANNEL)


async def bring_reminder_forward(conn: Connection, event_id: uuid.UUID,
                                 user_id: uuid.UUID, now: datetime) -> None:
    """Make the person's pending SMS reminder for the event due now."""
    await conn.execute(
        """update notification_outbox set not_before = $3, unless_acknowledged = false,
                                          updated_at = $3
           where event_id = $1 and user_id = $2 and kind = 'reminder' and state = 'queued'
             and not_before > $3""", event_id, user_id, now)
    await conn.execute("select pg_notify($1, '')", CHANNEL)
