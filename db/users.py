"""Queries about people: callers, phones, memberships."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

import asyncpg
import msgspec

from db.pool import Connection
from domain.errors import Conflict
from domain.identity import Holding
from domain.language import Language
from domain.roles import Role, strongest
from domain.values import Value


class CallerRecord(Value):
    name: str
    phone: str
    email: str | None
    roles: dict[uuid.UUID, Role]
    changes_at: datetime | None  # when the first of these memberships expires
    language: Language = Language.EN


# load_caller -- the user and the schools their live memberships reach (a
# district_admin membership reaches every school of its district); nothing when
# the token's session has been signed out.
_LOAD_CALLER = """
select u.name, u.phone, u.email, u.language, s.id as school_id, m.role, m.expires_at
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


async def load_caller(conn: Connection, user_id: uuid.UUID,
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
    return CallerRecord(name=rows[0]["name"], phone=rows[0]["phone"],
                        email=rows[0]["email"], roles=roles,
                        changes_at=min(expiries, default=None),
                        language=Language(rows[0]["language"]))


async def find_user_id_by_phone(conn: Connection, phone: str) -> uuid.UUID | None:
    user_id: uuid.UUID | None = await conn.fetchval("select id from users where phone = $1",
                                                    phone)
    return user_id


def phone_taken(exc: asyncpg.UniqueViolationError) -> Conflict:
    """A write that gave someone a phone another person has: 409 (or not ours to name)."""
    if exc.constraint_name != "users_phone_key":
        raise exc
    return Conflict("that phone belongs to someone else (perhaps added a moment ago)")


# holdings -- a person's memberships (those still live only, if $2 is given)
_HOLDINGS = """
select district_id, school_id, role from memberships
where user_id = $1 and ($2::timestamptz is null or expires_at is null or expires_at > $2)
"""


async def holdings(conn: Connection, user_id: uuid.UUID,
                   live_at: datetime | None = None) -> list[Holding]:
    """Every membership of the person, or only those live at `live_at`."""
    rows = await conn.fetch(_HOLDINGS, user_id, live_at)
    return [msgspec.convert(dict(r), Holding) for r in rows]


class Reach(Value):
    """How a person is texted: their phone, in their language."""

    phone: str
    language: Language


async def lock_person(conn: Connection, user_id: uuid.UUID) -> Reach | None:
    """The person's phone and language, their row locked until the transaction ends (so
    that two changes of one person take turns); None if there is no such person."""
    row = await conn.fetchrow("select phone, language from users where id = $1 for update",
                              user_id)
    return Reach(row["phone"], Language(row["language"])) if row else None


async def set_phone(conn: Connection, user_id: uuid.UUID, phone: str) -> None:
    """The person's new sign-in identity; Conflict when the phone is someone else's."""
    try:
        await conn.execute("update users set phone = $2 where id = $1", user_id, phone)
    except asyncpg.UniqueViolationError as exc:
        raise phone_taken(exc) from None


async def set_own_details(conn: Connection, user_id: uuid.UUID, name: str,
                          email: str | None) -> None:
    """The person's own name and email (no school's directory entry changes)."""
    await conn.execute("update users set name = $2, email = $3 where id = $1",
                       user_id, name, email)


# set_language -- a person's language; the one they had (None: no such person)
_SET_LANGUAGE = """
update users u set language = $2 from (select language from users where id = $1 for update) old
where u.id = $1 returning old.language
"""


async def set_language(conn: Connection, user_id: uuid.UUID,
                       language: Language) -> Language | None:
    old = await conn.fetchval(_SET_LANGUAGE, user_id, language)
    return Language(old) if old else None
