"""Everything under /reunifications: the live view, students and adults checked in at the
site, approvals, releases, the close and the record (the work:
api/usecases/reunification.py). Opening one is an event's or a school's
(api/routes/events/reunification.py, api/routes/schools/reunifications.py)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from litestar import MediaType, Response, Router, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from api.http.body import Body
from api.http.csv_download import CSV, JsonOrCsv
from api.http.deps import CallerOf, Now, Work
from api.http.problems import problem_specs
from api.rendering import reunification_record
from api.usecases import reunification as usecase
from api.usecases.reunification import (
    AdultArriving,
    AdultCheckedIn,
    Approval,
    Arrival,
    LiveView,
    Record,
    ReleaseAsked,
    Released,
)
from domain.reunification import Reunification

# Each refusal of a release is its own problem type: urn:muster:problem:release-<reason>.
_RELEASE_REFUSALS = (
    "409: urn:muster:problem:release-<reason>, reason one of closed, not-arrived, "
    "already-released (the detail names the earlier release), adult-not-checked-in, "
    "restricted, not-listed, id-not-seen.")


class StudentIn(Body):
    student_id: uuid.UUID


class AdultIn(AdultArriving, Body, kw_only=True):
    """The use case's command as a body."""


class ReleaseIn(ReleaseAsked, Body, kw_only=True):
    """A student and an adult checked in at the site."""


WithRoster = Annotated[bool, QueryParameter(
    description="Also list the school's active students not yet checked in (to tap one).")]


@get("/{reunification_id:uuid}", summary="A reunification, live: the site's figures, "
     "students and adults waiting (audited)", responses=problem_specs(400, 401, 403, 404))
async def live(uow: Work, caller: CallerOf, now: Now, reunification_id: FromPath[uuid.UUID],
               roster: WithRoster = False) -> LiveView:
    """Staff of the student's school only; every read writes `reunification_read` to the
    school's audit trail, with who read it."""
    return await usecase.live_view(uow, caller, reunification_id, now, with_roster=roster)


@post("/{reunification_id:uuid}/students", status_code=201,
      summary="A student checked in at the site (201; 200 if already here)",
      responses={200: ResponseSpec(Arrival, description="Already checked in: nothing changed",
                                   generate_examples=False),
                 **problem_specs(400, 401, 403, 404, 409)})
async def student_arrived(uow: Work, caller: CallerOf, now: Now,
                          reunification_id: FromPath[uuid.UUID],
                          data: JSONBody[StudentIn]) -> Response[Arrival]:
    arrival = await usecase.student_arrived(uow, caller, reunification_id, data.student_id, now)
    return Response(arrival, status_code=201 if arrival.new else 200)


@post("/{reunification_id:uuid}/adults", status_code=201,
      summary="An adult checked in at the site, matched against each student's roster",
      responses=problem_specs(400, 401, 403, 404, 409))
async def adult_arrived(uow: Work, caller: CallerOf, now: Now,
                        reunification_id: FromPath[uuid.UUID],
                        data: JSONBody[AdultIn]) -> AdultCheckedIn:
    """Per student: `listed` (one of the student's guardians, by `guardian_id` or by
    name), every restriction on the student's record, `restricted` (one names this adult)
    and `needs`: nothing, approval (not listed, or photo ID not seen) or refused."""
    return await usecase.adult_arrived(uow, caller, reunification_id, data, now)


@post("/{reunification_id:uuid}/approvals", status_code=201,
      summary="An administrator approves releasing a student to an adult not on their list",
      description="Never over a restriction: " + _RELEASE_REFUSALS,
      responses=problem_specs(400, 401, 403, 404, 409))
async def approve(uow: Work, caller: CallerOf, now: Now, reunification_id: FromPath[uuid.UUID],
                  data: JSONBody[ReleaseIn]) -> Approval:
    return await usecase.approve(uow, caller, reunification_id, data, now)


@post("/{reunification_id:uuid}/releases", status_code=201,
      summary="Release a student to an adult, once", description=_RELEASE_REFUSALS,
      responses=problem_specs(400, 401, 403, 404, 409))
async def release(uow: Work, caller: CallerOf, now: Now, reunification_id: FromPath[uuid.UUID],
                  data: JSONBody[ReleaseIn]) -> Released:
    """Verified `listed` (on the roster, photo ID seen) or `approved`; audited."""
    return await usecase.release(uow, caller, reunification_id, data, now)


@post("/{reunification_id:uuid}/close", status_code=200, summary="Close a reunification",
      responses=problem_specs(400, 401, 403, 404, 409))
async def close(uow: Work, caller: CallerOf, now: Now,
                reunification_id: FromPath[uuid.UUID]) -> Reunification:
    return await usecase.close(uow, caller, reunification_id, now)


class RecordFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


Format = Annotated[RecordFormat, QueryParameter(
    description="`json` (default) or `csv` (one row per release).")]


@get("/{reunification_id:uuid}/record", summary="The record: every release, and its times "
     "(JSON or CSV; audited)",
     responses={200: ResponseSpec(Record, description="The record; text/csv with ?format=csv",
                                  generate_examples=False),
                **problem_specs(400, 401, 403, 404)},
     operation_class=JsonOrCsv)
async def record(uow: Work, caller: CallerOf, now: Now, reunification_id: FromPath[uuid.UUID],
                 format: Format = RecordFormat.JSON) -> Response[Any]:
    kept = await usecase.record(uow, caller, reunification_id, now)
    if format is RecordFormat.CSV:
        return Response(reunification_record.to_csv(kept), media_type=CSV, headers={
            "Content-Disposition":
                f'attachment; filename="muster-reunification-{reunification_id}.csv"'})
    return Response(kept)


@get("/{reunification_id:uuid}/record.html", summary="The record as a printable page",
     media_type=MediaType.HTML, responses=problem_specs(400, 401, 403, 404))
async def record_page(uow: Work, caller: CallerOf, now: Now,
                      reunification_id: FromPath[uuid.UUID]) -> str:
    return reunification_record.render(await usecase.record(uow, caller, reunification_id, now))


router = Router("/reunifications", route_handlers=[
    live, student_arrived, adult_arrived, approve, release, close, record, record_page],
    tags=["reunification"])
