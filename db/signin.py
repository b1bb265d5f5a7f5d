"""Queries for signing in: one-time codes, sessions and their refresh tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from db.pool import Connection
from domain.language import Language
from domain.signin import LIVE_CODES, Earlier, PresentedToken, StoredCode

# lock_phone_and_address -- serialise requests of one kind from one client address, then
# for one phone, until the transaction ends (always in that order, so two never wait on
# each other)
_LOCK = "select pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))"


async def lock_phone_and_address(conn: Connection, kind: str, phone: str,
                                 address: str) -> None:
    """Each limit is checked and the request counted while no other request it applies to
    can do the same (a lock per phone alone let a burst of phones from one address by)."""
    await conn.execute(_LOCK, f"muster-{kind}-from", address)
    await conn.execute(_LOCK, f"muster-{kind}", phone)


def _earlier(rows: list[asyncpg.Record]) -> Earlier:
    return Earlier(phone=[r["at"] for r in rows if r["same_phone"]],
                   phone_from_address=[r["at"] for r in rows
                                       if r["same_phone"] and r["same_address"]],
                   address=[r["at"] for r in rows if r["same_address"]])


# recent_code_requests -- when codes were asked for this phone or from this address
_RECENT_CODE_REQUESTS = """
select created_at as at, phone = $1 as same_phone, client_address = $2 as same_address
from auth_codes
where (phone = $1 or client_address = $2) and created_at > $3
"""


async def recent_code_requests(conn: Connection, phone: str, address: str,
                               since: datetime) -> Earlier:
    return _earlier(await conn.fetch(_RECENT_CODE_REQUESTS, phone, address, since))


# recent_wrong_codes -- when wrong codes were tried for this phone or from this address
_RECENT_WRONG_CODES = """
select tried_at as at, phone = $1 as same_phone, client_address = $2 as same_address
from wrong_codes
where (phone = $1 or client_address = $2) and tried_at > $3
"""


async def recent_wrong_codes(conn: Connection, phone: str, address: str,
                             since: datetime) -> Earlier:
    return _earlier(await conn.fetch(_RECENT_WRONG_CODES, phone, address, since))


# insert_wrong_code -- a wrong code was tried for this phone from this address
_INSERT_WRONG_CODE = """
insert into wrong_codes (phone, client_address, tried_at) values ($1, $2, $3)
"""


async def insert_wrong_code(conn: Connection, phone: str, address: str,
                            now: datetime) -> None:
    await conn.execute(_INSERT_WRONG_CODE, phone, address, now)


# member_id_by_phone -- a user who belongs somewhere today (only they get a code)
_MEMBER_BY_PHONE = """
select u.id, u.language from users u
where u.phone = $1
  and exists (select 1 from memberships m
              where m.user_id = u.id and (m.expires_at is null or m.expires_at > $2))
"""


async def member_id_by_phone(conn: Connection, phone: str,
                             now: datetime) -> uuid.UUID | None:
    user_id: uuid.UUID | None = await conn.fetchval(_MEMBER_BY_PHONE, phone, now)
    return user_id


async def member_language_by_phone(conn: Connection, phone: str,
                                   now: datetime) -> Language | None:
    """The language of the member with this phone (None: no member has it); one query,
    as the id's, so that asking costs the same for a known phone and an unknown one."""
    language = await conn.fetchval(_MEMBER_BY_PHONE, phone, now, column=1)
    return Language(language) if language else None


# insert_code -- a code asked for (also for unknown phones, so limits treat all alike)
_INSERT_CODE = """
insert into auth_codes (id, phone, client_address, code_hash, created_at, expires_at, user_id)
values ($1, $2, $3, $4, $5, $6, $7)
"""


async def insert_code(conn: Connection, code_id: uuid.UUID, phone: str, address: str,
                      digest: str, now: datetime, expires_at: datetime,
                      for_user: uuid.UUID | None = None) -> None:
    """A sign-in code, or (`for_user`) one to make `phone` that person's."""
    await conn.execute(_INSERT_CODE, code_id, phone, address, digest, now, expires_at, for_user)


# newest_codes -- the codes asked for a phone since a moment, newest first: to sign in
# ($2 null) or by the person $2 to make it theirs (neither kind works as the other)
_NEWEST_CODES = f"""
select id, code_hash, expires_at, consumed_at is not null as consumed
from auth_codes where phone = $1 and user_id is not distinct from $2 and created_at > $3
order by created_at desc limit {LIVE_CODES}
"""


async def newest_codes(conn: Connection, phone: str, for_user: uuid.UUID | None,
                       since: datetime) -> list[StoredCode]:
    rows = await conn.fetch(_NEWEST_CODES, phone, for_user, since)
    return [StoredCode(id=str(r["id"]), digest=r["code_hash"], expires_at=r["expires_at"],
                       consumed=r["consumed"]) for r in rows]


# consume_code -- use a code once; a concurrent second use finds it consumed
_CONSUME_CODE = """
update auth_codes set consumed_at = $2 where id = $1 and consumed_at is null returning id
"""


async def consume_code(conn: Connection, code_id: str, now: datetime) -> bool:
    return await conn.fetchval(_CONSUME_CODE, uuid.UUID(code_id), now) is not None


# open_session -- a new sign-in on one device
_OPEN_SESSION = """
insert into sessions (id, user_id, created_at, last_used_at) values ($1, $2, $3, $3)
"""


async def open_session(conn: Connection, session_id: uuid.UUID, user_id: uuid.UUID,
                       now: datetime) -> None:
    await conn.execute(_OPEN_SESSION, session_id, user_id, now)


# insert_refresh_token -- the session's current refresh token (only its digest)
_INSERT_REFRESH_TOKEN = """
insert into refresh_tokens (id, user_id, session_id, token_hash, created_at, expires_at)
values ($1, $2, $3, $4, $5, $6)
"""


async def insert_refresh_token(conn: Connection, token_id: uuid.UUID,
                               user_id: uuid.UUID, session_id: uuid.UUID, digest: str,
                               now: datetime, expires_at: datetime) -> None:
    await conn.execute(_INSERT_REFRESH_TOKEN, token_id, user_id, session_id, digest, now,
                       expires_at)


class FoundToken(PresentedToken, kw_only=True):
    id: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID
    replaced_by: uuid.UUID | None


# find_refresh_token -- a presented refresh token and its session, locked for rotation
_FIND_REFRESH_TOKEN = """
select t.id, t.user_id, t.session_id, t.expires_at, t.replaced_by,
       case when t.replaced_by is not null then t.revoked_at end as replaced_at,
       s.ended_at is not null as session_ended
from refresh_tokens t join sessions s on s.id = t.session_id
where t.token_hash = $1
for update of t, s
"""


async def find_refresh_token(conn: Connection, digest: str) -> FoundToken | None:
    row = await conn.fetchrow(_FIND_REFRESH_TOKEN, digest)
    return FoundToken(**dict(row)) if row is not None else None


# mark_replaced -- a rotated token points at its successor
_MARK_REPLACED = """
update refresh_tokens set replaced_by = $2, revoked_at = coalesce(revoked_at, $3)
where id = $1
"""


async def mark_replaced(conn: Connection, token_id: uuid.UUID, successor: uuid.UUID,
                        now: datetime) -> None:
    await conn.execute(_MARK_REPLACED, token_id, successor, now)


# touch_session -- the session was used now; so were the devices it registered
_TOUCH_SESSION = """
with touched as (update sessions set last_used_at = $2 where id = $1)
update devices set last_seen_at = $2 where session_id = $1
"""


async def touch_session(conn: Connection, session_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(_TOUCH_SESSION, session_id, now)


# end_sessions -- sign out one session, or all of a user's; their devices stop
# receiving alerts (a phone signed out may be in someone else's hands)
_END_SESSIONS = """
with ended as (
    update sessions set ended_at = $3, ended_reason = $4
    where ended_at is null and (id = $1 or ($2::uuid is not null and user_id = $2))
    returning id
), gone as (
    delete from devices where session_id in (select id from ended)
)
select id from ended
"""


async def end_sessions(conn: Connection, *, session_id: uuid.UUID | None,
                       user_id: uuid.UUID | None, now: datetime, reason: str) -> list[uuid.UUID]:
    """End `session_id`, or every live session of `user_id`; the ids that ended."""
    rows = await conn.fetch(_END_SESSIONS, session_id, user_id, now, reason)
    return [r["id"] for r in rows]
