"""Administering schools: district admins describe them (and add them:
api/routes/districts/schools.py; the work is api/usecases/schools.py); principals and
district admins read the administrative audit trail. Also what the rooms and staff
routes share: CSV uploads and their per-row problems.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar import Request, Response, Router, get, patch
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, JSONBody
from litestar.types import ExceptionHandlersMap

from api.http.body import Body
from api.http.deps import CallerOf, Conn, Now, Work
from api.http.pagination import ById, Cursor, Limit, decode_cursor, paginate
from api.http.problems import PROBLEM_JSON, problem_specs, request_id
from api.http.text import TRIMMED, Name
from api.routes.schools.schools import SchoolOut, school_out
from api.usecases import schools
from db import audit
from db.audit import AuditEntry
from domain.policy import Permission
from domain.roster import InvalidRows, RowError
from domain.values import Value

TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=TRIMMED,
                                       examples=["America/Chicago"])]
UsState = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$", examples=["TX"])]
MonthDay = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2}-[0-9]{2}$", examples=["08-12"],
                                       description="The school year's first day, MM-DD.")]
Address = Annotated[str, msgspec.Meta(
    min_length=1, max_length=300, pattern=TRIMMED,
    examples=["4200 River Road, Austin, TX 78701"],
    description="Where the school is, as a 911 call says it to anyone coming.")]


# -- CSV uploads -----------------------------------------------------------------------

class RowsProblem(Value, kw_only=True):
    """A refused import: every problem by row (the header is row 1) and column; nothing
    of the file was stored."""

    type: str = "urn:muster:problem:invalid-rows"
    title: str = "Bad Request"
    status: int = 400
    detail: str
    request_id: str | None = None
    errors: list[RowError]
    error_count: int


def _on_invalid_rows(request: Request, exc: InvalidRows) -> Response:
    return Response(RowsProblem(detail=str(exc), request_id=request_id(request),
                                errors=exc.errors, error_count=exc.total),
                    status_code=400, media_type=PROBLEM_JSON)


ROW_PROBLEMS: ExceptionHandlersMap = {InvalidRows: _on_invalid_rows}
IMPORT_RESPONSES = {400: ResponseSpec(RowsProblem, description="Bad rows: nothing imported",
                                      media_type=PROBLEM_JSON, generate_examples=False),
                    **problem_specs(401, 403, 404, 409, 415)}


def csv_upload(columns: str) -> type[Operation]:
    """An OpenAPI operation whose request body is a CSV file with these columns."""
    return file_upload("text/csv", f"A CSV file (UTF-8) with a header row: {columns}.")


def file_upload(media_type: str, description: str) -> type[Operation]:
    """An OpenAPI operation whose request body is a file: its raw bytes (`format: binary`,
    so that generated clients send them as they are)."""

    @dataclass
    class FileUpload(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                required=True, description=description,
                content={media_type: OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))})

    return FileUpload


async def csv_body(request: Request) -> bytes:
    """The uploaded file; 415 unless sent as text/csv."""
    return await file_body(request, "text/csv")


async def file_body(request: Request, media_type: str) -> bytes:
    """The uploaded file; 415 unless sent as `media_type`."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != media_type:
        raise HTTPException(status_code=415,
                            detail=f"send the file with Content-Type: {media_type}")
    return await request.body()


# -- schools ---------------------------------------------------------------------------

class SchoolIn(Body, kw_only=True):
    """A new school; `state` defaults to the district's."""

    name: Name
    timezone: TimeZone
    state: UsState | None = None
    school_year_start: MonthDay = "08-01"
    address: Address | None = None


class SchoolChange(Body, kw_only=True):
    """What to change about a school; a field left out keeps its value."""

    name: Name | None = None
    timezone: TimeZone | None = None
    state: UsState | None = None
    school_year_start: MonthDay | None = None
    address: Address | None = None


@patch("/{school_id:uuid}", summary="Change a school's name, time zone, state, "
       "school year or address", responses=problem_specs(400, 401, 403, 404))
async def update_school(uow: Work, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                        data: JSONBody[SchoolChange]) -> SchoolOut:
    wanted = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    school, role = await schools.change_school(uow, caller, school_id, wanted, now)
    return school_out(school, role)


# -- the audit trail -------------------------------------------------------------------

class AuditPage(Value):
    items: list[AuditEntry]
    next_cursor: str | None


@get("/{school_id:uuid}/audit", summary="Administrative changes, newest first",
     responses=problem_specs(400, 401, 403, 404))
async def audit_trail(conn: Conn, caller: CallerOf, school_id: FromPath[uuid.UUID],
                      limit: Limit = 50, cursor: Cursor = None) -> AuditPage:
    """Schools, rooms, staff and imports: who changed what, and when."""
    await schools.school_as(conn, caller, school_id, Permission.READ_ADMIN_AUDIT)
    after = decode_cursor(cursor, ById)
    rows = await audit.list_entries(conn, school_id, after and after[0], limit + 1)
    items, next_cursor = paginate(rows, limit, lambda e: (e.id,))
    return AuditPage(items, next_cursor)


router = Router("/", route_handlers=[update_school, audit_trail],
                tags=["administration"])
