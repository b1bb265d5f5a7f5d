"""Queries about people: callers, phones, memberships."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

import asyncpg
import msgspec

from domain.roles import Role, strongest


class CallerRecord(msgspec.Struct, frozen=True):
    name: str
    phone: str
    roles: dict[uuid.UUID, Role]
    changes_at: datetime | None  # when the first of these memberships expires


# load_caller -- the user and the schools their live memberships reach (a
# district_admin membership reaches every school of its district); nothing when
# the token's session has been signed out.
_LOAD_CALLER = """
select u.name, u.phone, s.id as school_id, m.role, m.expires_at
from users u
left join memberships m
       on m.user_id = u.id and (m.expires_at is null or m.expires_at > $2)
left join schools s
       on s.id = m.school_id or (m.school_id is null and s.district_id = m.district_id)
where u.id = $1
  and ($3::uuid is null
       or exists (select 1 from sessions x where x.id = $3 and x.user_id = u.id
                                             and x.ended_at is null))
"""


async def load_caller(conn: asyncpg.Connection, user_id: uuid.UUID,
                      session_id: uuid.UUID | None, now: datetime) -> CallerRecord | None:
    """None when there is no such user, or `session_id` names no live session of theirs."""
    rows = await conn.fetch(_LOAD_CALLER, user_id, now, session_id)
    if not rows:
        return None
    reached: dict[uuid.UUID, list[Role]] = defaultdict(list)
    for row in rows:
        if row["school_id"] is not None:
            reached[row["school_id"]].append(Role(row["role"]))
    roles = {school: strongest(held) for school, held in reached.items()}
    expiries = [row["expires_at"] for row in rows if row["expires_at"] is not None]
    return CallerRecord(name=rows[0]["name"], phone=rows[0]["phone"], roles=roles,
                        changes_at=min(expiries, default=None))


async def find_user_id_by_phone(conn: asyncpg.Connection, phone: str) -> uuid.UUID | None:
    return await conn.fetchval("select id from users where phone = $1", phone)
