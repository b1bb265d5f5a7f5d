"""A school's staff: people and their role there, one at a time or from a CSV file (the
API and `muster import staff`).

A person is their phone, how they sign in: adding a phone that another school already
has adds a membership to the same person. The name and email a school gives are its own
directory entry (on the membership): it sees only that, never another school's entry or
anything else of the person's. A substitute is a membership with `expires_at`; access
ends then. Each change is audited in its transaction; once it has committed, this
process forgets the people whose memberships changed, so it takes effect on their next
request here (and within 2 s on others).
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from api.usecases import identity
from api.usecases.callers import Caller
from api.usecases.phones import to_e164
from api.usecases.schools import school_as
from api.usecases.unit_of_work import UnitOfWork
from db import audit
from db import staff as db
from db.staff import Membership, StaffMember
from db.users import Reach
from domain import roster
from domain.admin import (
    AdminChange,
    check_entry_change,
    check_expiry,
    check_membership_change,
)
from domain.errors import Conflict, NotFound
from domain.language import Language
from domain.policy import Permission
from domain.roles import Role
from domain.schools import School
from domain.values import Value

_PERSON = ("name", "phone", "email", "role", "expires_at")


class StaffImported(Value, kw_only=True):
    """What an import did: people added to the staff, changed, or already as the file says."""

    added: int
    updated: int
    unchanged: int


async def add_member(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID, *, name: str,
                     phone: str, role: Role, email: str | None, expires_at: datetime | None,
                     now: datetime, language: Language | None = None) -> StaffMember:
    """The new member as this school names them (Conflict if the phone is on its staff
    already; a phone known from another school is that person, whose language is set
    only if this actor may: domain/identity.py)."""
    check_expiry(expires_at, now)
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, Permission.MANAGE_STAFF,
                                        lock=True)
        known = (await db.members_by_phone(uow.conn, school, [phone], now)).get(phone)
        if known and known.role:
            raise Conflict(f"{phone} is already on this school's staff; change them with "
                           f"PATCH /v1/schools/{school_id}/staff/{known.user_id}")
        user_id = known.user_id if known else uuid.uuid4()
        check_membership_change(actor, user_id, None, role)
        if known is None:
            await db.insert_people(uow.conn, [(user_id, name, phone, email,
                                               language or Language.EN)])
        elif language is not None and language is not known.language:
            await identity.set_language(uow.conn, actor.user_id, user_id, language, now)
        await db.set_memberships(uow.conn, school, [
            Membership(user_id, role, expires_at, name, email)], now)
        added = await _member(uow.conn, school, user_id, now)
        await audit.record(uow.conn, school, actor, AdminChange.STAFF_ADDED,
                           {"user_id": user_id, **_facts(added)}, now)
        uow.forget_callers([user_id])
    return added


async def change_member(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                        user_id: uuid.UUID, given: dict[str, Any],
                        now: datetime) -> tuple[StaffMember, Reach | None]:
    """The member changed by what is `given` (name, phone, role, email, expires_at,
    language; what is left out keeps its value), and the phone they had if it changed (to
    be told). A new role or expiry applies here (a district admin's, to the district), as
    does a new name or email: this school's entry. A new phone is the person's, at every
    school, and signs them out everywhere; so is a language, which only the person or
    someone who manages them at every school may set (api/usecases/identity.py)."""
    if given.get("expires_at"):
        check_expiry(given["expires_at"], now)
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, Permission.MANAGE_STAFF,
                                        lock=True)
        before = await _member(uow.conn, school, user_id, now)
        wanted = _facts(before) | given
        new_phone, old_phone = wanted["phone"] != before.phone, None
        if new_phone:
            await identity.check_may_change_phone(uow.conn, actor.user_id, user_id, now)
        if (wanted["role"], wanted["expires_at"]) != (before.role, before.expires_at):
            check_membership_change(actor, user_id, before.role, wanted["role"])
            await db.set_memberships(uow.conn, school, [Membership(
                user_id, wanted["role"], wanted["expires_at"], wanted["name"],
                wanted["email"])], now)
        elif (wanted["name"], wanted["email"]) != (before.name, before.email):
            check_entry_change(actor, user_id, before.role)
            await db.update_entry(uow.conn, school, user_id, now, wanted["name"],
                                  wanted["email"])
        if new_phone:
            old_phone = await identity.change_phone(uow.conn, actor.user_id, user_id,
                                                    wanted["phone"], now)
        language = given.get("language")
        if language is not None and language is not before.language:
            await identity.set_language(uow.conn, actor.user_id, user_id, language, now)
        after = await _member(uow.conn, school, user_id, now)
        changes = {k: [v, getattr(after, k)] for k, v in _facts(before).items()
                   if v != getattr(after, k)}
        if changes:
            await audit.record(uow.conn, school, actor, AdminChange.STAFF_UPDATED,
                               {"user_id": user_id, "changes": changes}, now)
        uow.forget_callers([user_id])
    return after, old_phone


async def remove_member(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                        user_id: uuid.UUID, now: datetime) -> None:
    """Their membership here ends (a district admin's: in the district); the person and
    their other memberships stay."""
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, Permission.MANAGE_STAFF,
                                        lock=True)
        before = await _member(uow.conn, school, user_id, now)
        check_membership_change(actor, user_id, before.role, None)
        await db.remove_memberships(uow.conn, school, [user_id], now)
        await audit.record(uow.conn, school, actor, AdminChange.STAFF_REMOVED,
                           {"user_id": user_id, **_facts(before)}, now)
        uow.forget_callers([user_id])


async def import_staff(uow: UnitOfWork, caller: Caller | None, school_id: uuid.UUID,
                       body: bytes, now: datetime) -> StaffImported:
    """A staff CSV file, all rows or none (InvalidRows, per row), read once the caller
    may; no caller is an operator (`muster import`)."""
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, Permission.MANAGE_STAFF,
                                        lock=True)
        columns = roster.staff_columns(to_e164, zoneinfo.ZoneInfo(school.timezone), now)
        rows = roster.staff_rows(roster.decode(body), columns)
        known = await db.members_by_phone(uow.conn, school, [row.phone for _, row in rows], now)
        allowed = [u for u in roster.language_changes(rows, known)
                   if await identity.may_change_language(uow.conn, actor.user_id, u, now)]
        plan = roster.plan_staff(rows, known, actor, uuid.uuid4, allowed)
        await db.insert_people(uow.conn, [(u, r.name, r.phone, r.email,
                                           r.language or Language.EN)
                                          for u, r in plan.new_people])
        for user_id, language in plan.languages:
            await identity.set_language(uow.conn, actor.user_id, user_id, language, now)
        await db.set_memberships(uow.conn, school, [
            Membership(u, r.role, r.expires_at, r.name, r.email) for u, r in plan.memberships],
            now)
        done = StaffImported(added=plan.added, updated=plan.updated, unchanged=plan.unchanged)
        await audit.record(uow.conn, school, actor, AdminChange.STAFF_IMPORTED,
                           msgspec.structs.asdict(done), now)
        uow.forget_callers([*(u for u, _ in plan.memberships), *(u for u, _ in plan.languages)])
    return done


def _facts(member: StaffMember) -> dict[str, Any]:
    return {k: getattr(member, k) for k in _PERSON}


async def _member(conn: asyncpg.Connection, school: School, user_id: uuid.UUID,
                  now: datetime) -> StaffMember:
    member = await db.get_staff_member(conn, school, user_id, now)
    if member is None:
        raise NotFound(f"no staff member {user_id}")
    return member
