"""The Idempotency-Key store: the first answer to a request, kept for its retries."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec


class StoredResponse(msgspec.Struct, frozen=True):
    fingerprint: str
    status: int
    body: Any


async def claim(conn: asyncpg.Connection, user_id: uuid.UUID, key: str) -> StoredResponse | None:
    """Hold the key for this transaction (a concurrent retry waits) and return the stored
    response, if the key was used before."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))",
                       f"idempotency:{user_id}:{key}")
    row = await conn.fetchrow(
        "select fingerprint, response_status, response_body from idempotency_keys "
        "where user_id = $1 and key = $2", user_id, key)
    return StoredResponse(*row) if row else None


async def store(conn: asyncpg.Connection, user_id: uuid.UUID, key: str, fingerprint: str,
                status: int, body: bytes) -> None:
    await conn.execute(
        "insert into idempotency_keys (user_id, key, fingerprint, response_status, "
        "response_body) values ($1, $2, $3, $4, $5::text::jsonb)",
        user_id, key, fingerprint, status, body.decode())
