"""A school's contacts for real events: read by its safety leads, replaced whole by its
administrators (the rules: domain/contacts.py).

A replacement is one transaction under the school's row lock, with its audit entry: a
list with one bad item stores nothing, and two administrators' lists take turns.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from api.usecases.callers import Caller
from api.usecases.phones import to_e164
from api.usecases.schools import school_as
from api.usecases.unit_of_work import UnitOfWork
from db import audit
from db import contacts as db
from domain import contacts
from domain.admin import AdminChange
from domain.contacts import Contact, ContactEntry
from domain.policy import Permission


async def list_contacts(conn: asyncpg.Connection, caller: Caller,
                        school_id: uuid.UUID) -> list[Contact]:
    await school_as(conn, caller, school_id, Permission.READ_CONTACTS)
    return await db.current_contacts(conn, school_id)


async def replace_contacts(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                           wanted: Sequence[ContactEntry], now: datetime) -> list[Contact]:
    """The school's list becomes `wanted`, its phones as people type them (each
    normalised to E.164, or a 400 naming the item); the list as stored."""
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id,
                                        Permission.MANAGE_CONTACTS, lock=True)
        replacement = contacts.replace_list(await db.current_contacts(uow.conn, school_id),
                                            wanted, uuid.uuid4, to_e164)
        await db.replace_contacts(uow.conn, school_id, replacement, now)
        await audit.record(uow.conn, school, actor, AdminChange.CONTACTS_SAVED, {
            "contacts": [{"name": c.name, "kind": c.kind, "on": c.on}
                         for c in replacement.contacts],
            "added": len(replacement.added), "removed": len(replacement.removed)}, now)
    return replacement.contacts
