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

import asyncpg
import msgspec

from db import timeline
from db.directory import entry_name
from domain.alerts import PlannedMessage, Recipient
from domain.delivery import wave_handed_off
from domain.events import TimelineKind
from domain.readiness import MemberReach

CHANNEL = "muster_outbox"


class OutboxMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One message to one person on one channel, as a dispatcher claims it."""

    id: int
    event_id: uuid.UUID
    user_id: uuid.UUID
    channel: str
    kind: str
    body: str
    critical: bool
    data: dict[str, str]
    attempts: int
    phone: str
    push_tokens: list[str]


# skip_acknowledged -- due drill reminders of people who acknowledged the alert
_SKIP_ACKNOWLEDGED = """
update notification_outbox o set state = 'skipped', updated_at = $1
where o.state = 'queued' and o.unless_acknowledged and o.not_before <= $1
  and exists (select 1 from acknowledgements a
              where a.event_id = o.event_id and a.user_id = o.user_id)
"""

# skip_ended -- alerts not yet sent for an event that has ended: a stale LOCKDOWN
# arriving after (or instead of) its all-clear would only mislead
_SKIP_ENDED = """
update notification_outbox o set state = 'skipped', updated_at = $1
from events e
where e.id = o.event_id and e.status <> 'active'
  and o.state = 'queued' and o.kind in ('alert', 'action', 'reminder')
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
    returning o.id, o.event_id, o.user_id, o.channel, o.kind, o.body, o.critical, o.data,
              o.attempts, o.priority
)
select l.id, l.event_id, l.user_id, l.channel, l.kind, l.body, l.critical, l.data, l.attempts,
       u.phone,
       array(select d.push_token from devices d
             where d.user_id = l.user_id and d.disabled_at is null
             order by d.last_seen_at desc) as push_tokens
from leased l join users u on u.id = l.user_id
order by l.priority desc, l.id
"""


async def claim(conn: asyncpg.Connection, now: datetime, limit: int, lease: timedelta,
                channel: str | None = None) -> list[OutboxMessage]:
    """Lease up to `limit` due messages (of one channel, if given)."""
    await conn.execute(_SKIP_ACKNOWLEDGED, now)
    await conn.execute(_SKIP_ENDED, now)
    rows = await conn.fetch(_CLAIM, now, limit, lease, channel)
    return [msgspec.convert(dict(r), OutboxMessage) for r in rows]


async def record_outcome(conn: asyncpg.Connection, message_id: int, at: datetime, *,
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
                message_id, at, "retry" if retry_at else outcome, error_code)


# live members of school $1 at time $2, and the admins of its district
_AUDIENCE = """
from memberships m join users u on u.id = m.user_id
where (m.expires_at is null or m.expires_at > $2)
  and (m.school_id = $1 or (m.school_id is null and m.district_id =
                            (select district_id from schools where id = $1)))
"""

# recipients -- everyone an alert of the school may reach, and their working devices
_RECIPIENTS = """
select u.id as user_id, m.name, u.phone, m.role,
       (select count(*) from devices d
        where d.user_id = u.id and d.disabled_at is null)::int as push_devices
""" + _AUDIENCE

# goes_as_wave -- whether an event change must wait behind a wave of the event that is
# still to be written out, or reaches more than $4 memberships (one round trip for both)
_GOES_AS_WAVE = """
select exists (select 1 from alert_waves where event_id = $3 and expanded_at is null)
    or (select count(*) """ + _AUDIENCE + """) > $4
"""


async def goes_as_wave(conn: asyncpg.Connection, event_id: uuid.UUID, school_id: uuid.UUID,
                       now: datetime, most_inline: int) -> bool:
    return await conn.fetchval(_GOES_AS_WAVE, school_id, now, event_id, most_inline)


async def recipients(conn: asyncpg.Connection, school_id: uuid.UUID,
                     now: datetime) -> list[Recipient]:
    """Everyone the school's alerts may reach (district admins included; the plan
    decides whether they get it)."""
    rows = await conn.fetch(_RECIPIENTS, school_id, now)
    return [msgspec.convert(dict(r), Recipient) for r in rows]


# notified -- who was (or is about to be) alerted about the event, on which channel
_NOTIFIED = """
select distinct user_id, channel from notification_outbox
where event_id = $1 and kind in ('alert', 'action', 'reminder')
  and state in ('queued', 'sending', 'sent', 'delivered')
"""


async def notified(conn: asyncpg.Connection, event_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    return [(r["user_id"], r["channel"]) for r in await conn.fetch(_NOTIFIED, event_id)]


async def enqueue(conn: asyncpg.Connection, event_id: uuid.UUID,
                  messages: list[PlannedMessage]) -> None:
    """Write the messages (inside the caller's transaction) and wake the dispatchers at
    commit."""
    if not messages:
        return
    # COPY: a district-wide lockdown writes ~20,000 rows inside the request
    await conn.copy_records_to_table(
        "notification_outbox",
        columns=["event_id", "user_id", "channel", "kind", "priority", "body", "critical",
                 "data", "not_before", "unless_acknowledged"],
        records=[(event_id, m.user_id, m.channel, m.kind, m.priority, m.body, m.critical,
                  m.data, m.not_before, m.unless_acknowledged) for m in messages])
    await conn.execute("select pg_notify($1, '')", CHANNEL)


class ChannelCounts(msgspec.Struct, frozen=True, kw_only=True):
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    acknowledged: int = 0


# delivery_counts -- per channel: messages by state, and recipients who acknowledged
_COUNTS = """
select o.channel,
       count(*) filter (where o.state in ('queued', 'sending')) as queued,
       count(*) filter (where o.state = 'sent') as sent,
       count(*) filter (where o.state = 'delivered') as delivered,
       count(*) filter (where o.state = 'failed') as failed,
       count(distinct a.user_id) as acknowledged
from notification_outbox o
left join acknowledgements a on a.event_id = o.event_id and a.user_id = o.user_id
where o.event_id = $1
group by o.channel
"""


async def delivery_counts(conn: asyncpg.Connection,
                          event_id: uuid.UUID) -> dict[str, ChannelCounts]:
    rows = await conn.fetch(_COUNTS, event_id)
    return {r["channel"]: ChannelCounts(**{k: v for k, v in dict(r).items() if k != "channel"})
            for r in rows}


class DeliveryRow(msgspec.Struct, frozen=True, kw_only=True):
    """One message to one person: where it stands, and whether they acknowledged."""

    id: int
    user_id: uuid.UUID
    name: str | None  # as the event's school names them; null: left before 0011
    channel: str
    kind: str
    state: str
    sent_at: datetime | None
    error_code: str | None
    acknowledged_at: datetime | None


# delivery_rows -- an event's messages in the order they were queued, after a keyset id
_ROWS = f"""
select o.id, o.user_id,
       {entry_name("o.user_id", "(select e.school_id from events e where e.id = $1)")} as name,
       o.channel, o.kind, o.state, o.sent_at, o.error_code, a.at as acknowledged_at
from notification_outbox o
left join acknowledgements a on a.event_id = o.event_id and a.user_id = o.user_id
where o.event_id = $1 and o.id > $2
order by o.id limit $3
"""


async def delivery_rows(conn: asyncpg.Connection, event_id: uuid.UUID, after_id: int,
                        limit: int) -> list[DeliveryRow]:
    rows = await conn.fetch(_ROWS, event_id, after_id, limit)
    return [DeliveryRow(**dict(r)) for r in rows]


# member_reach -- each live member of a school: devices, and whether the last SMS failed
_MEMBER_REACH = """
select u.id as user_id, m.name, m.role, u.phone,
       count(d.id) filter (where d.disabled_at is null)::int as working_devices,
       count(d.id) filter (where d.disabled_at is not null)::int as disabled_devices,
       coalesce((select o.state = 'failed' from notification_outbox o
                 where o.user_id = u.id and o.channel = 'sms'
                   and o.state in ('sent', 'delivered', 'failed')
                 order by o.updated_at desc limit 1), false) as last_sms_failed
from memberships m
join users u on u.id = m.user_id
left join devices d on d.user_id = u.id
where m.school_id = $1 and (m.expires_at is null or m.expires_at > $2)
group by u.id, m.name, m.role, u.phone
order by m.name
"""


async def member_reach(conn: asyncpg.Connection, school_id: uuid.UUID,
                       now: datetime) -> list[MemberReach]:
    rows = await conn.fetch(_MEMBER_REACH, school_id, now)
    return [msgspec.convert(dict(r), MemberReach) for r in rows]


async def record_receipt(conn: asyncpg.Connection, provider_id: str, outcome: str,
                         error_code: str | None, at: datetime) -> bool:
    """A provider's delivery receipt (delivered, undelivered, failed) for a sent message;
    whether it was recorded: a repeated receipt, or one for no message of ours, changes
    nothing."""
    async with conn.transaction():
        message_id = await conn.fetchval(
            """update notification_outbox set state = $2, error_code = $3, updated_at = $4
               where provider_id = $1 and state in ('sent', 'delivered')
                 and state is distinct from $2
               returning id""",
            provider_id, "delivered" if outcome == "delivered" else "failed", error_code, at)
        if message_id is None:
            return False
        await conn.execute("insert into deliveries (outbox_id, at, outcome, error_code) "
                           "values ($1, $2, $3, $4)", message_id, at, outcome, error_code)
    return True


async def bring_reminder_forward(conn: asyncpg.Connection, event_id: uuid.UUID,
                                 user_id: uuid.UUID, now: datetime) -> None:
    """Make the person's pending SMS reminder for the event due now."""
    await conn.execute(
        """update notification_outbox set not_before = $3, unless_acknowledged = false,
                                          updated_at = $3
           where event_id = $1 and user_id = $2 and kind = 'reminder' and state = 'queued'
             and not_before > $3""", event_id, user_id, now)
    await conn.execute("select pg_notify($1, '')", CHANNEL)


async def disable_devices(conn: asyncpg.Connection, push_tokens: tuple[str, ...], reason: str,
                          at: datetime) -> None:
    """Devices whose tokens the push provider called dead (the app was uninstalled or
    re-registered): no more pushes to them, and readiness shows it."""
    await conn.execute("update devices set disabled_at = $2, disabled_reason = $3 "
                       "where push_token = any($1::text[]) and disabled_at is null",
                       list(push_tokens), at, reason)


# handoff -- an event's alert messages: due but not handed to a provider, and handled
_HANDOFF = """
select count(*) filter (where state in ('queued', 'sending') and not_before <= $2) as pending,
       count(*) filter (where state in ('sent', 'delivered')) as sent,
       count(*) filter (where state = 'failed') as failed
from notification_outbox
where event_id = $1 and kind <> 'reminder'
"""

_LAST_HANDOFF = """
select (detail ->> 'sent')::int + (detail ->> 'failed')::int from event_timeline
where event_id = $1 and kind = 'delivery' order by seq desc limit 1
"""


async def record_handoff(conn: asyncpg.Connection, event_id: uuid.UUID, at: datetime) -> bool:
    """Put "every message handed to a provider" on the event's timeline (and stream) once
    per wave of messages (the alert, each action change, the ending)."""
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))",
                           f"handoff:{event_id}")
        counts = await conn.fetchrow(_HANDOFF, event_id, at)
        last = await conn.fetchval(_LAST_HANDOFF, event_id) or 0
        if not wave_handed_off(counts["pending"], counts["sent"] + counts["failed"], last):
            return False
        detail = {"milestone": "handed_off", "sent": counts["sent"], "failed": counts["failed"]}
        await timeline.append(conn, event_id, at, TimelineKind.DELIVERY, None,
                              msgspec.json.encode(detail))
    return True
