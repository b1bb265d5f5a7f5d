"""After-action notes: each edit of an ended event's notes is kept as a new revision."""

from __future__ import annotations

import uuid
from datetime import datetime

from api.usecases.access import load_event_as
from api.usecases.callers import Caller
from api.usecases.unit_of_work import UnitOfWork
from db import reports as db
from domain.after_action import AfterAction, AfterActionRevision, revise


async def edit_after_action(uow: UnitOfWork, caller: Caller, event_id: uuid.UUID,
                            notes: AfterAction, now: datetime) -> AfterActionRevision:
    """The event's row is locked while the next revision number is chosen, so two edits
    at once become revisions n and n+1, not two revisions n."""
    async with uow:
        ctx, role = await load_event_as(uow.conn, caller, event_id, lock=True)
        revision = revise(ctx.event, notes, previous=await db.current_revision(uow.conn, event_id),
                          actor_id=caller.user_id, role=role, policy=ctx.policy, now=now)
        await db.insert_after_action(uow.conn, event_id, revision)
    return revision
