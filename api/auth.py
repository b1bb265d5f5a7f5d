"""Who is calling: JWT bearer tokens, and the caller's roles loaded per request.

Roles are read from the database on every request (not baked into the token)
so that removing a substitute or a departed teacher takes effect at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec
from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from db import users
from domain.errors import NotFound
from domain.roles import Role

# Paths that work without a token (health checks, sign-in, provider webhooks).
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/metrics$", "^/schema", "^/v1/auth/", "^/v1/webhooks/"]


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """The signed-in person and the role they hold in each school they reach."""

    user_id: uuid.UUID
    name: str
    phone: str
    roles: dict[uuid.UUID, Role]

    def role_at(self, school_id: uuid.UUID, *, missing: str | None = None) -> Role:
        """The caller's role at a school; NotFound (not 403) when they have none, so
        that another district's ids reveal nothing. `missing` words the 404 for the
        thing asked for (e.g. "no event <id>"), which must not name the school."""
        role = self.roles.get(school_id)
        if role is None:
            raise NotFound(missing or f"no school {school_id}")
        return role


def issue_access_token(user_id: uuid.UUID, secret: str, now: datetime, ttl_s: int) -> str:
    """A signed access token for `user_id`, valid `ttl_s` seconds from `now`."""
    token = Token(sub=str(user_id), iat=now, exp=now + timedelta(seconds=ttl_s),
                  extras={"typ": "access"})
    return token.encode(secret, "HS256")


async def _retrieve_caller(token: Token, connection: ASGIConnection) -> Caller | None:
    """Load the caller named by a valid token; None (401) if they no longer exist."""
    if token.extras.get("typ") != "access":
        return None
    try:
        user_id = uuid.UUID(token.sub)
    except ValueError:
        return None
    state = connection.app.state
    async with state.pool.acquire() as conn:
        found = await users.load_caller(conn, user_id, state.clock())
    if found is None:
        return None
    return Caller(user_id=user_id, name=found.name, phone=found.phone, roles=found.roles)


def jwt_auth(secret: str) -> JWTAuth[Caller]:
    """Litestar's JWT middleware, configured for Muster."""
    return JWTAuth[Caller](
        retrieve_user_handler=_retrieve_caller,
        token_secret=secret,
        exclude=PUBLIC_PATHS,
        description="Access token from POST /v1/auth/token or `muster token`.",
    )
