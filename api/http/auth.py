"""Who is calling, over HTTP: JWT bearer tokens, verified and turned into a `Caller`.

The token names the person (and their session); their roles are not in it but
come from api/usecases/callers.py, so that a removed membership stops working at once.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any, ClassVar

from litestar.connection import ASGIConnection
from litestar.openapi.spec import Components, SecurityScheme
from litestar.security.jwt import JWTAuth, Token

from api.usecases.callers import Caller

# Paths that work without a token (health checks, sign-in, provider webhooks; an alert's
# links, whose own token is the credential).
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/metrics$", "^/schema", "^/v1/auth/", "^/v1/webhooks/",
                "^/v1/links/"]


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
    state = connection.app.state
    return await state.callers.get(user_id, session_id, state.pool, state.clock())


class BearerAuth(JWTAuth[Caller]):
    """Litestar's JWT auth, described as OpenAPI 3.1 allows: an `http` scheme has no
    `name` (Litestar adds one, which validators refuse); the header is Authorization."""

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
        exclude=PUBLIC_PATHS,
        description="Access token from POST /v1/auth/token or `muster token`.",
    )
