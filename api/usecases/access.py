"""What a caller may reach: an event is visible only to members of its school."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from db import events as db
from db.events import EventContext
from domain.roles import Role

if TYPE_CHECKING:
    from api.usecases.callers import Caller
    from api.usecases.event_cache import EventCache


async def load_event_as(conn: asyncpg.Connection, caller: Caller, event_id: uuid.UUID, *,
                        lock: bool = False) -> tuple[EventContext, Role]:
    """The event (locked for a change) and the caller's role at its school; another
    school's event is a 404 that names only the event."""
    ctx = await db.load_event(conn, event_id, lock=lock)
    return ctx, _role(caller, ctx, event_id)


async def read_event_as(events: EventCache, pool: asyncpg.Pool, caller: Caller,
                        event_id: uuid.UUID, now: datetime) -> tuple[EventContext, Role]:
    """As `load_event_as`, from this process's recent copy (api/usecases/event_cache.py):
    for the paths a storm hammers, which need no lock."""
    ctx = await events.get(pool, event_id, now)
    return ctx, _role(caller, ctx, event_id)


def _role(caller: Caller, ctx: EventContext, event_id: uuid.UUID) -> Role:
    return caller.role_at(ctx.event.school_id, missing=f"no event {event_id}")
