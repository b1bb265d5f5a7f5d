"""Signing in from a phone over HTTP: a code by SMS, then tokens; refresh and sign out
(the work: api/usecases/signin.py).

`/v1/auth/*` needs no access token. The answers never tell whether a phone
belongs to anyone: an unknown phone gets the same 202 (and no SMS), and every
refusal of a code or refresh token is the same 401.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Request, Response, Router, post
from litestar.background_tasks import BackgroundTask
from litestar.params import JSONBody

from api.http.auth import csrf_token, issue_access_token, session_cookie
from api.http.body import Body
from api.http.deps import Config, Keys, Now, Texts, Work
from api.http.problems import problem_specs
from api.http.texting import send_text
from api.usecases import signin
from api.usecases.phones import to_e164
from api.usecases.signin import Session
from domain import signin as rules
from domain.errors import Invalid
from domain.language import Language
from domain.roles import Role
from domain.values import Value
from notifications.senders import TextSender

Phone = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[^\x00]*$",
                                    examples=["+15125550103"])]
Code = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$", examples=["042817"])]
RefreshToken = Annotated[str, msgspec.Meta(min_length=1, max_length=200,
                                           pattern=r"^[A-Za-z0-9_-]+$")]


class CodeRequest(Body):
    phone: Phone


class CodeSent(Value):
    """Said for every well-formed phone, known or not."""

    expires_in: int  # seconds the code is valid


class TokenRequest(Body, kw_only=True):
    """Either `phone` and `code`, or `refresh_token`."""

    phone: Phone | None = None
    code: Code | None = None
    refresh_token: RefreshToken | None = None


class Membership(Value):
    school_id: uuid.UUID
    role: Role


class UserOut(Value, kw_only=True):
    """The person as they name themselves (each school keeps its own entry for them)."""

    id: uuid.UUID
    name: str
    phone: str
    email: str | None
    memberships: list[Membership]  # the schools the user reaches today, and the role in each
    language: Language  # what Muster writes to them in, at every school


class Tokens(Value, kw_only=True):
    access_token: str
    refresh_token: str  # single use: each refresh answers a new one
    token_type: str = "Bearer"
    expires_in: int  # seconds the access token is valid
    user: UserOut


class BrowserSignIn(Body, kw_only=True):
    phone: Phone
    code: Code


class BrowserSession(Value, kw_only=True):
    """A browser's sign-in; the session itself is in an HttpOnly cookie, which scripts
    cannot read. Send `csrf_token` as X-CSRF-Token with every request that changes
    anything."""

    csrf_token: str
    expires_in: int  # seconds the browser stays signed in
    user: UserOut


class LogoutRequest(Body, kw_only=True):
    refresh_token: RefreshToken
    everywhere: bool = False  # end every sign-in of this user, not only this device's


@post("/otp", status_code=202, summary="Text a sign-in code to a phone",
      responses=problem_specs(400, 429))
async def ask_for_code(uow: Work, keys: Keys, texts: Texts, now: Now, request: Request,
                       data: JSONBody[CodeRequest]) -> Response[CodeSent]:
    """A 6-digit code, valid 5 minutes, goes by SMS to a phone that belongs to a member;
    any other well-formed phone gets the same answer and nothing is sent. One code a
    minute per phone; asking too often for one phone from one address, or from one
    address at all, is 429 with Retry-After (domain.signin.CODES)."""
    phone = to_e164(data.phone)
    text = await signin.ask_for_code(uow, keys, phone, client_address(request), now)
    return code_sent(texts, phone, text)


def code_sent(texts: TextSender, phone: str, text: str | None) -> Response[CodeSent]:
    """The 202 every well-formed request gets, and `text` (if any) sent to `phone` after."""
    texting = text and BackgroundTask(send_text, texts, phone, text)
    return Response(CodeSent(expires_in=int(rules.CODE_TTL.total_seconds())), status_code=202,
                    background=texting or None)


def client_address(request: Request) -> str:
    """The address limits are counted by: the peer, or what a configured trusted proxy
    forwarded for it (MUSTER_TRUSTED_PROXIES, applied by the server); an IPv6 /64 is one."""
    return rules.counted_address(request.client.host if request.client else "")


@post("/token", status_code=200, summary="Sign in with a code, or refresh",
      responses=problem_specs(400, 401, 429))
async def sign_in(uow: Work, keys: Keys, now: Now, request: Request,
                  data: JSONBody[TokenRequest]) -> Tokens:
    """`{phone, code}` opens a session on this device; `{refresh_token}` continues it
    with a new pair. A refresh token already exchanged and shown again ends the session
    (someone else holds a copy), except a retry within seconds of the exchange. Too many
    wrong codes for a phone from one address, or for it from everywhere, is 429 with
    Retry-After (domain.signin.WRONG_CODES); any live code of the phone is accepted."""
    if data.refresh_token is not None:
        if data.phone is not None or data.code is not None:
            raise Invalid("give either phone and code, or refresh_token", field="refresh_token")
        return tokens(keys, await signin.refresh(uow, keys, data.refresh_token, now), now)
    if data.phone is None or data.code is None:
        field = "phone" if data.phone is None else "code"
        raise Invalid("phone and code are required (or refresh_token)", field=field)
    session = await signin.sign_in(uow, keys, to_e164(data.phone), data.code,
                                   client_address(request), now)
    return tokens(keys, session, now)


@post("/browser", status_code=200, summary="Sign a browser in with a code (cookie session)",
      responses=problem_specs(400, 401, 429))
async def sign_in_browser(
    uow: Work, keys: Keys, settings: Config, now: Now, request: Request,
    data: JSONBody[BrowserSignIn],
) -> Response[BrowserSession]:
    """As `/token` with a phone and code, for Muster's own pages: the session is set as an
    HttpOnly, SameSite=Strict cookie (Secure when MUSTER_PUBLIC_URL is https) that lasts
    MUSTER_BROWSER_SESSION_TTL; there is no refresh token. `DELETE /v1/me/session` ends it.
    The body must come as application/json, which another site's form cannot send: it
    cannot sign a browser into someone else's account."""
    if request.content_type[0] != "application/json":
        raise Invalid("send the phone and code as application/json", field="content-type")
    session = await signin.sign_in(uow, keys, to_e164(data.phone), data.code,
                                   client_address(request), now)
    ttl = settings.browser_session_ttl
    access = issue_access_token(session.user_id, keys.secret, now, ttl, session.session_id)
    body = BrowserSession(csrf_token=csrf_token(keys.secret, session.session_id),
                          expires_in=ttl, user=user_out(session))
    return Response(body, cookies=[session_cookie(access, max_age=ttl,
                                                  secure=settings.secure_cookies)])


def tokens(keys: signin.Keys, session: Session, now: datetime) -> Tokens:
    """A session's answer: a new access token for it, its refresh token, and who it is."""
    access = issue_access_token(session.user_id, keys.secret, now, keys.access_ttl,
                                session.session_id)
    return Tokens(access_token=access, refresh_token=session.refresh_token,
                  expires_in=keys.access_ttl, user=user_out(session))


def user_out(session: Session) -> UserOut:
    person = session.person
    return UserOut(id=session.user_id, name=person.name, phone=person.phone,
                   email=person.email, memberships=memberships(person.roles),
                   language=person.language)


def memberships(roles: dict[uuid.UUID, Role]) -> list[Membership]:
    return [Membership(school_id, role) for school_id, role in sorted(roles.items())]


@post("/logout", status_code=204, summary="Sign out this device, or everywhere",
      responses=problem_specs(400))
async def sign_out(uow: Work, now: Now, data: JSONBody[LogoutRequest]) -> None:
    """Ends the session of this refresh token (or, with `everywhere`, all the user's) and
    removes the phones registered from it, which stop receiving alerts. Answers 204 for
    any token, valid or not, so it tells nothing about tokens."""
    await signin.sign_out(uow, data.refresh_token, data.everywhere, now)


router = Router("/v1/auth", route_handlers=[ask_for_code, sign_in, sign_in_browser, sign_out],
                tags=["sign-in"])
