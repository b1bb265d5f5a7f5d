"""Signing in from a phone: one-time codes, how often they may be asked for and
tried, and what a presented refresh token means.

A code is 6 digits, lives 5 minutes and is used once; only a keyed digest is stored,
so a copy of the database does not give the codes away (a plain hash of 6 digits is
reversed by trying a million of them).

Nobody else can keep a member from signing in for more than a minute: the only limit
that anyone can fill for a phone is one code a minute. Every other limit is counted
per client address (what one client can do to a phone, or to everyone), so a stranger
who asks for codes or types wrong ones spends their own allowance, not the member's.
Any live code of the phone is accepted (a stranger's request does not void the
member's code), and the wrong codes tried for a phone from all addresses together
have a daily ceiling, which bounds the chance of guessing one (see `GUESSING_ODDS`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from domain.alerts import sms_text
from domain.language import Language
from domain.values import Value

CODE_DIGITS: Final = 6
CODE_TTL = timedelta(minutes=5)
# A phone that retries a refresh whose answer it never got (a lift, a stairwell) must
# not be signed out in the middle of a lockdown: a second use this soon is a retry.
REFRESH_RETRY_GRACE = timedelta(seconds=10)


class Limit(Value):
    """At most `count` requests in any `window`."""

    count: int
    window: timedelta


class Limits(Value, kw_only=True):
    """Limits counted for one phone (from anywhere), for one phone from one client
    address, and for one client address (any phone)."""

    phone: tuple[Limit, ...]
    phone_from_address: tuple[Limit, ...]
    address: tuple[Limit, ...]

    @property
    def reach(self) -> timedelta:
        """How far back the limits look."""
        return max(limit.window for limit in (*self.phone, *self.phone_from_address,
                                              *self.address))


class Earlier(Value, kw_only=True):
    """When the earlier requests that the limits count were made."""

    phone: Sequence[datetime]  # for this phone, from any address
    phone_from_address: Sequence[datetime]  # for this phone, from this address
    address: Sequence[datetime]  # from this address, for any phone


CODE_SPACING = timedelta(seconds=60)
CODES = Limits(
    # The only limit a stranger can fill for a member: it holds their code back 60 s.
    phone=(Limit(1, CODE_SPACING),),
    # How many texts one client can send to one phone.
    phone_from_address=(Limit(5, timedelta(hours=1)),),
    # Generous, because a whole school signs in from one Wi-Fi on its first morning,
    # yet enough to stop one machine from texting a city.
    address=(Limit(60, timedelta(minutes=10)),),
)
WRONG_CODES = Limits(
    # The ceiling for a phone, all addresses together: it bounds the guessing odds. One
    # address cannot reach it (10 < 30); three addresses at their daily most can.
    phone=(Limit(30, timedelta(days=1)),),
    # A member who mistypes five times waits 15 minutes on this network (or uses another).
    phone_from_address=(Limit(5, timedelta(minutes=15)), Limit(10, timedelta(days=1))),
    # Wrong codes for many phones from one address (trying a code on a whole staff list).
    address=(Limit(100, timedelta(hours=1)),),
)
# Codes of a phone alive at once: one a minute, each living 5 minutes.
LIVE_CODES = int(CODE_TTL / CODE_SPACING)


def guessing_odds(wrong_codes: int) -> float:
    """The most likely a guesser is to sign in after this many wrong codes: each one is
    compared with every live code of the phone, of a million possible."""
    return wrong_codes * LIVE_CODES / 10**CODE_DIGITS


def daily_most(limits: Sequence[Limit]) -> int:
    """The most requests a day these limits let through."""
    return min(limit.count * -(-timedelta(days=1) // limit.window) for limit in limits)


# The chance of signing in by guessing in a day: ≤ 30 × 5 / 10^6 = 0.015 % for a phone,
# however many addresses guess; ≤ 10 × 5 / 10^6 = 0.005 % from one address.
GUESSING_ODDS = guessing_odds(daily_most(WRONG_CODES.phone))


def counted_address(address: str) -> str:
    """What the per-address limits count a client as: its IPv4 address, or its IPv6
    /64, since a provider hands each customer at least a /64 to pick addresses from."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP (a Unix socket, a test client): as it is
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


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


def wait_under(limits: Limits, earlier: Earlier, now: datetime) -> timedelta | None:
    """How long until one more request for this phone from this address fits under
    every limit; None when it fits now."""
    waits = [wait_before_next(earlier.phone, limits.phone, now),
             wait_before_next(earlier.phone_from_address, limits.phone_from_address, now),
             wait_before_next(earlier.address, limits.address, now)]
    return max((w for w in waits if w is not None), default=None)


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


class Texts(Value, kw_only=True):
    """The sign-in texts in one language ("{code}", "{last4}" filled in)."""

    sign_in: str
    phone_change: str
    phone_changed: str


TEXTS: dict[Language, Texts] = {
    Language.EN: Texts(
        sign_in="{code} is your Muster sign-in code. It expires in 5 minutes. Never share it.",
        phone_change="{code} is your Muster code to make this your phone number. It expires "
                     "in 5 minutes. Never share it.",
        phone_changed="Your Muster phone number was changed to one ending in {last4}. If you "
                      "did not ask for this, tell your school's office at once.",
    ),
    Language.ES: Texts(
        sign_in="{code} es su código para entrar en Muster. Vence en 5 minutos. No lo "
                "comparta con nadie.",
        phone_change="{code} es su código de Muster para que este sea su número de teléfono. "
                     "Vence en 5 minutos. No lo comparta con nadie.",
        phone_changed="Su número de teléfono en Muster se cambió a uno que termina en {last4}. "
                      "Si usted no lo pidió, avise de inmediato a la oficina de su escuela.",
    ),
}


def sign_in_text(code: str, language: Language = Language.EN) -> str:
    """The SMS: the code first (phones offer to paste it), no link to phish with."""
    return sms_text(TEXTS[language].sign_in.format(code=code))


def phone_change_text(code: str, language: Language = Language.EN) -> str:
    """The SMS to a new phone: what the code is for, so that nobody pastes it elsewhere."""
    return sms_text(TEXTS[language].phone_change.format(code=code))


def phone_changed_text(new_phone: str, language: Language = Language.EN) -> str:
    """The SMS to the phone a person had: a change they did not make is theirs to report
    (only the last digits of the new one: the old phone may be in other hands)."""
    return sms_text(TEXTS[language].phone_changed.format(last4=new_phone[-4:]))


class StoredCode(Value, kw_only=True):
    """A code asked for a phone, as stored."""

    id: str
    digest: str
    expires_at: datetime
    consumed: bool


def usable(code: StoredCode, now: datetime) -> bool:
    """Whether a code may still be used: unexpired and unused."""
    return not code.consumed and now < code.expires_at


def matching_code(key: str, newest_first: Sequence[StoredCode], code: str,
                  now: datetime) -> str | None:
    """The id of the phone's live code that `code` is, if any. Only the newest
    `LIVE_CODES` count, whatever the store holds, so the guessing odds hold; each is
    compared, so the time taken does not tell which matched."""
    live = [stored for stored in newest_first[:LIVE_CODES] if usable(stored, now)]
    matches = [stored.id for stored in live if code_matches(key, stored.id, code, stored.digest)]
    return matches[0] if matches else None


def refresh_token_digest(token: str) -> str:
    """Refresh tokens are 256 random bits: a plain hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


class Refresh(StrEnum):
    """What presenting a refresh token means."""

    ROTATE = "rotate"  # the current token of a live session: replace it
    RETRY = "retry"  # just replaced; the phone never got the answer: replace again
    REUSE = "reuse"  # replaced a while ago: a copy is in other hands; end the session
    REFUSE = "refuse"  # expired, or its session has ended


class PresentedToken(Value, kw_only=True):
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
