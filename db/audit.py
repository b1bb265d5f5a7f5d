"""The administrative audit trail: who changed what at which school, and when.

Entries are written inside the transaction that made the change, so a change is never
without its entry and a refused one leaves none.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from db.directory import entry_name
from db.pool import Connection
from domain.admin import Actor, AdminChange
from domain.schools import School
from domain.values import Value


class AuditEntry(Value, kw_only=True):
    """One administrative change; `actor_id` None: an operator's `muster import`."""

    id: int
    at: datetime
    kind: AdminChange
    actor_id: uuid.UUID | None
    actor_name: str | None
    detail: dict[str, Any]


# record -- one change, in the caller's transaction
_RECORD = """
insert into admin_audit (at, actor_id, district_id, school_id, kind, detail)
values ($1, $2, $3, $4, $5, $6)
"""


async def record(conn: Connection, school: School, actor: Actor, kind: AdminChange,
                 detail: dict[str, Any], at: datetime) -> None:
    await conn.execute(_RECORD, at, actor.user_id, school.district_id, school.id, kind, detail)


# record_for_person -- a change of a person, at every school their memberships reach
_RECORD_FOR_PERSON = """
insert into admin_audit (at, actor_id, district_id, school_id, kind, detail)
select $1, $2, s.district_id, s.id, $4, $5 from schools s
where exists (select 1 from memberships m
              where m.user_id = $3
                and (m.school_id = s.id or (m.school_id is null and m.district_id = s.district_id)))
"""


async def record_for_person(conn: Connection, user_id: uuid.UUID,
                            actor_id: uuid.UUID | None, kind: AdminChange,
                            detail: dict[str, Any], at: datetime) -> None:
    """Every school where the person works is told of a change that is theirs too."""
    await conn.execute(_RECORD_FOR_PERSON, at, actor_id, user_id, kind, detail)


# list_entries -- a school's entries, newest first, after the keyset id; actors as the
# school names them
_LIST = f"""
select a.id, a.at, a.kind, a.actor_id, {entry_name("a.actor_id", "a.school_id")} as actor_name,
       a.detail
from admin_audit a
where a.school_id = $1 and ($2::bigint is null or a.id < $2)
order by a.id desc
limit $3
"""


async def list_entries(conn: Connection, school_id: uuid.UUID, before: int | None,
                       limit: int) -> list[AuditEntry]:
    rows = await conn.fetch(_LIST, school_id, before, limit)
    return [msgspec.convert(dict(r), AuditEntry) for r in rows]
