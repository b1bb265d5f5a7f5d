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
from db.users import Reach
from domain import identity as identity_rules
from domain.admin import AdminChange
from domain.errors import Forbidden, NotFound
from domain.identity import Holding, check_phone_change
from domain.language import Language
from domain.policy import Policy


async def check_may_change_phone(conn: asyncpg.Connection, actor_id: uuid.UUID | None,
                                 user_id: uuid.UUID, now: datetime) -> None:
    """Forbidden unless the actor has authority over every membership of the person
    (domain/identity.py), each school's own policy deciding who manages its staff."""
    check_phone_change(actor_id, *await _standing(conn, actor_id, user_id, now))


async def may_change_language(conn: asyncpg.Connection, actor_id: uuid.UUID | None,
                              user_id: uuid.UUID, now: datetime) -> bool:
    """Whether the actor may set the person's language (domain/identity.py): their own,
    or someone they manage at every school."""
    return identity_rules.may_change_language(
        actor_id, *await _standing(conn, actor_id, user_id, now))


async def _standing(conn: asyncpg.Connection, actor_id: uuid.UUID | None, user_id: uuid.UUID,
                    now: datetime) -> tuple[list[Holding], uuid.UUID, list[Holding],
                                            dict[uuid.UUID, Policy]]:
    """What the rules of domain/identity.py weigh: the actor's live memberships, the
    person and every membership of theirs, and the policy of each of their schools."""
    target = await users.holdings(conn, user_id)
    actor = await users.holdings(conn, actor_id, now) if actor_id else []
    schools = {h.school_id for h in target if h.school_id is not None}
    policies = {s: await events_db.load_school_policy(conn, s) for s in schools}
    return actor, user_id, target, policies


async def set_language(conn: asyncpg.Connection, actor_id: uuid.UUID | None,
                       user_id: uuid.UUID, language: Language, now: datetime) -> None:
    """In the caller's transaction: the person's language, if the actor may set it
    (Forbidden otherwise), with an audit entry at each school of theirs, since it is how
    each of them reaches the person."""
    if not await may_change_language(conn, actor_id, user_id, now):
        raise Forbidden(identity_rules.LANGUAGE_NOT_YOURS)
    old = await users.set_language(conn, user_id, language)
    if old is not None and old is not language:
        await audit.record_for_person(conn, user_id, actor_id, AdminChange.LANGUAGE_CHANGED,
                                      {"user_id": user_id, "language": [old, language]}, now)


async def change_phone(conn: asyncpg.Connection, actor_id: uuid.UUID | None,
                       user_id: uuid.UUID, phone: str, now: datetime) -> Reach | None:
    """In the caller's transaction, after the rule allowed it: the new phone (Conflict if
    someone else's), every session ended, every device removed, and an audit entry at
    each school of the person; the phone they had, in their language (None: it was this
    one already). After commit the cached caller is forgotten and the old phone told
    (`told` in api/http/texting.py)."""
    old = await users.lock_person(conn, user_id)
    if old is None:
        raise NotFound(f"no person {user_id}")
    if old.phone == phone:
        return None
    await users.set_phone(conn, user_id, phone)
    removed = await devices.remove_all(conn, user_id)
    ended = await signin_db.end_sessions(conn, session_id=None, user_id=user_id, now=now,
                                         reason="phone_changed")
    await audit.record_for_person(conn, user_id, actor_id, AdminChange.PHONE_CHANGED, {
        "user_id": user_id, "phone": [old.phone, phone], "sessions_ended": len(ended),
        "devices_removed": removed}, now)
    return old
