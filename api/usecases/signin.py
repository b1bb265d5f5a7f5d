"""Signing in from a phone: a code by SMS, then a session; refresh and sign out.

Nothing here tells whether a phone belongs to anyone: an unknown phone's code is made
and counted like any other (only no text is sent), and every refusal of a code or
refresh token is the same SignInRefused. Codes and refresh tokens are stored as keyed
digests, never as they are. Ending a session forgets its person's cached caller after
commit, so their next request here is refused.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime, timedelta

import asyncpg

from api.usecases.unit_of_work import UnitOfWork
from db import signin as db
from db import users
from db.users import CallerRecord
from domain import signin as rules
from domain.errors import SignInRefused, SlowDown
from domain.values import Value

log = logging.getLogger("muster.signin")

REFUSED = "that code is wrong, used or expired; ask for a new one"
_REFRESH_REFUSED = "this sign-in has ended; sign in again with a code"


class Keys(Value, kw_only=True):
    """What signing in needs of the settings: the secret codes are keyed with (and access
    tokens signed with), and how long, in seconds, each token lasts."""

    secret: str
    access_ttl: int
    refresh_ttl: int


class Session(Value, kw_only=True):
    """A sign-in on one device: its new refresh token (the access token is the caller's
    to issue), and who signed in, as they are now."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    refresh_token: str
    person: CallerRecord


async def ask_for_code(uow: UnitOfWork, keys: Keys, phone: str, address: str,
                       now: datetime) -> str | None:
    """A new sign-in code for `phone`; the text to send it in, in the member's language,
    if the phone is a member's (None: nothing is sent; the answer is the same, and so is
    the work: one query finds the member and their language). SlowDown past the limits
    of asking."""
    async with uow:
        code = await new_code(uow.conn, keys, phone, address, now)
        language = await db.member_language_by_phone(uow.conn, phone, now)
    return rules.sign_in_text(code, language) if language else None


async def sign_in(uow: UnitOfWork, keys: Keys, phone: str, code: str, address: str,
                  now: datetime) -> Session:
    """A new session for the member the code signs in; SignInRefused otherwise."""
    if not await use_code(uow, keys, phone, code, address, now):
        raise SignInRefused(REFUSED)
    user_id = await db.member_id_by_phone(uow.conn, phone, now)
    if user_id is None:
        raise SignInRefused(REFUSED)
    async with uow:
        return await open_session(uow.conn, keys, user_id, now)


async def refresh(uow: UnitOfWork, keys: Keys, token: str, now: datetime) -> Session:
    """The session continued with a new refresh token. One already exchanged and shown
    again ends the session (someone else holds a copy), except a retry within seconds
    of the exchange; SignInRefused for any token not honoured."""
    async with uow:
        found = await db.find_refresh_token(uow.conn, rules.refresh_token_digest(token))
        verdict = rules.judge_refresh(found, now) if found else rules.Refresh.REFUSE
        if found is None or verdict is rules.Refresh.REFUSE:
            raise SignInRefused(_REFRESH_REFUSED)
        if verdict is rules.Refresh.REUSE:
            await db.end_sessions(uow.conn, session_id=found.session_id, user_id=None,
                                  now=now, reason="reuse")
            uow.forget_callers([found.user_id])
        else:
            issued, refresh_id = await _issue(uow.conn, keys, found.user_id,
                                              found.session_id, now)
            await db.mark_replaced(uow.conn, found.id, refresh_id, now)
            if verdict is rules.Refresh.RETRY and found.replaced_by is not None:
                # the pair the phone never got is void
                await db.mark_replaced(uow.conn, found.replaced_by, refresh_id, now)
            await db.touch_session(uow.conn, found.session_id, now)
            return issued
    log.warning("refresh token reused; session %s of user %s ended", found.session_id,
                found.user_id)
    raise SignInRefused(_REFRESH_REFUSED)


async def sign_out(uow: UnitOfWork, token: str, everywhere: bool, now: datetime) -> None:
    """Ends the session of this refresh token (or, `everywhere`, all the user's) and
    removes the phones registered from it. Any token not live is let be: a reused one is
    dealt with by the next refresh, as theft."""
    async with uow:
        found = await db.find_refresh_token(uow.conn, rules.refresh_token_digest(token))
        live = (rules.Refresh.ROTATE, rules.Refresh.RETRY)
        if found is None or rules.judge_refresh(found, now) not in live:
            return
        await db.end_sessions(uow.conn, session_id=found.session_id,
                              user_id=found.user_id if everywhere else None, now=now,
                              reason="logout_everywhere" if everywhere else "logout")
        uow.forget_callers([found.user_id])


async def end_session(uow: UnitOfWork, user_id: uuid.UUID, session_id: uuid.UUID,
                      now: datetime) -> None:
    """Ends the session a request came from (a browser's sign-out) and removes the phones
    registered from it."""
    async with uow:
        await db.end_sessions(uow.conn, session_id=session_id, user_id=None, now=now,
                              reason="logout")
        uow.forget_callers([user_id])


async def new_code(conn: asyncpg.Connection, keys: Keys, phone: str, address: str,
                   now: datetime, for_user: uuid.UUID | None = None) -> str:
    """In the caller's transaction: a new code for `phone`, for signing in or (`for_user`)
    to make it that person's phone; stored as a keyed digest and counted against the
    limits of both kinds (SlowDown past them)."""
    code, code_id = rules.format_code(secrets.randbelow(10**rules.CODE_DIGITS)), uuid.uuid4()
    await db.lock_phone_and_address(conn, "otp", phone, address)  # one by one
    earlier = await db.recent_code_requests(conn, phone, address, now - rules.CODES.reach)
    _slow_down_if(rules.wait_under(rules.CODES, earlier, now), "too many codes asked for")
    digest = rules.code_digest(keys.secret, str(code_id), code)
    await db.insert_code(conn, code_id, phone, address, digest, now, now + rules.CODE_TTL,
                         for_user)
    return code


async def use_code(uow: UnitOfWork, keys: Keys, phone: str, code: str, address: str,
                   now: datetime, for_user: uuid.UUID | None = None) -> bool:
    """Whether `code` is a live one asked for `phone` (to sign in, or by `for_user` to make
    it theirs), and now used. In a transaction of its own, before the change it allows:
    wrong codes are counted per phone and client address (domain.signin.WRONG_CODES), not
    per code, so a stranger's guesses do not use up the member's code; the count is
    checked and added to while no other try for this phone or from this address can, so
    tries at once cannot pass a limit together (SlowDown past it)."""
    async with uow:
        await db.lock_phone_and_address(uow.conn, "try", phone, address)
        earlier = await db.recent_wrong_codes(uow.conn, phone, address,
                                              now - rules.WRONG_CODES.reach)
        wait = rules.wait_under(rules.WRONG_CODES, earlier, now)
        matched = None
        if wait is None:
            codes = await db.newest_codes(uow.conn, phone, for_user, now - rules.CODE_TTL)
            matched = rules.matching_code(keys.secret, codes, code, now)
            if matched is None:
                await db.insert_wrong_code(uow.conn, phone, address, now)
    if wait is not None:
        log.warning("codes for %s from %s refused: too many wrong ones", phone, address)
    _slow_down_if(wait, "too many wrong codes tried")
    return matched is not None and await db.consume_code(uow.conn, matched, now)


async def open_session(conn: asyncpg.Connection, keys: Keys, user_id: uuid.UUID,
                       now: datetime) -> Session:
    """In the caller's transaction: a new sign-in on this device."""
    session_id = uuid.uuid4()
    await db.open_session(conn, session_id, user_id, now)
    return (await _issue(conn, keys, user_id, session_id, now))[0]


async def _issue(conn: asyncpg.Connection, keys: Keys, user_id: uuid.UUID,
                 session_id: uuid.UUID, now: datetime) -> tuple[Session, uuid.UUID]:
    """A new refresh token for a session, with who the user is; and the token's id."""
    refresh_token, refresh_id = secrets.token_urlsafe(32), uuid.uuid4()
    await db.insert_refresh_token(conn, refresh_id, user_id, session_id,
                                  rules.refresh_token_digest(refresh_token), now,
                                  now + timedelta(seconds=keys.refresh_ttl))
    found = await users.load_caller(conn, user_id, session_id, now)
    if found is None:  # the user was deleted a moment ago
        raise SignInRefused(_REFRESH_REFUSED)
    return Session(session_id=session_id, user_id=user_id, refresh_token=refresh_token,
                   person=found), refresh_id


def _slow_down_if(wait: timedelta | None, what: str) -> None:
    if wait is not None:
        seconds = rules.retry_after_seconds(wait)
        raise SlowDown(f"{what}; try again in {seconds} s", retry_after_s=seconds)
