"""What we know during an event: post an update (on the timeline, to everyone the event
alerted) and read an event's updates."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from api.usecases.access import load_event_as
from api.usecases.callers import Caller
from api.usecases.unit_of_work import UnitOfWork
from db import updates as db
from domain import updates as rules
from domain.links import Links
from domain.updates import Update
from notifications.queueing import queue_update

RECENT_UPDATES = 20  # an event's updates that its dashboard and its links' page open with


async def post_update(uow: UnitOfWork, caller: Caller, event_id: uuid.UUID,
                      request: rules.UpdateRequest, now: datetime, links: Links) -> Update:
    """Decided on the locked event, so that an update never lands after its all-clear;
    stored, on the timeline and queued in one transaction."""
    async with uow:
        ctx, role = await load_event_as(uow.conn, caller, event_id, lock=True)
        update = rules.post_update(ctx.event, request, update_id=uuid.uuid4(),
                                   actor_id=caller.user_id, role=role, policy=ctx.policy,
                                   now=now)
        await db.add_update(uow.conn, update)
        await queue_update(uow.conn, ctx.event, update, links)
    return update


async def updates_of(conn: asyncpg.Connection, caller: Caller, event_id: uuid.UUID,
                     after: tuple[datetime, uuid.UUID] | None, limit: int) -> list[Update]:
    """An event's updates, newest first, for any member of its school."""
    await load_event_as(conn, caller, event_id)
    return await db.list_updates(conn, event_id, after, limit)
