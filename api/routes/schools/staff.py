"""A school's staff: people and their role there, one at a time or from a CSV file.

A person is their phone, how they sign in: adding a phone that another school already
has adds a membership to the same person. The name and email a school gives are its own
directory entry (on the membership): it sees only that, never another school's entry or
anything else of the person's. A substitute is a membership with `expires_at`; access
ends then. A change to someone's membership takes effect on their next request to this
process (and within 2 s on others).
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from api.http.deps import CallerOf, Conn, Now
from api.http.pagination import ByName, Cursor, Limit, decode_cursor, paginate
from api.http.phones import to_e164
from api.http.problems import problem_specs
from api.http.text import Instant
from api.routes.auth import told
from api.routes.schools.admin import (
    IMPORT_RESPONSES,
    ROW_PROBLEMS,
    Email,
    Name,
    csv_body,
    csv_upload,
    forget,
    school_as,
)
from api.usecases import identity
from db import audit
from db import staff as db
from db.staff import Membership, StaffMember
from domain import roster
from domain.admin import (
    Actor,
    AdminChange,
    check_entry_change,
    check_expiry,
    check_membership_change,
)
from domain.errors import Conflict, NotFound
from domain.policy import Permission
from domain.roles import Role
from domain.schools import School

Phone = Annotated[str, msgspec.Meta(min_length=1, max_length=40,
                                    examples=["(512) 555-0100", "+15125550100"])]
_PERSON = ("name", "phone", "email", "role", "expires_at")


class StaffIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A person to add; a substitute has `expires_at` (within a year)."""

    name: Name
    phone: Phone
    role: Role
    email: Email | None = None
    expires_at: Instant | None = None


class StaffChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change; a field left out keeps its value (`email` and `expires_at` may be
    set to null to clear them). `name` and `email` are this school's entry; `phone` is
    the person's sign-in identity, at every school."""

    name: Name | None = None
    phone: Phone | None = None
    role: Role | None = None
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    expires_at: Instant | msgspec.UnsetType | None = msgspec.UNSET


class StaffPage(msgspec.Struct, frozen=True):
    items: list[StaffMember]
    next_cursor: str | None


class StaffImported(msgspec.Struct, frozen=True, kw_only=True):
    """What an import did: people added to the staff, changed, or already as the file says."""

    added: int
    updated: int
    unchanged: int


def _facts(member: StaffMember) -> dict[str, Any]:
    return {k: getattr(member, k) for k in _PERSON}


async def _member(conn: asyncpg.Connection, school: School, user_id: uuid.UUID,
                  now: datetime) -> StaffMember:
    member = await db.get_staff_member(conn, school, user_id, now)
    if member is None:
        raise NotFound(f"no staff member {user_id}")
    return member


@get("/{school_id:uuid}/staff", summary="The school's staff, by name",
     responses=problem_specs(400, 401, 403, 404))
async def list_staff(conn: Conn, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                     limit: Limit = 50, cursor: Cursor = None) -> StaffPage:
    """District admins are listed too (they reach every school); so are substitutes whose
    time is over (`active: false`) until someone removes them."""
    school, _ = await school_as(conn, caller, school_id, Permission.MANAGE_STAFF)
    rows = await db.list_staff(conn, school, now, decode_cursor(cursor, ByName), limit + 1)
    items, next_cursor = paginate(rows, limit, lambda m: (m.name, m.user_id))
    return StaffPage(items, next_cursor)


@post("/{school_id:uuid}/staff", summary="Add a person to the staff",
      responses=problem_specs(400, 401, 403, 404, 409))
async def add_staff(conn: Conn, caller: CallerOf, now: Now, state: State,
                    school_id: FromPath[uuid.UUID],
                    data: JSONBody[StaffIn]) -> Response[StaffMember]:
    """A phone already known (from another school) adds that person, as named here: the
    answer holds what was sent and nothing else of theirs."""
    phone = to_e164(data.phone)
    check_expiry(data.expires_at, now)
    async with conn.transaction():
        school, actor = await school_as(conn, caller, school_id, Permission.MANAGE_STAFF,
                                        lock=True)
        known = (await db.members_by_phone(conn, school, [phone], now)).get(phone)
        if known and known.role:
            raise Conflict(f"{phone} is already on this school's staff; change them with "
                           f"PATCH /v1/schools/{school_id}/staff/{known.user_id}")
        user_id = known.user_id if known else uuid.uuid4()
        check_membership_change(actor, user_id, None, data.role)
        if known is None:
            await db.insert_people(conn, [(user_id, data.name, phone, data.email)])
        await db.set_memberships(conn, school, [
            Membership(user_id, data.role, data.expires_at, data.name, data.email)], now)
        added = await _member(conn, school, user_id, now)
        await audit.record(conn, school, actor, AdminChange.STAFF_ADDED,
                           {"user_id": user_id, **_facts(added)}, now)
    forget(state, [user_id])
    return Response(added, status_code=201)


@patch("/{school_id:uuid}/staff/{user_id:uuid}", summary="Change a staff member",
       responses=problem_specs(400, 401, 403, 404, 409))
async def change_staff(conn: Conn, caller: CallerOf, now: Now, state: State,
                       school_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID],
                       data: JSONBody[StaffChange]) -> Response[StaffMember]:
    """A new role or expiry applies here (a district admin's, to the district), as does a
    new name or email: this school's entry. A new phone is the person's, at every school:
    only someone who manages them at every one may change it (never their own: that is
    POST /v1/me/phone), and it signs them out everywhere."""
    phone = data.phone and to_e164(data.phone)
    if data.expires_at:
        check_expiry(data.expires_at, now)
    async with conn.transaction():
        school, actor = await school_as(conn, caller, school_id, Permission.MANAGE_STAFF,
                                        lock=True)
        before = await _member(conn, school, user_id, now)
        given = {"name": data.name, "phone": phone, "role": data.role}
        wanted = _facts(before) | {k: v for k, v in given.items() if v is not None} | {
            k: v for k in ("email", "expires_at")
            if (v := getattr(data, k)) is not msgspec.UNSET}
        new_phone, old_phone = wanted["phone"] != before.phone, None
        if new_phone:
            await identity.check_may_change_phone(conn, actor.user_id, user_id, now)
        if (wanted["role"], wanted["expires_at"]) != (before.role, before.expires_at):
            check_membership_change(actor, user_id, before.role, wanted["role"])
            await db.set_memberships(conn, school, [Membership(
                user_id, wanted["role"], wanted["expires_at"], wanted["name"],
                wanted["email"])], now)
        elif (wanted["name"], wanted["email"]) != (before.name, before.email):
            check_entry_change(actor, user_id, before.role)
            await db.update_entry(conn, school, user_id, now, wanted["name"], wanted["email"])
        if new_phone:
            old_phone = await identity.change_phone(conn, actor.user_id, user_id,
                                                    wanted["phone"], now)
        after = await _member(conn, school, user_id, now)
        changes = {k: [v, getattr(after, k)] for k, v in _facts(before).items()
                   if v != getattr(after, k)}
        if changes:
            await audit.record(conn, school, actor, AdminChange.STAFF_UPDATED,
                               {"user_id": user_id, "changes": changes}, now)
    forget(state, [user_id])
    return Response(after, background=told(state, old_phone, after.phone))


@delete("/{school_id:uuid}/staff/{user_id:uuid}", summary="Take a person off the staff",
        responses=problem_specs(400, 401, 403, 404))
async def remove_staff(conn: Conn, caller: CallerOf, now: Now, state: State,
                       school_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID]) -> None:
    """They lose access to the school at once (a district admin, to the district); the
    person and their other schools' memberships stay."""
    async with conn.transaction():
        school, actor = await school_as(conn, caller, school_id, Permission.MANAGE_STAFF,
                                        lock=True)
        before = await _member(conn, school, user_id, now)
        check_membership_change(actor, user_id, before.role, None)
        await db.remove_memberships(conn, school, [user_id], now)
        await audit.record(conn, school, actor, AdminChange.STAFF_REMOVED,
                           {"user_id": user_id, **_facts(before)}, now)
    forget(state, [user_id])


async def import_staff(conn: asyncpg.Connection, school: School, actor: Actor, body: bytes,
                       now: datetime) -> tuple[StaffImported, list[uuid.UUID]]:
    """A staff CSV file, all rows or none (`muster import staff` too); what it did, and
    whose memberships it changed."""
    columns = roster.staff_columns(to_e164, zoneinfo.ZoneInfo(school.timezone), now)
    rows = roster.staff_rows(roster.decode(body), columns)
    known = await db.members_by_phone(conn, school, [row.phone for _, row in rows], now)
    plan = roster.plan_staff(rows, known, actor, uuid.uuid4)
    await db.insert_people(conn, [(u, r.name, r.phone, r.email) for u, r in plan.new_people])
    await db.set_memberships(conn, school, [Membership(u, r.role, r.expires_at, r.name, r.email)
                                            for u, r in plan.memberships], now)
    done = StaffImported(added=plan.added, updated=plan.updated, unchanged=plan.unchanged)
    await audit.record(conn, school, actor, AdminChange.STAFF_IMPORTED,
                       msgspec.structs.asdict(done), now)
    return done, [u for u, _ in plan.memberships]


@post("/{school_id:uuid}/staff/import", status_code=200, summary="Import staff from CSV",
      responses=IMPORT_RESPONSES,
      operation_class=csv_upload("name, phone, role, email?, expires_at? (a date: through "
                                 "that day, or a time with its UTC offset)"))
async def post_staff_import(conn: Conn, caller: CallerOf, now: Now, state: State,
                            request: Request, school_id: FromPath[uuid.UUID]) -> StaffImported:
    """Every row is checked first; one bad row and nothing is imported (400, per row). A
    row sets that person's role here and this school's entry (name, email) for them; a
    phone already known elsewhere is that person, whose own details are not touched;
    people not in the file are not touched."""
    body = await csv_body(request)
    async with conn.transaction():
        school, actor = await school_as(conn, caller, school_id, Permission.MANAGE_STAFF,
                                        lock=True)
        done, changed = await import_staff(conn, school, actor, body, now)
    forget(state, changed)
    return done


router = Router("/", route_handlers=[list_staff, add_staff, change_staff, remove_staff,
                                     post_staff_import],
                exception_handlers=ROW_PROBLEMS, tags=["administration"])
