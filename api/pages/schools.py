"""A school's page: its active event and the controls to run it, its open requests for
help, how many students it has, the start panel, its recent events with their reports,
and (for those who read reports) who an alert would miss today.

Only the controls the person's role allows at this school are shown; the API refuses the
rest anyway. Another school's page is the API's 404, which names nothing of the school.
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime

import asyncpg
from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from api.http.deps import CallerOf, Conn, Now
from api.pages.home import csrf_of
from api.pages.rendering import page
from api.usecases import reunification as reunifications
from db import assists as assists_db
from db import audience
from db import events as events_db
from db import schools as db
from db import students as students_db
from domain.errors import NotFound
from domain.events import Event, may_start
from domain.policy import Permission, Policy
from domain.readiness import ReachProblem, by_text_only, unreachable
from domain.roles import Role
from domain.srp import EventStatus

RECENT = 10  # events listed; the drill log has them all
HOLD_MS = 1500  # how long a real event's button is held before its countdown
COUNTDOWN_S = 5  # the countdown during which a real start can still be called off
MISSES = {  # why an alert would miss someone, in words a principal can act on
    ReachProblem.NO_DEVICE: "no phone with the app",
    ReachProblem.DEVICE_DISABLED: "the app must be opened again to re-register",
    ReachProblem.SMS_UNDELIVERABLE: "the last text to their phone failed",
    ReachProblem.VOICE_UNDELIVERABLE: "the last call to their phone failed: an alert they "
                                      "have not acknowledged cannot call them",
}


def allowed(policy: Policy, role: Role) -> dict[str, bool]:
    """Each permission's name and whether `role` has it here: what a template may show
    (`can.all_clear`, `can.start_drill`...), as `_event_controls.html` expects it."""
    return {permission.value: policy.allows(role, permission) for permission in Permission}


def at(moment: datetime, timezone: str) -> str:
    """A time as the school's clocks show it, e.g. "Thu Dec 3, 10:04"."""
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone))
    return f"{local:%a %b} {local.day}, {local:%H:%M}"


@get("/schools/{school_id:uuid}", include_in_schema=False)
async def school_page(request: Request, conn: Conn, caller: CallerOf, now: Now,
                      school_id: FromPath[uuid.UUID]) -> Template:
    """The school as the signed-in person may run it."""
    role = caller.role_at(school_id)
    school = await db.get_school(conn, school_id)
    if school is None:
        raise NotFound(f"no school {school_id}")
    can = allowed(await events_db.load_school_policy(conn, school_id), role)
    recent = await events_db.list_events(conn, school_id, events_db.EventFilter(), None, RECENT)
    active = await _active(conn, school_id)
    helping = await assists_db.list_assists(conn, school_id, True, None, RECENT)
    reunification = await reunifications.of_event(conn, school_id, None)
    missed, texted = None, 0
    if can[Permission.READ_REPORTS]:
        problems = unreachable(await audience.member_reach(conn, school_id, now))
        texted = sum(map(by_text_only, problems))
        missed = [(member, "; ".join(MISSES[problem] for problem in member.problems))
                  for member in problems if not by_text_only(member)]
    students = (await students_db.count_students(conn, school_id)
                if can[Permission.READ_STUDENTS] else None)
    return page("school.html", csrf=csrf_of(request, caller), caller=caller, role=role,
                school=school, can=can, active=active, missed=missed, texted=texted,
                students=students,
                recent=[(event, at(event.started_at, school.timezone)) for event in recent],
                started=active and at(active.started_at, school.timezone),
                helping=[(a, at(a.requested_at, school.timezone)) for a in helping],
                reunification=reunification,
                start_real=can[Permission.START_REAL_EVENT] and may_start(active, drill=False),
                start_drill=can[Permission.START_DRILL] and may_start(active, drill=True),
                hold_ms=HOLD_MS, countdown_s=COUNTDOWN_S)


async def _active(conn: asyncpg.Connection, school_id: uuid.UUID) -> Event | None:
    """The school's active event, if any (a school has at most one)."""
    where = events_db.EventFilter(status=EventStatus.ACTIVE)
    found = await events_db.list_events(conn, school_id, where, None, 1)
    return found[0] if found else None
