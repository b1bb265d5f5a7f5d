"""A district admin imports a OneRoster export for every school of the district (the
work: api/usecases/rosters.py; one school's: api/routes/schools/roster.py)."""

from __future__ import annotations

import uuid

from litestar import Request, Router, post
from litestar.params import FromPath

from api.http.deps import CallerOf, Now, Work
from api.routes.schools.admin import IMPORT_RESPONSES, ROW_PROBLEMS, file_body
from api.routes.schools.roster import ONEROSTER_UPLOAD, ZIP
from api.usecases import rosters
from api.usecases.rosters import MAX_ZIP_BYTES, RosterImported


@post("/{district_id:uuid}/roster/oneroster", status_code=200,
      summary="Import the district's students from a OneRoster export",
      responses=IMPORT_RESPONSES, operation_class=ONEROSTER_UPLOAD,
      request_max_body_size=MAX_ZIP_BYTES)
async def post_district_oneroster(uow: Work, caller: CallerOf, now: Now, request: Request,
                                  district_id: FromPath[uuid.UUID]) -> RosterImported:
    """Each school org matched to a school of the district (by the sourcedId it was
    imported with, else by name) imports as one school's would; orgs no school matches
    are listed in `not_imported_orgs`, not refused. All schools or none: one
    contradiction anywhere and nothing is imported."""
    files = rosters.unzip(await file_body(request, ZIP))
    return await rosters.import_oneroster(uow, caller, files, now, district_id=district_id)


router = Router("/", route_handlers=[post_district_oneroster], exception_handlers=ROW_PROBLEMS,
                tags=["students"])
