"""Opening an event's reunification (the rest: api/routes/reunifications.py)."""

from __future__ import annotations

import uuid

from litestar import Router, post
from litestar.params import FromPath, JSONBody

from api.http.deps import CallerOf, Now, Work
from api.http.problems import problem_specs
from api.routes.schools.reunifications import OpeningIn
from api.usecases import reunification as usecase
from domain.reunification import Reunification


@post("/{event_id:uuid}/reunification", status_code=201,
      summary="Open the event's reunification (texts the guardians)",
      responses=problem_specs(400, 401, 403, 404, 409))
async def open_reunification(uow: Work, caller: CallerOf, now: Now,
                             event_id: FromPath[uuid.UUID],
                             data: JSONBody[OpeningIn]) -> Reunification:
    """Safety leads, once per event (active or ended; 409 the second time, or while
    another is open at the school)."""
    return await usecase.open_for_event(uow, caller, event_id, data, now)


router = Router("/", route_handlers=[open_reunification], tags=["reunification"])
