"""A member of staff reports themselves during an event (domain/staff_status.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from api.usecases import assists
from api.usecases.access import load_event_as
from api.usecases.callers import Caller
from api.usecases.unit_of_work import UnitOfWork
from db import staff_statuses as db
from domain import staff_status as rules
from domain.staff_status import StaffReported


async def report_status(uow: UnitOfWork, caller: Caller, event_id: uuid.UUID,
                        request: rules.StatusRequest, now: datetime) -> StaffReported:
    """Keep the caller's report of themselves and put it on the timeline, on the locked
    event (never after its end); one asking for help alerts the school's responders
    (api/usecases/assists.py), in the same transaction."""
    async with uow:
        ctx, _ = await load_event_as(uow.conn, caller, event_id, lock=True)
        reported = rules.report_status(ctx.event, request, user_id=caller.user_id, now=now)
        await db.keep_status(uow.conn, reported.report)
        if reported.asks_for_help:
            await assists.person_asks_help(uow.conn, ctx.event, reported.report, now)
    return reported
