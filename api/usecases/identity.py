"""Changing a person's phone, which is who they are at every school where they work.

Whoever changes it (an administrator with authority over all of the person's
memberships, or the person after confirming the new phone with a code), the change ends
every session of theirs and removes their registered phones in the same transaction:
whoever held the old phone, or a token issued to it, is signed out.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from db import audit, devices, users
from db import events as events_db
from db import signin as signin_db
from domain.admin import AdminChange
from domain.errors import NotFound
from domain.identity import check_phone_change


async def check_may_change_phone(conn: asyncpg.Connection, actor_id: uuid.UUID | None,
                                 user_id: uuid.UUID, now: datetime) -> None:
    """Forbidden unless the actor has authority over every membership of the person
    (domain/identity.py), each school's own policy deciding who manages its staff."""
    target = await users.holdings(conn, user_id)
    actor = await users.holdings(conn, actor_id, now) if actor_id else []
    schools = {h.school_id for h in target if h.school_id is not None}
    policies = {s: await events_db.load_school_policy(conn, s) for s in schools}
    check_phone_change(actor_id, actor, user_id, target, policies)


async def change_phone(conn: asyncpg.Connection, actor_id: uuid.UUID | None,
                       user_id: uuid.UUID, phone: str, now: datetime) -> str | None:
    """In the caller's transaction, after the rule allowed it: the new phone (Conflict if
    someone else's), every session ended, every device removed, and an audit entry at
    each school of the person; the phone they had (None: it was this one already). After
    commit the cached caller is forgotten and the old phone told (`told` in
    api/http/texting.py)."""
    old = await users.lock_person(conn, user_id)
    if old is None:
        raise NotFound(f"no person {user_id}")
    if old == phone:
        return None
    await users.set_phone(conn, user_id, phone)
    removed = await devices.remove_all(conn, user_id)
    ended = await signin_db.end_sessions(conn, session_id=None, user_id=user_id, now=now,
                                         reason="phone_changed")
    await audit.record_for_person(conn, user_id, actor_id, AdminChange.PHONE_CHANGED, {
        "user_id": user_id, "phone": [old, phone], "sessions_ended": len(ended),
        "devices_removed": removed}, now)
    return old
