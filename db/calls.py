"""Voice calls after they were placed: how each ended, and the keypress that confirms
one was heard. A call is found by its CallSid, the outbox row's provider_id; the row is
locked while its call's end or keypress is recorded, so that the two, arriving together,
are taken one after the other (a keypress never lost to a retry being queued)."""

from __future__ import annotations

import uuid
from datetime import datetime

from db.pool import Connection
from domain.calls import call_language
from domain.delivery import CallEnd, DeliveryOutcome, after_call
from domain.language import Language
from domain.values import Value

# call_placed -- a voice message whose call is out (state 'sent'), locked, with how many
# calls were placed for it
_CALL_PLACED = """
select id, confirmed_at is not null as confirmed,
       (select count(*) from deliveries d where d.outbox_id = o.id and d.outcome = 'sent')::int
           as calls
from notification_outbox o
where provider_id = $1 and channel = 'voice' and state = 'sent'
for update
"""

# call_again -- the message queued again for its next call, when that is due
_CALL_AGAIN = """
update notification_outbox set state = 'queued', not_before = $2, lease_until = null,
                               error_code = $3, updated_at = $4
where id = $1
"""

# call_settled -- the message's final state
_CALL_SETTLED = """
update notification_outbox set state = $2, error_code = $3, updated_at = $4 where id = $1
"""

# confirm_call -- the first keypress of 1 on a call; a retry not yet placed is skipped
_CONFIRM_CALL = """
update notification_outbox
set confirmed_at = coalesce(confirmed_at, $2), updated_at = $2,
    state = case when state = 'queued' then 'skipped' else state end
where provider_id = $1 and channel = 'voice'
returning event_id, user_id, data
"""

# call_of -- the message a call was placed for
_CALL_OF = "select data from notification_outbox where provider_id = $1 and channel = 'voice'"


class ConfirmedCall(Value, kw_only=True):
    """A call someone confirmed: to a user about an event, or not (a contact, a request
    for help), and the language it was made in."""

    event_id: uuid.UUID | None
    user_id: uuid.UUID | None
    language: Language


async def record_call_end(conn: Connection, call_sid: str, status: str,
                          error_code: str | None, at: datetime) -> CallEnd | None:
    """How a call ended (Twilio's final CallStatus), and what that makes of its message:
    delivered, called again later, or failed. None, and nothing stored, for a call not
    over, not ours, or whose end was already recorded."""
    async with conn.transaction():
        row = await conn.fetchrow(_CALL_PLACED, call_sid)
        if row is None:
            return None
        end = after_call(status, error_code, confirmed=row["confirmed"], calls=row["calls"])
        if end is None:
            return None
        if end.retry_in is not None:
            await conn.execute(_CALL_AGAIN, row["id"], at + end.retry_in, end.reason, at)
        else:  # an undelivered message shows as failed, as an SMS does
            state = (DeliveryOutcome.DELIVERED if end.outcome is DeliveryOutcome.DELIVERED
                     else DeliveryOutcome.FAILED)
            await conn.execute(_CALL_SETTLED, row["id"], state, end.reason, at)
        await conn.execute("insert into deliveries (outbox_id, at, outcome, error_code) "
                           "values ($1, $2, $3, $4)", row["id"], at, end.outcome, end.reason)
    return end


async def confirm_call(conn: Connection, call_sid: str, at: datetime) -> ConfirmedCall | None:
    """Someone pressed 1 on the call: its message is confirmed (the first keypress's time
    is kept) and its next call, if one is queued, never placed. None for no call of ours."""
    row = await conn.fetchrow(_CONFIRM_CALL, call_sid, at)
    if row is None:
        return None
    return ConfirmedCall(event_id=row["event_id"], user_id=row["user_id"],
                         language=call_language(row["data"]))


async def call_language_of(conn: Connection, call_sid: str) -> Language | None:
    """The language a call of ours was made in; None for no call of ours."""
    data = await conn.fetchval(_CALL_OF, call_sid)
    return None if data is None else call_language(data)
