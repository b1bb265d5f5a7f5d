"""A message as it goes to a provider, and what to do after the provider answered:
retry when, give up when, fall back when.

`OutboxMessage` is a plain value, here so that the senders' port
(notifications/senders.py) and the outbox that claims it (db/outbox.py) share it
without the database layer knowing of notifications, or the senders of the database.

Retries back off exponentially with jitter, so that a provider's outage does not
end in every dispatcher retrying in lock-step; they are bounded, so a message
that can never go stops being retried and shows as failed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from domain.alerts import Channel, MessageKind
from domain.values import Value

FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=5)
MAX_ATTEMPTS = 8


class DeliveryOutcome(StrEnum):
    """What became of a message, as its deliveries rows record it: a sender answers
    sent, failed (for good) or retry; a provider's receipt later says delivered,
    undelivered (this number cannot take it) or failed."""

    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    RETRY = "retry"


class OutboxMessage(Value, kw_only=True):
    """One message to one person on one channel, as a dispatcher claims it: about an
    event or a request for help (or both), or a reunification; to a user, a school's
    contact or a student's guardian; `phone` is the number to reach, `push_tokens` the
    user's working devices."""

    id: int
    event_id: uuid.UUID | None
    assist_id: uuid.UUID | None = None
    reunification_id: uuid.UUID | None = None
    user_id: uuid.UUID | None
    contact_id: uuid.UUID | None = None
    guardian_id: uuid.UUID | None = None
    channel: Channel
    kind: MessageKind
    body: str
    critical: bool
    data: dict[str, str]
    attempts: int
    phone: str
    push_tokens: list[str]


def next_attempt(attempts: int, now: datetime, jitter: float) -> datetime | None:
    """When to try again after `attempts` transient failures, or None to give up.

    `jitter` in [0, 1) spreads the wait between half and one and a half times the
    backoff: 5 s, 10 s, 20 s ... capped at 5 min."""
    if attempts >= MAX_ATTEMPTS:
        return None
    backoff = min(FIRST_BACKOFF * 2.0 ** (attempts - 1), MAX_BACKOFF)
    return now + backoff * (0.5 + jitter)


def falls_back_to_sms(channel: str, kind: str, outcome: str) -> bool:
    """A push alert that failed for good (no working device, every token dead) brings
    the person's pending SMS reminder forward, instead of waiting for the ack window.
    (For real events SMS already went out in parallel; there is nothing to bring.)"""
    return (channel == Channel.PUSH and kind in (MessageKind.ALERT, MessageKind.ACTION)
            and outcome == DeliveryOutcome.FAILED)


def wave_handed_off(pending: int, handled: int, handled_at_last_milestone: int) -> bool:
    """Whether to announce that an event's messages have all been handed to a provider:
    none due is still waiting, and some were handled since the last announcement (a new
    wave: the alert, an action change, the ending). Reminders due later do not count."""
    return pending == 0 and handled > handled_at_last_milestone


VOICE_CALLS = 3  # calls placed for one voice message at most, until someone presses 1
CALL_PAUSES = (timedelta(seconds=30), timedelta(seconds=60))  # before the 2nd, the 3rd call
CALL_ENDS = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


class CallEnd(Value, kw_only=True):
    """What a call's end makes of its message: `outcome` (delivered, retry, failed or
    undelivered), when to call again (`retry_in`, for a retry), and why it was not
    delivered (`reason`: Twilio's error code, else how the call ended)."""

    outcome: DeliveryOutcome
    retry_in: timedelta | None = None
    reason: str | None = None


def after_call(status: str, error_code: str | None, *, confirmed: bool,
               calls: int) -> CallEnd | None:
    """A voice message's outcome once its call (the `calls`-th placed) ended with Twilio's
    `status`, or None while the call is not over. Someone pressed 1: delivered. Otherwise
    (busy, no answer, failed, canceled, or answered without the keypress, perhaps by
    voicemail) it is called again after a pause, VOICE_CALLS calls at most; then it is
    failed, or undelivered when the last call failed (Twilio could not place it: the
    number cannot take calls)."""
    if status not in CALL_ENDS:
        return None
    if confirmed:
        return CallEnd(outcome=DeliveryOutcome.DELIVERED)
    reason = error_code or ("unconfirmed" if status == "completed" else status)
    if calls < VOICE_CALLS:
        pause = CALL_PAUSES[min(max(calls, 1), len(CALL_PAUSES)) - 1]
        return CallEnd(outcome=DeliveryOutcome.RETRY, retry_in=pause, reason=reason)
    outcome = DeliveryOutcome.UNDELIVERED if status == "failed" else DeliveryOutcome.FAILED
    return CallEnd(outcome=outcome, reason=reason)
