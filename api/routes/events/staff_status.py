"""A member of staff reports themselves during an event."""

from __future__ import annotations

import uuid

from litestar import Router, post
from litestar.params import FromPath, JSONBody

from api.http.body import Body
from api.http.deps import CallerOf, Now, Work
from api.http.problems import problem_specs
from api.usecases import staff_status
from domain import staff_status as rules
from domain.staff_status import StaffReport


class StatusIn(rules.StatusRequest, Body, kw_only=True):
    """The domain's request as a body."""


@post("/{event_id:uuid}/status", summary="Report yourself: safe, need help, not with "
      "students, off site (the newest report counts)",
      responses=problem_specs(400, 401, 404, 409), status_code=201)
async def report_status(uow: Work, caller: CallerOf, now: Now, event_id: FromPath[uuid.UUID],
                        data: JSONBody[StatusIn]) -> StaffReport:
    """Any member of the event's school, about themselves; 409 once the event has ended."""
    reported = await staff_status.report_status(uow, caller, event_id, data, now)
    return reported.report


router = Router("/", route_handlers=[report_status], tags=["events"])
