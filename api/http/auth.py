"""Who is calling, over HTTP: JWT bearer tokens (apps) or the browser's session cookie,
verified and turned into a `Caller`.

The token names the person (and their session); their roles are not in it but
come from api/usecases/callers.py, so that a removed membership stops working at once.

A browser holds the same kind of token in an HttpOnly, SameSite=Strict cookie. A cookie is
sent by the browser whoever wrote the page, so a request that changes anything and is
authenticated by the cookie alone must also carry the session's CSRF token in a header
(`X-CSRF-Token`), which only Muster's own pages can read. A request with an Authorization
header is judged by that header alone: another site cannot set it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from datetime import datetime, timedelta
from typing import Any, ClassVar

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.openapi.spec import Components, SecurityScheme
from litestar.security.jwt import JWTCookieAuth, Token

from api.usecases.callers import Caller

# Paths that work without a token (health checks, sign-in, provider webhooks; an alert's
# links and a contact's read-only links, whose own token is the credential).
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/metrics$", "^/schema", "^/v1/auth/", "^/v1/webhooks/",
                "^/v1/links/", "^/v1/watch/"]
SESSION_COOKIE = "muster_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _VerifiedToken(Token):
    """A token whose signature this process checked in the last minute is not checked
    again (its expiry still is): in a storm, each phone sends the same token many
    times a second, and verification cost more than the rest of a check-in's Python."""

    _verified: ClassVar[dict[tuple[str, str], tuple[float, _VerifiedToken]]] = {}

    @classmethod
    def decode(cls, encoded_token: str, secret: str, *args: Any,
               **checks: Any) -> _VerifiedToken:
        # the algorithm and Token.decode's checks pass through as they came
        now = time.time()
        key = (secret, encoded_token)
        seen = cls._verified.get(key)
        if seen is not None and seen[0] > now and seen[1].exp.timestamp() > now:
            return seen[1]
        token = super().decode(encoded_token, secret, *args, **checks)
        if len(cls._verified) >= 10_000:
            cls._verified.clear()  # bounded; a refill costs one verification per token
        cls._verified[key] = (now + 60, token)
        return token


def issue_access_token(user_id: uuid.UUID, secret: str, now: datetime, ttl_s: int,
                       session_id: uuid.UUID | None = None) -> str:
    """A signed access token for `user_id`, valid `ttl_s` seconds from `now`; one from
    a phone's sign-in names its session, and stops working when that session ends."""
    extras = {"typ": "access"} | ({"sid": str(session_id)} if session_id else {})
    token = Token(sub=str(user_id), iat=now, exp=now + timedelta(seconds=ttl_s), extras=extras)
    return token.encode(secret, "HS256")


def csrf_token(secret: str, session_id: uuid.UUID) -> str:
    """The CSRF token of a browser session: derived from the session, so nothing is stored
    and it ends with the session; unreadable to another site, which cannot read our pages."""
    mac = hmac.new(secret.encode(), f"csrf:{session_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def session_cookie(token: str | None, *, max_age: int, secure: bool) -> Cookie:
    """The browser session's cookie holding `token` (None clears it): never readable by
    scripts, never sent with another site's requests, only over https when we serve it."""
    return Cookie(key=SESSION_COOKIE, value=token or "", max_age=max_age if token else 0,
                  path="/", httponly=True, samesite="strict", secure=secure)


def _check_csrf(session_id: uuid.UUID | None, connection: ASGIConnection) -> None:
    """Refuse a state-changing request that only the session cookie authenticates unless
    it carries the session's CSRF token (see the module's docstring)."""
    from_header = connection.headers.get("authorization", "").partition(" ")[-1]
    if connection.scope.get("method", "GET") in _SAFE_METHODS or from_header:
        return  # the middleware took the header's token, as it does whenever there is one
    if session_id is None:  # `muster token`'s tokens belong in a header, not a cookie
        raise NotAuthorizedException("a browser's cookie must come from signing in")
    given = connection.headers.get(CSRF_HEADER, "")
    expected = csrf_token(connection.app.state.secret, session_id)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise PermissionDeniedException(
            f"this request changes something and came with the session cookie only: it "
            f"needs the page's {CSRF_HEADER} header")


async def _retrieve_caller(token: Token, connection: ASGIConnection) -> Caller | None:
    """Load the caller named by a valid token; None (401) if they no longer exist."""
    if token.extras.get("typ") != "access":
        return None
    try:
        user_id = uuid.UUID(token.sub)
        sid = token.extras.get("sid")
        session_id = uuid.UUID(sid) if sid is not None else None
    except (ValueError, TypeError, AttributeError):
        return None
    _check_csrf(session_id, connection)
    state = connection.app.state
    return await state.callers.get(user_id, session_id, state.pool, state.clock())


class BearerAuth(JWTCookieAuth[Caller, Token]):
    """Litestar's JWT auth from the Authorization header or, failing that, the session
    cookie; described as OpenAPI 3.1 allows: an `http` scheme has no `name` (Litestar adds
    one, which validators refuse); apps use the Authorization header."""

    @property
    def openapi_components(self) -> Components:
        return Components(security_schemes={self.openapi_security_scheme_name: SecurityScheme(
            type="http", scheme="Bearer", bearer_format="JWT", description=self.description)})


def jwt_auth(secret: str) -> BearerAuth:
    """Litestar's JWT middleware, configured for Muster."""
    return BearerAuth(
        retrieve_user_handler=_retrieve_caller,
        token_secret=secret,
        token_cls=_VerifiedToken,
        key=SESSION_COOKIE,
        exclude=PUBLIC_PATHS,
        description="Access token from POST /v1/auth/token or `muster token`.",
    )
