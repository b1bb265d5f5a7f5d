"""What providers said after a hand-off (delivery receipts), and the timeline's note that
an event's messages were all handed off."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from db import timeline
from db.pool import Connection
from domain.delivery import DeliveryOutcome, wave_handed_off
from domain.events import TimelineKind


async def record_receipt(conn: Connection, provider_id: str, outcome: str,
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
            provider_id, DeliveryOutcome.DELIVERED if outcome == DeliveryOutcome.DELIVERED
            else DeliveryOutcome.FAILED, error_code, at)
        if message_id is None:
            return False
        await conn.execute("insert into deliveries (outbox_id, at, outcome, error_code) "
                           "values ($1, $2, $3, $4)", message_id, at, outcome, error_code)
    return True


# still_due -- an alert message of the event due and not yet handed to a provider, or a
# wave of it still being written, if any: mid-wave the first one found. In the order of
# the index on pending rows, as an EXISTS would let the planner pick a scan of the table
# that stops at the first match, which mid-wave is behind every row already sent
_STILL_DUE = """
(select id from notification_outbox
 where event_id = $1 and state in ('queued', 'sending') and not_before <= $2
   and kind <> 'reminder'
 order by not_before
 limit 1)
union all
(select id from alert_waves where event_id = $1 and expanded_at is null limit 1)
limit 1
"""

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


async def record_handoff(conn: Connection, event_id: uuid.UUID, at: datetime) -> bool:
    """Put "every message handed to a provider" on the event's timeline (and stream) once
    per wave of messages (the alert, each action change, the ending). Asked whenever
    some of its messages are settled, mostly mid-wave: the event's messages are only
    counted once none is still due."""
    if await conn.fetchval(_STILL_DUE, event_id, at) is not None:
        return False
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))",
                           f"handoff:{event_id}")
        counts = await conn.fetchrow(_HANDOFF, event_id, at)
        assert counts is not None  # an aggregate without group by yields one row
        last = await conn.fetchval(_LAST_HANDOFF, event_id) or 0
        if not wave_handed_off(counts["pending"], counts["sent"] + counts["failed"], last):
            return False
        detail = {"milestone": "handed_off", "sent": counts["sent"], "failed": counts["failed"]}
        await timeline.append(conn, event_id, at, TimelineKind.DELIVERY, None,
                              msgspec.json.encode(detail))
    return True
