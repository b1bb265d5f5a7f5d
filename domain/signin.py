"""Signing in from a phone: one-time codes, how often they may be asked for, and
what a presented refresh token means.

A code is 6 digits, lives 5 minutes, is used once and allows 5 wrong tries; only
a keyed digest is stored, so a copy of the database does not give the codes away
(a plain hash of 6 digits is reversed by trying a million of them).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_WRONG_TRIES = 5
# A phone that retries a refresh whose answer it never got (a lift, a stairwell) must
# not be signed out in the middle of a lockdown: a second use this soon is a retry.
REFRESH_RETRY_GRACE = timedelta(seconds=10)


class Limit(msgspec.Struct, frozen=True):
    """At most `count` requests in any `window`."""

    count: int
    window: timedelta


# Per phone: one code every 30 s, five an hour (a typo'd number is someone's phone).
PER_PHONE = (Limit(1, timedelta(seconds=30)), Limit(5, timedelta(hours=1)))
# Per client address: generous, because a whole school signs in from one Wi-Fi on
# its first morning, yet enough to stop one machine from texting a city.
PER_ADDRESS = (Limit(60, timedelta(minutes=10)),)


def wait_before_next(earlier: Sequence[datetime], limits: Sequence[Limit],
                     now: datetime) -> timedelta | None:
    """How long until one more request fits under every limit, given the times of
    the earlier ones; None when it fits now."""
    waits = []
    for limit in limits:
        recent = sorted(t for t in earlier if now - limit.window < t <= now)
        if len(recent) >= limit.count:
            waits.append(recent[-limit.count] + limit.window - now)
    return max(waits, default=None)


def wait_for_code(by_phone: Sequence[datetime], by_address: Sequence[datetime],
                  now: datetime) -> timedelta | None:
    """How long until one more code may be asked for this phone from this address,
    given when the earlier ones were asked; None when it may be asked now."""
    waits = [wait_before_next(by_phone, PER_PHONE, now),
             wait_before_next(by_address, PER_ADDRESS, now)]
    return max((w for w in waits if w is not None), default=None)


# How far back the limits look.
LIMITS_REACH = max(limit.window for limit in (*PER_PHONE, *PER_ADDRESS))


def retry_after_seconds(wait: timedelta) -> int:
    """A `Retry-After` value: whole seconds, rounded up, at least 1."""
    return max(1, -int(-wait.total_seconds() // 1))


def format_code(number: int) -> str:
    """The code as the person types it: always six digits."""
    return f"{number:0{CODE_DIGITS}d}"


def code_digest(key: str, code_id: str, code: str) -> str:
    """The stored form of a code: keyed with the server secret and salted with the
    code's id, so equal codes never look equal and none can be guessed offline."""
    return hmac.new(key.encode(), f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(key: str, code_id: str, code: str, digest: str) -> bool:
    return hmac.compare_digest(code_digest(key, code_id, code), digest)


def sign_in_text(code: str) -> str:
    """The SMS: the code first (phones offer to paste it), no link to phish with."""
    return f"{code} is your Muster sign-in code. It expires in 5 minutes. Never share it."


def phone_change_text(code: str) -> str:
    """The SMS to a new phone: what the code is for, so that nobody pastes it elsewhere."""
    return (f"{code} is your Muster code to make this your phone number. It expires in 5 "
            "minutes. Never share it.")


def phone_changed_text(new_phone: str) -> str:
    """The SMS to the phone a person had: a change they did not make is theirs to report
    (only the last digits of the new one: the old phone may be in other hands)."""
    return (f"Your Muster phone number was changed to one ending in {new_phone[-4:]}. If "
            "you did not ask for this, tell your school's office at once.")


class StoredCode(msgspec.Struct, frozen=True, kw_only=True):
    """The latest code asked for a phone, as stored."""

    id: str
    digest: str
    expires_at: datetime
    attempts: int
    consumed: bool


def usable(code: StoredCode | None, now: datetime) -> bool:
    """Whether a code may still be tried: unexpired, unused, tries left."""
    return (code is not None and not code.consumed and now < code.expires_at
            and code.attempts < MAX_WRONG_TRIES)


def refresh_token_digest(token: str) -> str:
    """Refresh tokens are 256 random bits: a plain hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


class Refresh(StrEnum):
    """What presenting a refresh token means."""

    ROTATE = "rotate"  # the current token of a live session: replace it
    RETRY = "retry"  # just replaced; the phone never got the answer: replace again
    REUSE = "reuse"  # replaced a while ago: a copy is in other hands; end the session
    REFUSE = "refuse"  # expired, or its session has ended


class PresentedToken(msgspec.Struct, frozen=True, kw_only=True):
    expires_at: datetime
    replaced_at: datetime | None  # when it was rotated, if it was
    session_ended: bool


def judge_refresh(token: PresentedToken, now: datetime) -> Refresh:
    """Rotation with theft detection: a rotated token shown again (outside the short
    retry grace) means two holders, so the whole session is revoked."""
    if token.session_ended:
        return Refresh.REFUSE
    if token.replaced_at is not None:
        return Refresh.RETRY if now - token.replaced_at <= REFRESH_RETRY_GRACE else Refresh.REUSE
    if now >= token.expires_at:
        return Refresh.REFUSE
    return Refresh.ROTATE
