"""A school's students loaded from its student information system: a OneRoster 1.1 CSV
export (a zip) or a plain students CSV (the work and its rules: api/usecases/rosters.py,
docs/roster.md)."""

from __future__ import annotations

import uuid

from litestar import Request, Router, post
from litestar.params import FromPath

from api.http.deps import CallerOf, Now, Work
from api.routes.schools.admin import (
    IMPORT_RESPONSES,
    ROW_PROBLEMS,
    csv_body,
    csv_upload,
    file_body,
    file_upload,
)
from api.usecases import rosters
from api.usecases.rosters import MAX_ZIP_BYTES, RosterImported, StudentsImported

ZIP = "application/zip"
ONEROSTER_UPLOAD = file_upload(ZIP, (
    "A OneRoster 1.1 CSV export as a zip: manifest.csv, orgs.csv and users.csv in bulk; "
    "classes.csv, enrollments.csv and academicSessions.csv when the manifest says bulk. "
    f"At most {MAX_ZIP_BYTES // 2**20} MiB."))
STUDENT_COLUMNS = (
    "student_id, given_name, family_name, grade?, homeroom? (a room's code), "
    "guardian1_name?, guardian1_phone?, guardian1_relationship?, guardian1_language? (en or "
    "es), guardian1_email?, the same for guardian2, restricted_adult? (names, separated by "
    "';'), restriction_kind? (no_contact or custody), restriction_note?")


@post("/{school_id:uuid}/roster/oneroster", status_code=200,
      summary="Import the school's students from a OneRoster export",
      responses=IMPORT_RESPONSES, operation_class=ONEROSTER_UPLOAD,
      request_max_body_size=MAX_ZIP_BYTES)
async def post_oneroster(uow: Work, caller: CallerOf, now: Now, request: Request,
                         school_id: FromPath[uuid.UUID]) -> RosterImported:
    """The school's org in the export (matched by the sourcedId it was imported with, else
    by name; none: 400 naming orgs.csv) gives its students, their guardians, classes and
    enrollments. Every file is checked first; one contradiction and nothing is imported
    (400, each by file, row and column). Students not in the export become inactive;
    `changed: false` means nothing was written."""
    files = rosters.unzip(await file_body(request, ZIP))
    return await rosters.import_oneroster(uow, caller, files, now, school_id=school_id)


@post("/{school_id:uuid}/students/import", status_code=200,
      summary="Import the school's students from a CSV file",
      responses=IMPORT_RESPONSES, operation_class=csv_upload(STUDENT_COLUMNS))
async def post_students_import(uow: Work, caller: CallerOf, now: Now, request: Request,
                               school_id: FromPath[uuid.UUID]) -> StudentsImported:
    """For a school without OneRoster. Every row is checked first; one bad row and nothing
    is imported (400, per row). A student is found again by `student_id`; students not in
    the file become inactive; each student's guardians and restrictions are the file's."""
    body = await csv_body(request)
    return await rosters.import_students(uow, caller, school_id, body, now)


router = Router("/", route_handlers=[post_oneroster, post_students_import],
                exception_handlers=ROW_PROBLEMS, tags=["students"])
