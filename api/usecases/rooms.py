"""A school's rooms, saved in bulk by code (a list, or a CSV file: the API and
`muster import rooms`).

A room's code is how it is found again: a known code keeps its id (and so its
check-ins) and takes the new description; a new code is a new room. Rooms left out
are not touched, and no room is ever deleted (past check-ins refer to them).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from api.usecases.callers import Caller
from api.usecases.schools import school_as
from api.usecases.unit_of_work import UnitOfWork
from db import audit
from db import schools as db
from domain import roster
from domain.admin import Actor, AdminChange
from domain.policy import Permission
from domain.roster import RoomPlan, RoomRow
from domain.schools import Room, School
from domain.values import Value


class SavedRooms(Value, kw_only=True):
    """The rooms as saved, in the order sent; how many were new, changed or as they were."""

    items: list[Room]
    created: int
    updated: int
    unchanged: int


async def save_rooms(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                     rows: list[RoomRow], now: datetime) -> SavedRooms:
    """Upsert the rows by code and audit it."""
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, Permission.MANAGE_ROOMS,
                                        lock=True)
        return await _save(uow, school, actor, rows, AdminChange.ROOMS_SAVED, now)


async def import_rooms(uow: UnitOfWork, caller: Caller | None, school_id: uuid.UUID,
                       body: bytes, now: datetime) -> SavedRooms:
    """A rooms CSV file, all rows or none (InvalidRows, per row), read once the caller
    may; no caller is an operator (`muster import`)."""
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, Permission.MANAGE_ROOMS,
                                        lock=True)
        rows = roster.room_rows(roster.decode(body))
        return await _save(uow, school, actor, rows, AdminChange.ROOMS_IMPORTED, now)


async def _save(uow: UnitOfWork, school: School, actor: Actor, rows: list[RoomRow],
                kind: AdminChange, now: datetime) -> SavedRooms:
    existing = await db.rooms_by_code(uow.conn, school.id, [r.code for r in rows])
    plan: RoomPlan = roster.plan_rooms(existing, rows, uuid.uuid4)
    await db.save_rooms(uow.conn, school.id, plan.created, plan.updated)
    saved = SavedRooms(items=plan.rooms, created=len(plan.created), updated=len(plan.updated),
                       unchanged=len(rows) - len(plan.created) - len(plan.updated))
    counts = {"created": saved.created, "updated": saved.updated, "unchanged": saved.unchanged}
    await audit.record(uow.conn, school, actor, kind, counts, now)
    return saved
