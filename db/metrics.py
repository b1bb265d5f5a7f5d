"""Figures read from the database when Prometheus scrapes `/metrics`."""

from __future__ import annotations

from datetime import datetime

from db.pool import Connection
from domain.values import Value


class QueuedMessages(Value, kw_only=True):
    """A channel's messages waiting in the outbox: due now, or due later (drill
    reminders, retries in their backoff), and when the oldest due one came due."""

    channel: str
    due: int
    scheduled: int
    oldest_due: datetime | None


# queued_messages -- per channel, the queued rows, through the partial index on them
# (notification_outbox_due): the cost grows with the backlog, not with the history
# of sent messages, so a scrape stays cheap on a table of millions of rows
_QUEUED = """
select channel,
       count(*) filter (where not_before <= $1) as due,
       count(*) filter (where not_before > $1) as scheduled,
       min(not_before) filter (where not_before <= $1) as oldest_due
from notification_outbox
where state = 'queued'
group by channel
"""


async def queued_messages(conn: Connection, now: datetime) -> list[QueuedMessages]:
    rows = await conn.fetch(_QUEUED, now)
    return [QueuedMessages(**dict(r)) for r in rows]
