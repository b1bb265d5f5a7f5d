"""Who is calling: the signed-in person and their roles, kept a short while per process.

Roles are read from the database (not baked into the token), so that removing a
substitute or a departed teacher takes effect at once in this process, and within the
cache's `ttl` in the others.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import asyncpg

from db import users
from domain.errors import NotFound
from domain.language import Language
from domain.roles import Role
from domain.values import Value


class Caller(Value, kw_only=True):
    """The signed-in person and the role they hold in each school they reach."""

    user_id: uuid.UUID
    name: str  # their own (each school has its own entry for them)
    phone: str
    email: str | None
    roles: dict[uuid.UUID, Role]
    language: Language = Language.EN  # theirs at every school
    session_id: uuid.UUID | None = None  # None for operator tokens (`muster token`)

    def role_at(self, school_id: uuid.UUID, *, missing: str | None = None) -> Role:
        """The caller's role at a school; NotFound (not 403) when they have none, so
        that another district's ids reveal nothing. `missing` words the 404 for the
        thing asked for (e.g. "no event <id>"), which must not name the school."""
        role = self.roles.get(school_id)
        if role is None:
            raise NotFound(missing or f"no school {school_id}")
        return role


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
        caller = None if found is None else Caller(
            user_id=user_id, name=found.name, phone=found.phone, email=found.email,
            roles=found.roles, session_id=session_id, language=found.language)
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
