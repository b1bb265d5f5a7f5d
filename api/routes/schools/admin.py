"""Administering schools: district admins describe them (and add them:
api/routes/districts/schools.py); principals and district admins read the administrative
audit trail. Also what the rooms and staff routes share:
the school an administrator acts on, CSV uploads and their per-row problems.

Every change is written with its audit entry in one transaction, under a lock on the
school's row, so two administrators' changes to one school take turns.
"""

from __future__ import annotations

import functools
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, patch
from litestar.datastructures import State
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

from api.http.deps import CallerOf, Conn, Now
from api.http.pagination import ById, Cursor, Limit, decode_cursor, paginate
from api.http.problems import PROBLEM_JSON, problem_specs, request_id
from api.routes.schools.schools import SchoolOut, school_out
from api.usecases.callers import Caller
from db import audit
from db import events as events_db
from db import schools as db
from db.audit import AuditEntry
from domain.admin import Actor, AdminChange, check_school_change
from domain.admin import school_year_start as parse_school_year_start
from domain.errors import Invalid, NotFound
from domain.policy import Permission
from domain.roles import Role
from domain.roster import EMAIL, EMAIL_MAX, InvalidRows, RowError
from domain.schools import School

# Typed by people: no NUL (PostgreSQL text cannot hold it), no spaces around, not empty.
TRIMMED = r"^[^\x00\s]([^\x00]*[^\x00\s])?$"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=TRIMMED)]
Email = Annotated[str, msgspec.Meta(max_length=EMAIL_MAX, pattern=EMAIL)]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=TRIMMED,
                                       examples=["America/Chicago"])]
UsState = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$", examples=["TX"])]
MonthDay = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2}-[0-9]{2}$", examples=["08-12"],
                                       description="The school year's first day, MM-DD.")]


async def school_as(conn: Conn, caller: Caller, school_id: uuid.UUID,
                    permission: Permission | None, *, lock: bool = False) -> tuple[School, Actor]:
    """The school (locked for a change) and the caller acting on it: 404 outside their
    reach, 403 without `permission` there."""
    role = caller.role_at(school_id)
    school = await db.get_school(conn, school_id, lock=lock)
    if school is None:
        raise NotFound(f"no school {school_id}")
    if permission is not None:
        (await events_db.load_school_policy(conn, school_id)).require(role, permission)
    return school, Actor(user_id=caller.user_id, role=role)


def forget(state: State, user_ids: Iterable[uuid.UUID | None]) -> None:
    """Callers whose memberships just changed are read afresh on their next request to this
    process; other processes see the change once their 2 s cache entry expires."""
    for user_id in user_ids:
        if user_id is not None:
            state.callers.forget(user_id)


# -- CSV uploads -----------------------------------------------------------------------

class RowsProblem(msgspec.Struct, frozen=True, kw_only=True):
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


ROW_PROBLEMS = {InvalidRows: _on_invalid_rows}
IMPORT_RESPONSES = {400: ResponseSpec(RowsProblem, description="Bad rows: nothing imported",
                                      media_type=PROBLEM_JSON, generate_examples=False),
                    **problem_specs(401, 403, 404, 409, 415)}


def csv_upload(columns: str) -> type[Operation]:
    """An OpenAPI operation whose request body is a CSV file with these columns: the raw
    file (`format: binary`, so that generated clients send its bytes as they are)."""

    @dataclass
    class CsvUpload(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                required=True, description=f"A CSV file (UTF-8) with a header row: {columns}.",
                content={"text/csv": OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))})

    return CsvUpload


async def csv_body(request: Request) -> bytes:
    """The uploaded file; 415 unless sent as text/csv."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "text/csv":
        raise HTTPException(status_code=415, detail="send the file with Content-Type: text/csv")
    return await request.body()


# -- schools ---------------------------------------------------------------------------

@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"})


def checked_zone(name: str) -> str:
    if name not in _zones():
        raise Invalid(f"{name!r} is not a time zone name, e.g. America/Chicago",
                      field="timezone")
    return name


class SchoolIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new school; `state` defaults to the district's."""

    name: Name
    timezone: TimeZone
    state: UsState | None = None
    school_year_start: MonthDay = "08-01"


class SchoolChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change about a school; a field left out keeps its value."""

    name: Name | None = None
    timezone: TimeZone | None = None
    state: UsState | None = None
    school_year_start: MonthDay | None = None


def described(school: School, *, name: str, timezone: str, state: str,
               school_year_start: str) -> School:
    month, day = parse_school_year_start(school_year_start)
    return msgspec.structs.replace(school, name=name, timezone=checked_zone(timezone),
                                   state=state, school_year_start_month=month,
                                   school_year_start_day=day)


def description(school: School) -> dict[str, Any]:
    out = school_out(school, Role.DISTRICT_ADMIN)
    return {k: getattr(out, k) for k in ("name", "timezone", "state", "school_year_start")}


@patch("/{school_id:uuid}", summary="Change a school's name, time zone, state or "
       "school year", responses=problem_specs(400, 401, 403, 404))
async def update_school(conn: Conn, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                        data: JSONBody[SchoolChange]) -> SchoolOut:
    async with conn.transaction():
        school, actor = await school_as(conn, caller, school_id, None, lock=True)
        check_school_change(actor.role)
        was = description(school)
        wanted = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        changed = described(school, **(was | wanted))
        changes = {k: [was[k], v] for k, v in description(changed).items() if v != was[k]}
        if changes:
            await db.update_school(conn, changed)
            await audit.record(conn, changed, actor, AdminChange.SCHOOL_UPDATED, changes, now)
    return school_out(changed, actor.role)


# -- the audit trail -------------------------------------------------------------------

class AuditPage(msgspec.Struct, frozen=True):
    items: list[AuditEntry]
    next_cursor: str | None


@get("/{school_id:uuid}/audit", summary="Administrative changes, newest first",
     responses=problem_specs(400, 401, 403, 404))
async def audit_trail(conn: Conn, caller: CallerOf, school_id: FromPath[uuid.UUID],
                      limit: Limit = 50, cursor: Cursor = None) -> AuditPage:
    """Schools, rooms, staff and imports: who changed what, and when."""
    await school_as(conn, caller, school_id, Permission.READ_ADMIN_AUDIT)
    after = decode_cursor(cursor, ById)
    rows = await audit.list_entries(conn, school_id, after and after[0], limit + 1)
    items, next_cursor = paginate(rows, limit, lambda e: (e.id,))
    return AuditPage(items, next_cursor)


router = Router("/", route_handlers=[update_school, audit_trail],
                tags=["administration"])
