"""Signing in from a phone: a code by SMS, then tokens; refresh and sign out.

`/v1/auth/*` needs no access token. The answers never tell whether a phone
belongs to anyone: an unknown phone gets the same 202 (and no SMS), and every
refusal of a code or refresh token is the same 401.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Annotated, NamedTuple

import asyncpg
import msgspec
from litestar import Request, Response, Router, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.params import JSONBody

from api.http.auth import issue_access_token
from api.http.deps import Conn, Now
from api.http.phones import to_e164
from api.http.problems import problem_specs
from api.http.texting import send_text
from db import signin as db
from db import users
from domain import signin as rules
from domain.errors import Invalid, SignInRefused, SlowDown
from domain.roles import Role

log = logging.getLogger("muster.signin")

Phone = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[^\x00]*$",
                                    examples=["+15125550103"])]
Code = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$", examples=["042817"])]
RefreshToken = Annotated[str, msgspec.Meta(min_length=1, max_length=200,
                                           pattern=r"^[A-Za-z0-9_-]+$")]

_REFUSED = "that code is wrong, used or expired; ask for a new one"
_REFRESH_REFUSED = "this sign-in has ended; sign in again with a code"


class CodeRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    phone: Phone


class CodeSent(msgspec.Struct, frozen=True):
    """Said for every well-formed phone, known or not."""

    expires_in: int  # seconds the code is valid


class TokenRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Either `phone` and `code`, or `refresh_token`."""

    phone: Phone | None = None
    code: Code | None = None
    refresh_token: RefreshToken | None = None


class Membership(msgspec.Struct, frozen=True):
    school_id: uuid.UUID
    role: Role


class UserOut(msgspec.Struct, frozen=True, kw_only=True):
    """The person as they name themselves (each school keeps its own entry for them)."""

    id: uuid.UUID
    name: str
    phone: str
    email: str | None
    memberships: list[Membership]  # the schools the user reaches today, and the role in each


class Tokens(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    refresh_token: str  # single use: each refresh answers a new one
    token_type: str = "Bearer"
    expires_in: int  # seconds the access token is valid
    user: UserOut


class LogoutRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    refresh_token: RefreshToken
    everywhere: bool = False  # end every sign-in of this user, not only this device's


@post("/otp", status_code=202, summary="Text a sign-in code to a phone",
      responses=problem_specs(400, 429))
async def ask_for_code(conn: Conn, now: Now, request: Request,
                       data: JSONBody[CodeRequest]) -> Response[CodeSent]:
    """A 6-digit code, valid 5 minutes, goes by SMS to a phone that belongs to a member;
    any other well-formed phone gets the same answer and nothing is sent. One code a
    minute per phone; asking too often for one phone from one address, or from one
    address at all, is 429 with Retry-After (domain.signin.CODES)."""
    phone = to_e164(data.phone)
    async with conn.transaction():
        code = await new_code(conn, request, phone, now)
        user_id = await db.member_id_by_phone(conn, phone, now)
    return code_sent(request, phone, rules.sign_in_text(code) if user_id else None)


async def new_code(conn: asyncpg.Connection, request: Request, phone: str, now: datetime,
                   for_user: uuid.UUID | None = None) -> str:
    """In the caller's transaction: a new code for `phone`, for signing in or (`for_user`)
    to make it that person's phone; stored as a keyed digest and counted against the
    limits of both kinds (SlowDown past them)."""
    address = _client_address(request)
    code, code_id = rules.format_code(secrets.randbelow(10**rules.CODE_DIGITS)), uuid.uuid4()
    await db.lock_phone_and_address(conn, "otp", phone, address)  # one by one
    earlier = await db.recent_code_requests(conn, phone, address, now - rules.CODES.reach)
    _slow_down_if(rules.wait_under(rules.CODES, earlier, now), "too many codes asked for")
    digest = rules.code_digest(request.app.state.secret, str(code_id), code)
    await db.insert_code(conn, code_id, phone, address, digest, now, now + rules.CODE_TTL,
                         for_user)
    return code


def code_sent(request: Request, phone: str, text: str | None) -> Response[CodeSent]:
    """The 202 every well-formed request gets, and `text` (if any) sent to `phone` after."""
    texting = text and BackgroundTask(send_text, request.app.state.texts, phone, text)
    return Response(CodeSent(expires_in=int(rules.CODE_TTL.total_seconds())), status_code=202,
                    background=texting or None)


def _client_address(request: Request) -> str:
    """The address limits are counted by: the peer, or what a configured trusted proxy
    forwarded for it (MUSTER_TRUSTED_PROXIES, applied by the server); an IPv6 /64 is one."""
    return rules.counted_address(request.client.host if request.client else "")


def _slow_down_if(wait: timedelta | None, what: str) -> None:
    if wait is not None:
        seconds = rules.retry_after_seconds(wait)
        raise SlowDown(f"{what}; try again in {seconds} s", retry_after_s=seconds)


@post("/token", status_code=200, summary="Sign in with a code, or refresh",
      responses=problem_specs(400, 401, 429))
async def sign_in(conn: Conn, now: Now, request: Request,
                  data: JSONBody[TokenRequest]) -> Tokens:
    """`{phone, code}` opens a session on this device; `{refresh_token}` continues it
    with a new pair. A refresh token already exchanged and shown again ends the session
    (someone else holds a copy), except a retry within seconds of the exchange. Too many
    wrong codes for a phone from one address, or for it from everywhere, is 429 with
    Retry-After (domain.signin.WRONG_CODES); any live code of the phone is accepted."""
    state = request.app.state
    if data.refresh_token is not None:
        if data.phone is not None or data.code is not None:
            raise Invalid("give either phone and code, or refresh_token", field="refresh_token")
        return await _refresh(conn, state, data.refresh_token, now)
    if data.phone is None or data.code is None:
        field = "phone" if data.phone is None else "code"
        raise Invalid("phone and code are required (or refresh_token)", field=field)
    phone = to_e164(data.phone)
    user_id = await _check_code(conn, request, phone, data.code, now)
    async with conn.transaction():
        return await open_session(conn, state, user_id, now)


async def open_session(conn: asyncpg.Connection, state: State, user_id: uuid.UUID,
                       now: datetime) -> Tokens:
    """In the caller's transaction: a new sign-in on this device, and its tokens."""
    session_id = uuid.uuid4()
    await db.open_session(conn, session_id, user_id, now)
    return (await _issue(conn, state, user_id, session_id, now)).tokens


class _Issued(NamedTuple):
    tokens: Tokens
    refresh_token_id: uuid.UUID


async def _issue(conn: asyncpg.Connection, state: State, user_id: uuid.UUID,
                 session_id: uuid.UUID, now: datetime) -> _Issued:
    """A new access token and refresh token for a session, with who the user is."""
    settings = state.settings
    refresh, refresh_id = secrets.token_urlsafe(32), uuid.uuid4()
    await db.insert_refresh_token(conn, refresh_id, user_id, session_id,
                                  rules.refresh_token_digest(refresh), now,
                                  now + timedelta(seconds=settings.refresh_token_ttl))
    found = await users.load_caller(conn, user_id, session_id, now)
    if found is None:  # the user was deleted a moment ago
        raise SignInRefused(_REFRESH_REFUSED)
    access = issue_access_token(user_id, state.secret, now, settings.access_token_ttl,
                                session_id)
    user = UserOut(id=user_id, name=found.name, phone=found.phone, email=found.email,
                   memberships=memberships(found.roles))
    return _Issued(Tokens(access_token=access, refresh_token=refresh,
                          expires_in=settings.access_token_ttl, user=user), refresh_id)


def memberships(roles: dict[uuid.UUID, Role]) -> list[Membership]:
    return [Membership(school_id, role) for school_id, role in sorted(roles.items())]


async def use_code(conn: asyncpg.Connection, request: Request, phone: str, code: str,
                   now: datetime, for_user: uuid.UUID | None = None) -> bool:
    """Whether `code` is a live one asked for `phone` (to sign in, or by `for_user` to make
    it theirs), and now used. Outside the caller's transaction: wrong codes are counted
    per phone and client address (domain.signin.WRONG_CODES), not per code, so a
    stranger's guesses do not use up the member's code; the count is checked and added to
    while no other try for this phone or from this address can, so tries at once cannot
    pass a limit together (SlowDown past it)."""
    address = _client_address(request)
    async with conn.transaction():
        await db.lock_phone_and_address(conn, "try", phone, address)
        earlier = await db.recent_wrong_codes(conn, phone, address, now - rules.WRONG_CODES.reach)
        wait = rules.wait_under(rules.WRONG_CODES, earlier, now)
        matched = None
        if wait is None:
            codes = await db.newest_codes(conn, phone, for_user, now - rules.CODE_TTL)
            matched = rules.matching_code(request.app.state.secret, codes, code, now)
            if matched is None:
                await db.insert_wrong_code(conn, phone, address, now)
    if wait is not None:
        log.warning("codes for %s from %s refused: too many wrong ones", phone, address)
    _slow_down_if(wait, "too many wrong codes tried")
    return matched is not None and await db.consume_code(conn, matched, now)


async def _check_code(conn: asyncpg.Connection, request: Request, phone: str, code: str,
                      now: datetime) -> uuid.UUID:
    """The member the code signs in."""
    if not await use_code(conn, request, phone, code, now):
        raise SignInRefused(_REFUSED)
    user_id = await db.member_id_by_phone(conn, phone, now)
    if user_id is None:
        raise SignInRefused(_REFUSED)
    return user_id


async def _refresh(conn: asyncpg.Connection, state: State, token: str, now: datetime) -> Tokens:
    async with conn.transaction():
        found = await db.find_refresh_token(conn, rules.refresh_token_digest(token))
        verdict = rules.judge_refresh(found, now) if found else rules.Refresh.REFUSE
        if verdict is rules.Refresh.REUSE:
            await db.end_sessions(conn, session_id=found.session_id, user_id=None, now=now,
                                  reason="reuse")
        elif verdict is not rules.Refresh.REFUSE:
            issued = await _issue(conn, state, found.user_id, found.session_id, now)
            await db.mark_replaced(conn, found.id, issued.refresh_token_id, now)
            if verdict is rules.Refresh.RETRY:  # the pair the phone never got is void
                await db.mark_replaced(conn, found.replaced_by, issued.refresh_token_id, now)
            await db.touch_session(conn, found.session_id, now)
            return issued.tokens
    if verdict is rules.Refresh.REUSE:
        log.warning("refresh token reused; session %s of user %s ended",
                    found.session_id, found.user_id)
        state.callers.forget(found.user_id)
    raise SignInRefused(_REFRESH_REFUSED)


@post("/logout", status_code=204, summary="Sign out this device, or everywhere",
      responses=problem_specs(400))
async def sign_out(conn: Conn, now: Now, request: Request,
                   data: JSONBody[LogoutRequest]) -> None:
    """Ends the session of this refresh token (or, with `everywhere`, all the user's) and
    removes the phones registered from it, which stop receiving alerts. Answers 204 for
    any token, valid or not, so it tells nothing about tokens."""
    async with conn.transaction():
        found = await db.find_refresh_token(conn, rules.refresh_token_digest(data.refresh_token))
        live = (rules.Refresh.ROTATE, rules.Refresh.RETRY)
        if found is None or rules.judge_refresh(found, now) not in live:
            return  # a reused token is dealt with by the next refresh, as theft
        await db.end_sessions(conn, session_id=found.session_id,
                              user_id=found.user_id if data.everywhere else None, now=now,
                              reason="logout_everywhere" if data.everywhere else "logout")
    request.app.state.callers.forget(found.user_id)


router = Router("/v1/auth", route_handlers=[ask_for_code, sign_in, sign_out], tags=["sign-in"])
