"""Accountability as dashboards read it: totals, unreported rooms, each room's report."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from db import checkins as db
from db.events import EventContext
from domain.checkins import CheckInStatus, StudentCounts, account
from domain.policy import Permission
from domain.roles import Role
from domain.values import Value


class UnreportedRoom(Value):
    room_id: uuid.UUID
    code: str
    name: str


class RoomReport(Value, kw_only=True):
    """A room's current report: the one with the newest observation."""

    room_id: uuid.UUID
    code: str
    name: str
    status: CheckInStatus
    reported_at: datetime  # when the phone observed it (clamped if its clock ran ahead)
    received_at: datetime
    reported_by: uuid.UUID
    students_present: int
    students_missing: int
    students_extra: int
    injured: int
    location: str | None
    note: str | None
    clock_skew_flagged: bool


class AccountabilityOut(Value, kw_only=True):
    rooms_total: int
    rooms_reported: int
    rooms_ok: int
    rooms_needs_help: int
    unreported_rooms: list[UnreportedRoom]
    students: StudentCounts
    rooms: list[RoomReport]


async def accountability_of(conn: asyncpg.Connection, ctx: EventContext,
                            role: Role) -> AccountabilityOut:
    """Add up the event's school, room by room, in room-code order."""
    ctx.policy.require(role, Permission.READ_ACCOUNTABILITY)
    rooms, latest = await db.rooms_with_reports(conn, ctx.event.id, ctx.event.school_id)
    tally = account([r.id for r in rooms], latest)
    by_id = {r.id: r for r in rooms}
    reports = [
        RoomReport(room_id=c.room_id, code=by_id[c.room_id].code, name=by_id[c.room_id].name,
                   status=c.status, reported_at=c.observed_at, received_at=c.received_at,
                   reported_by=c.reported_by, students_present=c.students_present,
                   students_missing=c.students_missing, students_extra=c.students_extra,
                   injured=c.injured, location=c.location, note=c.note,
                   clock_skew_flagged=c.clock_skew_flagged)
        for state in tally.rooms if (c := state.checkin) is not None
    ]
    return AccountabilityOut(
        rooms_total=tally.rooms_total, rooms_reported=tally.rooms_reported,
        rooms_ok=tally.rooms_ok, rooms_needs_help=tally.rooms_needs_help,
        unreported_rooms=[UnreportedRoom(r, by_id[r].code, by_id[r].name)
                          for r in tally.unreported_room_ids],
        students=tally.students, rooms=reports)
