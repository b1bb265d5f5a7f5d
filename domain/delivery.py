"""What to do after a provider answered: retry when, give up when, fall back when.

Retries back off exponentially with jitter, so that a provider's outage does not
end in every dispatcher retrying in lock-step; they are bounded, so a message
that can never go stops being retried and shows as failed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=5)
MAX_ATTEMPTS = 8


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
    return channel == "push" and kind in ("alert", "action") and outcome == "failed"


def wave_handed_off(pending: int, handled: int, handled_at_last_milestone: int) -> bool:
    """Whether to announce that an event's messages have all been handed to a provider:
    none due is still waiting, and some were handled since the last announcement (a new
    wave: the alert, an action change, the ending). Reminders due later do not count."""
    return pending == 0 and handled > handled_at_last_milestone
