"""Accountability as dashboards read it: totals, unreported rooms, each room's report,
and the staff who reported themselves and who has not."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from db import checkins as db
from db import staff_statuses
from db.events import EventContext
from domain.checkins import CheckInStatus, StudentCounts, account
from domain.policy import Permission
from domain.roles import Role
from domain.staff_status import StaffStatus, account_staff
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


class UnreportedStaff(Value):
    user_id: uuid.UUID
    name: str | None  # as the school names them


class StaffStatusReport(Value, kw_only=True):
    """A member's newest report of themselves."""

    user_id: uuid.UUID
    name: str | None
    status: StaffStatus
    note: str | None
    reported_at: datetime


class StaffAccountability(Value, kw_only=True):
    """The school's staff (its live members, and anyone else who reported): how many,
    how many reported themselves and how. Who has not reported and each report, by name,
    only for a viewer who may see the school's staff list (`manage_staff`, as the
    dashboard's names): else None."""

    total: int
    reported: int
    by_status: dict[StaffStatus, int]
    not_reported: list[UnreportedStaff] | None
    reports: list[StaffStatusReport] | None


class AccountabilityOut(Value, kw_only=True):
    rooms_total: int
    rooms_reported: int
    rooms_ok: int
    rooms_needs_help: int
    unreported_rooms: list[UnreportedRoom]
    students: StudentCounts
    rooms: list[RoomReport]
    staff: StaffAccountability


async def staff_accountability(conn: asyncpg.Connection, ctx: EventContext, role: Role,
                               now: datetime) -> StaffAccountability:
    """The staff tally of the event's school, names as the viewer's role may see them."""
    people = await staff_statuses.staff_of_event(conn, ctx.event.id, ctx.event.school_id, now)
    latest = {p.user_id: p.report for p in people if p.report is not None}
    tally = account_staff([p.user_id for p in people], latest)
    if not ctx.policy.allows(role, Permission.MANAGE_STAFF):
        return StaffAccountability(total=tally.total, reported=tally.reported,
                                   by_status=tally.by_status, not_reported=None, reports=None)
    names = {p.user_id: p.name for p in people}
    return StaffAccountability(
        total=tally.total, reported=tally.reported, by_status=tally.by_status,
        not_reported=[UnreportedStaff(u, names[u]) for u in tally.not_reported],
        reports=[StaffStatusReport(user_id=r.user_id, name=names[r.user_id], status=r.status,
                                   note=r.note, reported_at=r.reported_at)
                 for r in latest.values()])


async def accountability_of(conn: asyncpg.Connection, ctx: EventContext,
                            role: Role, now: datetime) -> AccountabilityOut:
    """Add up the event's school, room by room, in room-code order, and its staff."""
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
        students=tally.students, rooms=reports,
        staff=await staff_accountability(conn, ctx, role, now))
