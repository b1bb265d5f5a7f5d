"""The Idempotency-Key store: the first answer to a request, kept for its retries."""

from __future__ import annotations

from typing import Any

import msgspec

from db.pool import Connection
from domain.idempotency import KeyScope, KeyUse, expired_before
from domain.values import Value


class StoredResponse(Value):
    first: KeyUse
    status: int
    body: Any


# claim -- a key's stored use and answer, in its scope (caller, method, path)
_CLAIM = """
select fingerprint, created_at, response_status, response_body from idempotency_keys
where user_id = $1 and method = $2 and path = $3 and key = $4
"""


async def claim(conn: Connection, scope: KeyScope) -> StoredResponse | None:
    """Hold the key for this transaction (a concurrent retry waits) and return the stored
    response, if the key was used before (expired or not: the domain decides)."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))",
                       "idempotency:" + msgspec.json.encode(scope).decode())
    row = await conn.fetchrow(_CLAIM, *msgspec.structs.astuple(scope))
    return StoredResponse(KeyUse(row[0], row[1]), row[2], row[3]) if row else None


# purge_expired -- keys first used before $1; rows another transaction holds are left for
# the next purge, so that two purges never wait on each other
_PURGE = """
delete from idempotency_keys where (user_id, method, path, key) in (
    select user_id, method, path, key from idempotency_keys where created_at < $1
    for update skip locked)
"""

# store -- the first answer to a key; an expired use of the same key is replaced
_STORE = """
insert into idempotency_keys (user_id, method, path, key, fingerprint, created_at,
                              response_status, response_body)
values ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb)
on conflict (user_id, method, path, key) do update set
    fingerprint = excluded.fingerprint, created_at = excluded.created_at,
    response_status = excluded.response_status, response_body = excluded.response_body
"""


async def store(conn: Connection, scope: KeyScope, use: KeyUse, status: int,
                body: bytes) -> None:
    """Keep the answer for the key's retries, and purge every key expired at the time of
    this use (a write is rare, and this keeps the table to about a day of keys without a
    timer of its own)."""
    await conn.execute(_PURGE, expired_before(use.at))
    await conn.execute(_STORE, *msgspec.structs.astuple(scope), use.fingerprint, use.at, status,
                       body.decode())
