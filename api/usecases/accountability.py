"""Accountability as dashboards read it: totals, unreported rooms, each room's report,
and the staff who reported themselves and who has not."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import asyncpg
import msgspec

from api.usecases.expected import ExpectedCache
from db import checkins as db
from db import staff_statuses
from db.events import EventContext
from db.students import students_named
from domain.checkins import CheckInStatus, RoomState, StudentCounts, account
from domain.policy import Permission
from domain.roles import Role
from domain.roll_call import Expected, StudentState, roll_call
from domain.schools import Room
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


class RoomName(Value):
    room_id: uuid.UUID
    code: str
    name: str


class StudentWhere(Value, kw_only=True):
    """A student by name and their last known room: where a room reported them missing,
    or saw them (injured)."""

    student_id: uuid.UUID
    name: str
    grade: str | None
    last_room: RoomName | None


class RoomRoll(Value, kw_only=True):
    """A room's roll: students expected there at the start, and named by its report; of
    the students whose status its report decided (each student counts in one room), those
    it saw (`accounted`), reported missing or absent, and saw injured; `not_reported`
    those it expects that no report names yet."""

    room_id: uuid.UUID
    code: str
    name: str
    expected: int
    named: int
    accounted: int
    missing: int
    absent: int
    injured: int
    not_reported: int


class RollCallOut(Value, kw_only=True):
    """Every student by name (domain/roll_call.py): `expected` at the event's start,
    `accounted` (seen: present, injured or extra), `absent`, `not_reported` (named by no
    report yet), the missing and the injured by name, each room's roll in room-code
    order. Zero expected and no rooms: the school has no roster."""

    expected: int
    accounted: int
    absent: int
    not_reported: int
    missing: list[StudentWhere]
    injured: list[StudentWhere]
    rooms: list[RoomRoll]


class AccountabilityOut(Value, kw_only=True):
    rooms_total: int
    rooms_reported: int
    rooms_ok: int
    rooms_needs_help: int
    unreported_rooms: list[UnreportedRoom]
    students: StudentCounts
    rooms: list[RoomReport]
    staff: StaffAccountability
    roll_call: RollCallOut


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


async def accountability_of(conn: asyncpg.Connection, ctx: EventContext, role: Role,
                            now: datetime, expected: ExpectedCache) -> AccountabilityOut:
    """Add up the event's school, room by room, in room-code order, its staff and its
    students (what its rooms expect, from `expected`)."""
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
        staff=await staff_accountability(conn, ctx, role, now),
        roll_call=await roll_call_of(conn, ctx, rooms, tally.rooms,
                                     await expected.get(conn, ctx.event)))


async def roll_call_of(conn: asyncpg.Connection, ctx: EventContext, rooms: list[Room],
                       states: Iterable[RoomState], expected: Expected) -> RollCallOut:
    """The students of the event's school from the rooms' current reports; the missing
    and the injured by name (by family name), with their last known room."""
    call = roll_call(expected, [c for state in states if (c := state.checkin) is not None])
    listed = [s.student_id for s in (*call.missing, *call.injured)]
    known = await students_named(conn, ctx.event.school_id, listed) if listed else {}
    by_id = {r.id: r for r in rooms}

    def where(state: StudentState) -> StudentWhere:
        room = by_id.get(state.room_id) if state.room_id is not None else None
        student = known.get(state.student_id)
        return StudentWhere(student_id=state.student_id,
                            name=student.name if student else str(state.student_id),
                            grade=student.grade if student else None,
                            last_room=RoomName(room.id, room.code, room.name) if room else None)

    rank = {s: n for n, s in enumerate(known)}  # family-name order

    def by_name(found: Iterable[StudentState]) -> list[StudentWhere]:
        return [where(s) for s in sorted(found, key=lambda s: rank.get(s.student_id, 0))]

    order = {r.id: n for n, r in enumerate(rooms)}
    return RollCallOut(
        expected=call.expected, accounted=call.accounted, absent=call.absent,
        not_reported=call.not_reported,
        missing=by_name(call.missing), injured=by_name(call.injured),
        rooms=[RoomRoll(code=by_id[r.room_id].code, name=by_id[r.room_id].name,
                        **msgspec.structs.asdict(r))
               for r in sorted(call.rooms, key=lambda r: order.get(r.room_id, 0))
               if r.room_id in by_id])
