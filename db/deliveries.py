"""Where an event's messages stand: counts per channel, and each message with its
recipient's acknowledgement."""

from __future__ import annotations

import uuid
from datetime import datetime

from db.directory import entry_name
from db.pool import Connection
from domain.values import Value


class ChannelCounts(Value, kw_only=True):
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


async def delivery_counts(conn: Connection,
                          event_id: uuid.UUID) -> dict[str, ChannelCounts]:
    rows = await conn.fetch(_COUNTS, event_id)
    return {r["channel"]: ChannelCounts(**{k: v for k, v in dict(r).items() if k != "channel"})
            for r in rows}


class DeliveryRow(Value, kw_only=True):
    """One message to one person, or to one of the school's contacts (`contact_id`, who is
    no user: `contact_kind` says who they are): where it stands, whether the person
    acknowledged, and when the person called pressed 1 to confirm (`confirmed_at`)."""

    id: int
    user_id: uuid.UUID | None
    contact_id: uuid.UUID | None = None
    # as the event's school names them (a contact: as listed); null: left before 0011
    name: str | None
    contact_kind: str | None = None
    channel: str
    kind: str
    state: str
    sent_at: datetime | None
    error_code: str | None
    acknowledged_at: datetime | None
    confirmed_at: datetime | None = None


# delivery_rows -- an event's messages in the order they were queued, after a keyset id;
# a contact (removed from the list since, or not) by the name and kind it was listed under
_ROWS = f"""
select o.id, o.user_id, o.contact_id,
       coalesce(c.name, {entry_name("o.user_id",
                                    "(select e.school_id from events e where e.id = $1)")})
           as name,
       c.kind as contact_kind, o.channel, o.kind, o.state, o.sent_at, o.error_code,
       a.at as acknowledged_at, o.confirmed_at
from notification_outbox o
left join acknowledgements a on a.event_id = o.event_id and a.user_id = o.user_id
left join school_contacts c on c.id = o.contact_id
where o.event_id = $1 and o.id > $2
order by o.id limit $3
"""


async def delivery_rows(conn: Connection, event_id: uuid.UUID, after_id: int,
                        limit: int) -> list[DeliveryRow]:
    rows = await conn.fetch(_ROWS, event_id, after_id, limit)
    return [DeliveryRow(**dict(r)) for r in rows]
