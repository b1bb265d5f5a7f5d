"""Who is calling: JWT bearer tokens, and the caller's roles loaded per request.

Roles are read from the database on every request (not baked into the token)
so that removing a substitute or a departed teacher takes effect at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self

import asyncpg
import msgspec
from litestar.connection import ASGIConnection
from litestar.openapi.spec import Components, SecurityScheme
from litestar.security.jwt import JWTAuth, Token

from db import users
from domain.errors import NotFound
from domain.roles import Role

# Paths that work without a token (health checks, sign-in, provider webhooks).
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/metrics$", "^/schema", "^/v1/auth/", "^/v1/webhooks/"]


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """The signed-in person and the role they hold in each school they reach."""

    user_id: uuid.UUID
    name: str  # their own (each school has its own entry for them)
    phone: str
    email: str | None
    roles: dict[uuid.UUID, Role]
    session_id: uuid.UUID | None = None  # None for operator tokens (`muster token`)

    def role_at(self, school_id: uuid.UUID, *, missing: str | None = None) -> Role:
        """The caller's role at a school; NotFound (not 403) when they have none, so
        that another district's ids reveal nothing. `missing` words the 404 for the
        thing asked for (e.g. "no event <id>"), which must not name the school."""
        role = self.roles.get(school_id)
        if role is None:
            raise NotFound(missing or f"no school {school_id}")
        return role


class _VerifiedToken(Token):
    """A token whose signature this process checked in the last minute is not checked
    again (its expiry still is): in a storm, each phone sends the same token many
    times a second, and verification cost more than the rest of a check-in's Python."""

    _verified: ClassVar[dict[tuple[str, str], tuple[float, Token]]] = {}

    @classmethod
    def decode(cls, encoded_token: str, secret: str, algorithm: str, **checks: Any) -> Self:
        now = time.time()
        key = (secret, encoded_token)
        seen = cls._verified.get(key)
        if seen is not None and seen[0] > now and seen[1].exp.timestamp() > now:
            return seen[1]  # type: ignore[return-value]
        token = super().decode(encoded_token, secret, algorithm, **checks)
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


class CallerCache:
    """Callers loaded in the last `ttl` seconds, so that a phone's burst of requests
    (a storm of check-ins) costs one membership query, not one each. A removed
    membership therefore still works for at most `ttl` seconds in another process (in
    this one, `forget` drops it at once); an expiring one ends exactly at its expiry.
    Requests that miss together share one load: a person's open streams all judge their
    access when the entry expires, and 200 of them had queued 200 queries ahead of
    everyone else's on the pool."""

    def __init__(self, ttl: timedelta = timedelta(seconds=2), max_size: int = 10_000) -> None:
        self._ttl, self._max_size = ttl, max_size
        self._entries: dict[tuple[uuid.UUID, uuid.UUID | None],
                            tuple[datetime, Caller | None]] = {}
        self._loading: dict[tuple[uuid.UUID, uuid.UUID | None],
                            asyncio.Future[tuple[datetime, Caller | None]]] = {}

    async def get(self, user_id: uuid.UUID, session_id: uuid.UUID | None, pool: asyncpg.Pool,
                  now: datetime) -> Caller | None:
        """The caller, or None when the user is gone or the session has ended."""
        key = (user_id, session_id)
        cached = self._entries.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load(key, pool, now))
            self._loading[key] = loading
            loading.add_done_callback(lambda done: self._keep(key, done))
        # one request going away leaves the others theirs
        return (await asyncio.shield(loading))[1]

    async def _load(self, key: tuple[uuid.UUID, uuid.UUID | None], pool: asyncpg.Pool,
                    now: datetime) -> tuple[datetime, Caller | None]:
        """The caller, and until when to keep them."""
        user_id, session_id = key
        async with pool.acquire() as conn:
            found = await users.load_caller(conn, user_id, session_id, now)
        caller = found and Caller(user_id=user_id, name=found.name, phone=found.phone,
                                  email=found.email, roles=found.roles, session_id=session_id)
        fresh_until = now + self._ttl
        if found and found.changes_at:  # a substitute's access ends on the dot
            fresh_until = min(fresh_until, found.changes_at)
        return fresh_until, caller

    def _keep(self, key: tuple[uuid.UUID, uuid.UUID | None],
              done: asyncio.Future[tuple[datetime, Caller | None]]) -> None:
        """Keep a load's caller, unless `forget` came while it loaded."""
        if self._loading.get(key) is not done:
            return
        del self._loading[key]
        if done.cancelled() or done.exception() is not None:
            return
        if len(self._entries) >= self._max_size:
            self._entries.clear()  # crude but bounded; a refill costs one query per caller
        self._entries[key] = done.result()

    def forget(self, user_id: uuid.UUID) -> None:
        """Drop a user's cached entries after a change to them in this process (other
        processes see it when their entry expires); a load under way is not kept."""
        for key in [k for k in self._entries if k[0] == user_id]:
            del self._entries[key]
        for key in [k for k in self._loading if k[0] == user_id]:
            del self._loading[key]


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
