"""A school's bell schedule (domain/schedule.py): read by its members, replaced whole by
those who load its roster, with its audit entry in the same transaction.

A school without one has no periods: every student is expected in their homeroom, as
with an empty schedule, which is what reading it answers.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from api.usecases.callers import Caller
from api.usecases.schools import school_as
from api.usecases.unit_of_work import UnitOfWork
from db import audit
from db import schedules as db
from domain import schedule as rules
from domain.admin import AdminChange
from domain.policy import Permission
from domain.schedule import BellSchedule


async def read_bell_schedule(conn: asyncpg.Connection, caller: Caller,
                             school_id: uuid.UUID) -> BellSchedule:
    await school_as(conn, caller, school_id, Permission.READ_STUDENTS)
    return await db.bell_schedule(conn, school_id) or BellSchedule(day_types=())


async def save_bell_schedule(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                             schedule: BellSchedule, now: datetime) -> BellSchedule:
    """The school's schedule becomes `schedule`, unless it contradicts itself (400 naming
    the field: two day types on one weekday, periods that overlap...)."""
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, Permission.MANAGE_ROSTER,
                                        lock=True)
        rules.check(schedule)
        await db.save_bell_schedule(uow.conn, school_id, schedule, actor.user_id, now)
        await audit.record(uow.conn, school, actor, AdminChange.BELL_SCHEDULE_SAVED, {
            "day_types": [{"name": d.name, "periods": len(d.periods)}
                          for d in schedule.day_types]}, now)
    return schedule
