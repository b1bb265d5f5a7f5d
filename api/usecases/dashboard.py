"""An event's live dashboard as it opens: everything the viewer may see, read at one
instant, and the timeline seq that instant is, so that the stream's later entries bring
it up to date with nothing missed and nothing counted twice."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from api.usecases.access import load_event_as
from api.usecases.accountability import (
    RollCallOut,
    StaffAccountability,
    roll_call_of,
    staff_accountability,
)
from api.usecases.callers import Caller
from api.usecases.expected import ExpectedCache
from api.usecases.updates import RECENT_UPDATES
from db import checkins, deliveries, schools, staff, timeline, updates
from db.deliveries import ChannelCounts
from db.timeline import TimelineEntry
from domain.checkins import Accountability, CheckIn, account
from domain.errors import NotFound
from domain.events import Event
from domain.policy import Permission
from domain.roles import Role
from domain.schools import Room, School
from domain.updates import Update
from domain.values import Value

RECENT = 100  # timeline entries a dashboard opens with; the stream adds the later ones
STAFF_NAMES = 5000  # the most names of staff a dashboard is given


class RoomNow(Value, kw_only=True):
    """A room and its current report (None until it reports)."""

    room: Room
    checkin: CheckIn | None


class Dashboard(Value, kw_only=True):
    """What one viewer sees of an event, as of the timeline's entry `seq`.

    `rooms` and `accountability` are None when the viewer's role may not see room
    accountability at this school, `deliveries` when it may not see delivery figures
    (leads' by default); `may_read_report` says whether the drill report is theirs to open.
    `people` names the school's staff for a viewer who may see its staff list (so that the
    stream's later check-ins say who reported); others have the names on the timeline.
    `staff` is the staff's reports of themselves and `roll_call` the students by name
    (both None with `rooms`); `updates` the event's newest updates, newest first.
    """

    event: Event
    school: School
    role: Role
    seq: int
    now: datetime
    rooms: list[RoomNow] | None
    accountability: Accountability | None
    deliveries: dict[str, ChannelCounts] | None
    timeline: list[TimelineEntry]
    may_read_report: bool
    people: dict[uuid.UUID, str]
    can: dict[str, bool]
    staff: StaffAccountability | None
    roll_call: RollCallOut | None
    updates: list[Update]  # each permission's name: whether the viewer has it at this school


async def dashboard_of(conn: asyncpg.Connection, caller: Caller, event_id: uuid.UUID,
                       now: datetime, expected: ExpectedCache) -> Dashboard:
    """The event as `caller` may see it (what its rooms expect from `expected`); another
    school's event is a 404 naming only the event. One repeatable-read snapshot: a
    check-in is either in the rooms and totals and at most `seq`, or after `seq` and
    still to come on the stream."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        ctx, role = await load_event_as(conn, caller, event_id)
        event, policy = ctx.event, ctx.policy
        school = await schools.get_school(conn, event.school_id)
        if school is None:  # a school is never deleted under its events
            raise NotFound(f"no event {event_id}")
        seq = await timeline.last_seq(conn, event_id)
        recent = await timeline.entries_after(conn, event_id, max(seq - RECENT, 0), RECENT)
        rooms: list[RoomNow] | None = None
        tally: Accountability | None = None
        reporting: StaffAccountability | None = None
        students: RollCallOut | None = None
        if policy.allows(role, Permission.READ_ACCOUNTABILITY):
            found, latest = await checkins.rooms_with_reports(conn, event_id, school.id)
            tally = account([r.id for r in found], latest)
            rooms = [RoomNow(room=r, checkin=latest.get(r.id)) for r in found]
            reporting = await staff_accountability(conn, ctx, role, now)
            students = await roll_call_of(conn, ctx, found, tally.rooms,
                                          await expected.get(conn, event))
        may_read_report = policy.allows(role, Permission.READ_REPORTS)
        counts = await deliveries.delivery_counts(conn, event_id) if may_read_report else None
        people = {}
        if policy.allows(role, Permission.MANAGE_STAFF):
            people = {m.user_id: m.name
                      for m in await staff.list_staff(conn, school, now, None, STAFF_NAMES)}
        news = await updates.list_updates(conn, event_id, None, RECENT_UPDATES)
    return Dashboard(event=event, school=school, role=role, seq=seq, now=now, rooms=rooms,
                     accountability=tally, deliveries=counts, timeline=recent,
                     may_read_report=may_read_report, people=people,
                     can={p.value: policy.allows(role, p) for p in Permission},
                     staff=reporting, roll_call=students, updates=news)
