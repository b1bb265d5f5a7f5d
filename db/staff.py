"""Queries about a school's staff: people and the membership that reaches the school.

A membership reaches a school when it is at that school, or when it is a district
admin's (school_id null) in the school's district. When a person holds both, the one
that counts is the live one, then the stronger role (as api/auth does).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

import asyncpg
import msgspec

from domain.errors import Conflict
from domain.roles import Role
from domain.roster import Member
from domain.schools import School


class StaffMember(msgspec.Struct, frozen=True, kw_only=True):
    """A person on a school's staff; `active` is false once a substitute's time is over."""

    user_id: uuid.UUID
    name: str
    phone: str
    email: str | None
    role: Role
    expires_at: datetime | None
    active: bool


class Membership(msgspec.Struct, frozen=True):
    user_id: uuid.UUID
    role: Role
    expires_at: datetime | None


_REACH = "(m.school_id = $1 or (m.school_id is null and m.district_id = $2))"
_LIVE = "(m.expires_at is null or m.expires_at > $3)"
_RANKED = "array[" + ", ".join(f"'{role}'" for role in Role) + "]"

# The people's fields and the membership that counts here ($1 school, $2 district, $3 now).
_PEOPLE = f"""
select u.id as user_id, u.name, u.phone, u.email, c.role, c.expires_at,
       coalesce(c.expires_at is null or c.expires_at > $3, false) as active
from users u
left join lateral (
    select m.role, m.expires_at from memberships m
    where m.user_id = u.id and {_REACH}
    order by {_LIVE} desc, array_position({_RANKED}, m.role) desc
    limit 1
) c on true
"""

# list_staff -- the school's staff by name, after the keyset (name, user_id)
_LIST = _PEOPLE + f"""
where u.id in (select m.user_id from memberships m where {_REACH})
  and ($4::text is null or (u.name, u.id) > ($4, $5::uuid))
order by u.name, u.id
limit $6
"""


def _member(row: asyncpg.Record) -> StaffMember:
    return msgspec.convert(dict(row), StaffMember)


async def list_staff(conn: asyncpg.Connection, school: School, now: datetime,
                     after: tuple[str, uuid.UUID] | None, limit: int) -> list[StaffMember]:
    name, last_id = after or (None, None)
    rows = await conn.fetch(_LIST, school.id, school.district_id, now, name, last_id, limit)
    return [_member(r) for r in rows]


# get_staff_member -- one person, if the school's staff
_GET = _PEOPLE + "where u.id = $4 and c.role is not null"


async def get_staff_member(conn: asyncpg.Connection, school: School, user_id: uuid.UUID,
                           now: datetime) -> StaffMember | None:
    row = await conn.fetchrow(_GET, school.id, school.district_id, now, user_id)
    return _member(row) if row else None


# members_by_phone -- the people with these phones, and their membership here if any
_BY_PHONE = _PEOPLE + "where u.phone = any($4::text[])"


async def members_by_phone(conn: asyncpg.Connection, school: School, phones: Collection[str],
                           now: datetime) -> dict[str, Member]:
    rows = await conn.fetch(_BY_PHONE, school.id, school.district_id, now, list(phones))
    return {r["phone"]: Member(user_id=r["user_id"], role=r["role"] and Role(r["role"]),
                               expires_at=r["expires_at"]) for r in rows}


# district_role -- the strongest live role a person holds anywhere in a district
_DISTRICT_ROLE = f"""
select m.role from memberships m
where m.user_id = $1 and m.district_id = $2 and (m.expires_at is null or m.expires_at > $3)
order by array_position({_RANKED}, m.role) desc
limit 1
"""


async def district_role(conn: asyncpg.Connection, user_id: uuid.UUID, district_id: uuid.UUID,
                        now: datetime) -> Role | None:
    role = await conn.fetchval(_DISTRICT_ROLE, user_id, district_id, now)
    return role and Role(role)


def _phone_taken(exc: asyncpg.UniqueViolationError) -> Conflict:
    if exc.constraint_name != "users_phone_key":
        raise exc
    return Conflict("that phone belongs to someone else (perhaps added a moment ago)")


async def insert_people(conn: asyncpg.Connection,
                        people: Sequence[tuple[uuid.UUID, str, str, str | None]]) -> None:
    """New users (id, name, phone, email); a phone that is taken is a Conflict."""
    try:
        await conn.executemany(
            "insert into users (id, name, phone, email) values ($1, $2, $3, $4)", people)
    except asyncpg.UniqueViolationError as exc:
        raise _phone_taken(exc) from None


async def update_person(conn: asyncpg.Connection, user_id: uuid.UUID, name: str, phone: str,
                        email: str | None) -> None:
    try:
        await conn.execute("update users set name = $2, phone = $3, email = $4 where id = $1",
                           user_id, name, phone, email)
    except asyncpg.UniqueViolationError as exc:
        raise _phone_taken(exc) from None


_REMOVE = f"delete from memberships m where m.user_id = $3 and {_REACH}"
_INSERT_MEMBERSHIP = """
insert into memberships (id, user_id, district_id, school_id, role, expires_at)
values ($1, $2, $3, $4, $5, $6)
"""


async def set_memberships(conn: asyncpg.Connection, school: School,
                          memberships: Sequence[Membership]) -> None:
    """Each person's membership reaching the school becomes the one given: at the school,
    or for district_admin the district's (which reaches its every school)."""
    await remove_memberships(conn, school, [m.user_id for m in memberships])
    await conn.executemany(_INSERT_MEMBERSHIP, [
        (uuid.uuid4(), m.user_id, school.district_id,
         None if m.role is Role.DISTRICT_ADMIN else school.id, m.role, m.expires_at)
        for m in memberships])


async def remove_memberships(conn: asyncpg.Connection, school: School,
                             user_ids: Sequence[uuid.UUID]) -> None:
    """Take these people off the school's staff (a district admin off the district's)."""
    await conn.executemany(_REMOVE, [(school.id, school.district_id, u) for u in user_ids])
