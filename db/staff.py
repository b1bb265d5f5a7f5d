"""Queries about a school's staff: people and the membership that reaches the school.

A membership reaches a school when it is at that school, or when it is a district
admin's (school_id null) in the school's district. When a person holds both, the one
that counts is the live one, then the stronger role (as api/auth does). A school sees a
person's phone (who they are) and its own directory entry of them (name, email: the
membership's), never the entries of other schools.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

import asyncpg
import msgspec

from db.directory import RANKED
from db.pool import Connection
from db.users import phone_taken
from domain.language import Language
from domain.roles import Role
from domain.roster import Member
from domain.schools import School
from domain.values import Value


class StaffMember(Value, kw_only=True):
    """A person on a school's staff; `active` is false once a substitute's time is over."""

    user_id: uuid.UUID
    name: str
    phone: str
    email: str | None
    role: Role
    expires_at: datetime | None
    active: bool
    language: Language  # the person's own, at every school


class Membership(Value):
    """A membership and the school's directory entry for its person."""

    user_id: uuid.UUID
    role: Role
    expires_at: datetime | None
    name: str
    email: str | None


_REACH = "(m.school_id = $1 or (m.school_id is null and m.district_id = $2))"
_LIVE = "(m.expires_at is null or m.expires_at > $3)"
# The membership that counts here, of the person `u` ($1 school, $2 district, $3 now).
_COUNTS = f"""
    select m.id, m.role, m.expires_at, m.name, m.email from memberships m
    where m.user_id = u.id and {_REACH}
    order by {_LIVE} desc, array_position({RANKED}, m.role) desc
    limit 1
"""

# The people's phones and the membership that counts here, with the school's entry.
_PEOPLE = f"""
select u.id as user_id, c.name, u.phone, c.email, c.role, c.expires_at, u.language,
       coalesce(c.expires_at is null or c.expires_at > $3, false) as active
from users u
left join lateral ({_COUNTS}) c on true
"""

# list_staff -- the school's staff by name, after the keyset (name, user_id)
_LIST = _PEOPLE + f"""
where u.id in (select m.user_id from memberships m where {_REACH})
  and ($4::text is null or (c.name, u.id) > ($4, $5::uuid))
order by c.name, u.id
limit $6
"""


def _member(row: asyncpg.Record) -> StaffMember:
    return msgspec.convert(dict(row), StaffMember)


async def list_staff(conn: Connection, school: School, now: datetime,
                     after: tuple[str, uuid.UUID] | None, limit: int) -> list[StaffMember]:
    name, last_id = after or (None, None)
    rows = await conn.fetch(_LIST, school.id, school.district_id, now, name, last_id, limit)
    return [_member(r) for r in rows]


# get_staff_member -- one person, if the school's staff
_GET = _PEOPLE + "where u.id = $4 and c.role is not null"


async def get_staff_member(conn: Connection, school: School, user_id: uuid.UUID,
                           now: datetime) -> StaffMember | None:
    row = await conn.fetchrow(_GET, school.id, school.district_id, now, user_id)
    return _member(row) if row else None


# members_by_phone -- the people with these phones, and their membership here if any
_BY_PHONE = _PEOPLE + "where u.phone = any($4::text[])"


async def members_by_phone(conn: Connection, school: School, phones: Collection[str],
                           now: datetime) -> dict[str, Member]:
    """Who has these phones, and what this school has of them (nothing of anyone else's)."""
    rows = await conn.fetch(_BY_PHONE, school.id, school.district_id, now, list(phones))
    return {r["phone"]: Member(user_id=r["user_id"], role=r["role"] and Role(r["role"]),
                               expires_at=r["expires_at"], name=r["name"], email=r["email"],
                               language=Language(r["language"]))
            for r in rows}


# district_role -- the strongest live role a person holds anywhere in a district
_DISTRICT_ROLE = f"""
select m.role from memberships m
where m.user_id = $1 and m.district_id = $2 and (m.expires_at is null or m.expires_at > $3)
order by array_position({RANKED}, m.role) desc
limit 1
"""


async def district_role(conn: Connection, user_id: uuid.UUID, district_id: uuid.UUID,
                        now: datetime) -> Role | None:
    role = await conn.fetchval(_DISTRICT_ROLE, user_id, district_id, now)
    return role and Role(role)


async def insert_people(conn: Connection, people: Sequence[
        tuple[uuid.UUID, str, str, str | None, Language]]) -> None:
    """New users (id, name, phone, email, language); a phone that is taken is a Conflict."""
    try:
        await conn.executemany("insert into users (id, name, phone, email, language) "
                               "values ($1, $2, $3, $4, $5)", people)
    except asyncpg.UniqueViolationError as exc:
        raise phone_taken(exc) from None


# update_entry -- the school's entry of a person, on the membership that counts here
_UPDATE_ENTRY = f"""
update memberships set name = $5, email = $6
where id = (select c.id from users u, lateral ({_COUNTS}) c where u.id = $4)
"""


async def update_entry(conn: Connection, school: School, user_id: uuid.UUID,
                       now: datetime, name: str, email: str | None) -> None:
    """What this school calls a person; other schools' entries and the person's own
    name are not touched."""
    await conn.execute(_UPDATE_ENTRY, school.id, school.district_id, now, user_id, name, email)


# remove -- the memberships reaching the school; their entries are kept as former ones
_REMOVE = f"""
with gone as (delete from memberships m where m.user_id = $3 and {_REACH}
              returning m.user_id, m.district_id, m.school_id, m.role, m.name, m.email)
insert into former_directory_entries (user_id, district_id, school_id, role, name, email,
                                      removed_at)
select user_id, district_id, school_id, role, name, email, $4 from gone
on conflict (user_id, district_id, school_id) do update
    set role = excluded.role, name = excluded.name, email = excluded.email,
        removed_at = excluded.removed_at
"""
_INSERT_MEMBERSHIP = """
insert into memberships (id, user_id, district_id, school_id, role, expires_at, name, email)
values ($1, $2, $3, $4, $5, $6, $7, $8)
"""


async def set_memberships(conn: Connection, school: School,
                          memberships: Sequence[Membership], now: datetime) -> None:
    """Each person's membership reaching the school becomes the one given: at the school,
    or for district_admin the district's (which reaches its every school)."""
    await remove_memberships(conn, school, [m.user_id for m in memberships], now)
    await conn.executemany(_INSERT_MEMBERSHIP, [
        (uuid.uuid4(), m.user_id, school.district_id,
         None if m.role is Role.DISTRICT_ADMIN else school.id, m.role, m.expires_at, m.name,
         m.email)
        for m in memberships])


async def remove_memberships(conn: Connection, school: School,
                             user_ids: Sequence[uuid.UUID], now: datetime) -> None:
    """Take these people off the school's staff (a district admin off the district's)."""
    await conn.executemany(_REMOVE, [(school.id, school.district_id, u, now)
                                     for u in user_ids])
