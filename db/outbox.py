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
from domain.alerts import Channel, PlannedMessage
from domain.delivery import DeliveryOutcome, OutboxMessage
from domain.values import Value

CHANNEL = "muster_outbox"


# skip_repeats -- the repeats still queued of an event's earlier alert: they would say
# the action it has just changed from
_SKIP_REPEATS = """
update notification_outbox set state = 'skipped', updated_at = $2
where event_id = $1 and kind = 'repeat' and state = 'queued'
"""

# claim -- a lane's due rows, most urgent first, leased to this dispatcher; first the
# rows whose lease ran out (their dispatcher died), then the queued ones (those locked
# beyond `limit` are left as they were). A queued row that must not go any more is
# skipped instead, as the claim meets it (so a claim costs what it looks at, never a
# scan of the queue or of an event; a row not yet due waits until it is):
# - an alert, action, reminder, repeat or update of an event that has ended: a stale
#   LOCKDOWN or "Threat: gym" arriving after (or instead of) its all-clear would only
#   mislead;
# - a call queued again whose message someone has since confirmed (pressed 1);
# - a drill reminder or a real alert's repeat to someone who has acknowledged the event:
#   an ack (app or link page), a room report of theirs for it, or a call about it they
#   confirmed; each asked of its row through the table's index.
# The order of an UPDATE's RETURNING is the plan's (a hash or merge join returns the rows
# in table order), so the rows are sorted again.
_CLAIM = """
with expired as (
    select id from notification_outbox
    where state = 'sending' and channel = $4 and lease_until < $1
    order by lease_until
    for update skip locked
    limit $2
), due as (
    select id, event_id, user_id, kind, confirmed_at, unless_acknowledged
    from notification_outbox
    where state = 'queued' and channel = $4 and not_before <= $1
    order by priority desc, id
    for update skip locked
    limit $2
), looked_at as (
    select id, false as skip from expired
    union all
    select d.id,
           (d.kind in ('alert', 'action', 'reminder', 'repeat', 'update')
            and exists (select 1 from events e where e.id = d.event_id and e.status <> 'active'))
           or d.confirmed_at is not null
           or (d.unless_acknowledged and (
               exists (select 1 from acknowledgements a
                       where a.event_id = d.event_id and a.user_id = d.user_id)
               or exists (select 1 from checkins c
                          where c.reported_by = d.user_id and c.event_id = d.event_id)
               or exists (select 1 from notification_outbox v
                          where v.event_id = d.event_id and v.user_id = d.user_id
                            and v.confirmed_at is not null)))
    from due d
    limit $2
), changed as (
    update notification_outbox o
    set state = case when l.skip then 'skipped' else 'sending' end,
        lease_until = case when l.skip then null else $1 + $3::interval end,
        attempts = o.attempts + case when l.skip then 0 else 1 end,
        updated_at = $1
    from looked_at l
    where o.id = l.id
    returning o.id, o.event_id, o.assist_id, o.reunification_id, o.user_id, o.contact_id,
              o.guardian_id, o.phone, o.channel, o.kind, o.body, o.critical, o.data,
              o.attempts, o.priority, l.skip
)
select l.id, l.event_id, l.assist_id, l.reunification_id, l.user_id, l.contact_id,
       l.guardian_id, l.channel, l.kind, l.body,
       l.critical, l.data, l.attempts, coalesce(l.phone, u.phone) as phone,
       array(select d.push_token from devices d
             where d.user_id = l.user_id and d.disabled_at is null and not l.skip
             order by d.last_seen_at desc) as push_tokens,
       l.skip
from changed l left join users u on u.id = l.user_id
order by l.priority desc, l.id
"""


class Claim(Value):
    """What a claim leased (most urgent first), and how many rows it skipped instead: a
    claim that looked at as many rows as it asked for may leave more due."""

    messages: list[OutboxMessage]
    skipped: int

    @property
    def looked_at(self) -> int:
        return len(self.messages) + self.skipped


async def claim(conn: Connection, now: datetime, limit: int, lease: timedelta,
                channel: str | None = None) -> Claim:
    """Lease up to `limit` due messages of one channel (of each channel in turn, if none
    is given, up to `limit` in all)."""
    messages: list[OutboxMessage] = []
    skipped = 0
    for lane in [channel] if channel else list(Channel):
        room = limit - len(messages) - skipped
        if room <= 0:
            break
        rows = await conn.fetch(_CLAIM, now, room, lease, lane)
        messages += [msgspec.convert(dict(r), OutboxMessage) for r in rows if not r["skip"]]
        skipped += sum(r["skip"] for r in rows)
    return Claim(messages, skipped)


async def skip_repeats(conn: Connection, event_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(_SKIP_REPEATS, event_id, now)


class Outcome(Value, kw_only=True):
    """A provider's answer to one message: sent, failed for good, or retry at `retry_at`."""

    message_id: int
    outcome: DeliveryOutcome
    provider_id: str | None = None
    error_code: str | None = None
    retry_at: datetime | None = None


# record_outcomes -- providers' answers, each written once: only a row still leased
# ('sending') changes, and only those changed get their delivery
_RECORD_OUTCOMES = """
with answer as (
    select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
        as a(id, outcome, provider_id, error_code, retry_at)
), recorded as (
    update notification_outbox o
    set state = case when a.outcome = 'retry' then 'queued' else a.outcome end,
        provider_id = coalesce(a.provider_id, o.provider_id), error_code = a.error_code,
        not_before = coalesce(a.retry_at, o.not_before), lease_until = null,
        sent_at = case when a.outcome = 'sent' then $6 else o.sent_at end, updated_at = $6
    from answer a
    where o.id = a.id and o.state = 'sending'
    returning o.id, a.outcome, a.error_code
)
insert into deliveries (outbox_id, at, outcome, error_code)
select id, $6, outcome, error_code from recorded
"""


async def record_outcomes(conn: Connection, at: datetime, outcomes: list[Outcome]) -> None:
    """The providers' answers, in one statement: sent, failed for good, or to retry (the
    row is queued again, due at `retry_at`)."""
    await conn.execute(_RECORD_OUTCOMES, [o.message_id for o in outcomes],
                       [o.outcome for o in outcomes], [o.provider_id for o in outcomes],
                       [o.error_code for o in outcomes], [o.retry_at for o in outcomes], at)


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


# bring_reminders_forward -- the people's pending SMS reminders about the events, due now
_BRING_REMINDERS_FORWARD = """
update notification_outbox o
set not_before = $3, unless_acknowledged = false, updated_at = $3
from unnest($1::uuid[], $2::uuid[]) as p(event_id, user_id)
where o.event_id = p.event_id and o.user_id = p.user_id and o.kind = 'reminder'
  and o.state = 'queued' and o.not_before > $3
"""


async def bring_reminders_forward(conn: Connection, people: list[tuple[uuid.UUID, uuid.UUID]],
                                  now: datetime) -> None:
    """Make each person's pending SMS reminder about the event (event, user) due now."""
    await conn.execute(_BRING_REMINDERS_FORWARD, [e for e, _ in people],
                       [u for _, u in people], now)
    await conn.execute("select pg_notify($1, '')", CHANNEL)
