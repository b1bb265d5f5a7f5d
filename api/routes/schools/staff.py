"""A school's staff over HTTP: people and their role there, one at a time or from a CSV
file (the work, and what a person and a membership are: api/usecases/staff.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from api.http.body import Body
from api.http.deps import CallerOf, Conn, Now, Texts, Work
from api.http.pagination import ByName, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.http.text import Email, Instant, Name
from api.http.texting import told
from api.routes.schools.admin import IMPORT_RESPONSES, ROW_PROBLEMS, csv_body, csv_upload
from api.usecases import staff
from api.usecases.phones import to_e164
from api.usecases.schools import school_as
from api.usecases.staff import StaffImported
from db import staff as db
from db.staff import StaffMember
from domain.language import Language
from domain.policy import Permission
from domain.roles import Role
from domain.values import Value

Phone = Annotated[str, msgspec.Meta(min_length=1, max_length=40,
                                    examples=["(512) 555-0100", "+15125550100"])]


class StaffIn(Body, kw_only=True):
    """A person to add; a substitute has `expires_at` (within a year). `language` is the
    person's (English unless given); for a phone already known it is set only by someone
    who manages them at every school."""

    name: Name
    phone: Phone
    role: Role
    email: Email | None = None
    expires_at: Instant | None = None
    language: Language | None = None


class StaffChange(Body, kw_only=True):
    """What to change; a field left out keeps its value (`email` and `expires_at` may be
    set to null to clear them). `name` and `email` are this school's entry; `phone` is
    the person's sign-in identity, and `language` what every message to them is written
    in, at every school."""

    name: Name | None = None
    phone: Phone | None = None
    role: Role | None = None
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    expires_at: Instant | msgspec.UnsetType | None = msgspec.UNSET
    language: Language | None = None


class StaffPage(Value):
    items: list[StaffMember]
    next_cursor: str | None


@get("/{school_id:uuid}/staff", summary="The school's staff, by name",
     responses=problem_specs(400, 401, 403, 404))
async def list_staff(conn: Conn, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                     limit: Limit = 50, cursor: Cursor = None) -> StaffPage:
    """District admins are listed too (they reach every school); so are substitutes whose
    time is over (`active: false`) until someone removes them."""
    school, _ = await school_as(conn, caller, school_id, Permission.MANAGE_STAFF)
    rows = await db.list_staff(conn, school, now, decode_cursor(cursor, ByName), limit + 1)
    items, next_cursor = paginate(rows, limit, lambda m: (m.name, m.user_id))
    return StaffPage(items, next_cursor)


@post("/{school_id:uuid}/staff", summary="Add a person to the staff",
      responses=problem_specs(400, 401, 403, 404, 409))
async def add_staff(uow: Work, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                    data: JSONBody[StaffIn]) -> Response[StaffMember]:
    """A phone already known (from another school) adds that person, as named here: the
    answer holds what was sent and nothing else of theirs."""
    added = await staff.add_member(uow, caller, school_id, name=data.name,
                                   phone=to_e164(data.phone), role=data.role, email=data.email,
                                   expires_at=data.expires_at, now=now,
                                   language=data.language)
    return Response(added, status_code=201)


@patch("/{school_id:uuid}/staff/{user_id:uuid}", summary="Change a staff member",
       responses=problem_specs(400, 401, 403, 404, 409))
async def change_staff(uow: Work, caller: CallerOf, now: Now, texts: Texts,
                       school_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID],
                       data: JSONBody[StaffChange]) -> Response[StaffMember]:
    """A new role or expiry applies here (a district admin's, to the district), as does a
    new name or email: this school's entry. A new phone is the person's, at every school:
    only someone who manages them at every one may change it (never their own: that is
    POST /v1/me/phone), and it signs them out everywhere. A new language is theirs at
    every school too: they may set their own, anyone else only if they manage them at
    every school (403 otherwise)."""
    clearable = ("email", "expires_at")  # null clears these, left out keeps them
    given = {k: v for k, v in msgspec.structs.asdict(data).items()
             if v is not (msgspec.UNSET if k in clearable else None)}
    if data.phone:
        given["phone"] = to_e164(data.phone)
    after, old_phone = await staff.change_member(uow, caller, school_id, user_id, given, now)
    return Response(after, background=told(texts, old_phone, after.phone))


@delete("/{school_id:uuid}/staff/{user_id:uuid}", summary="Take a person off the staff",
        responses=problem_specs(400, 401, 403, 404))
async def remove_staff(uow: Work, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                       user_id: FromPath[uuid.UUID]) -> None:
    """They lose access to the school at once (a district admin, to the district); the
    person and their other schools' memberships stay."""
    await staff.remove_member(uow, caller, school_id, user_id, now)


@post("/{school_id:uuid}/staff/import", status_code=200, summary="Import staff from CSV",
      responses=IMPORT_RESPONSES,
      operation_class=csv_upload("name, phone, role, email?, expires_at? (a date: through "
                                 "that day, or a time with its UTC offset), language? (en "
                                 "or es: the person's, at every school)"))
async def post_staff_import(uow: Work, caller: CallerOf, now: Now, request: Request,
                            school_id: FromPath[uuid.UUID]) -> StaffImported:
    """Every row is checked first; one bad row and nothing is imported (400, per row). A
    row sets that person's role here and this school's entry (name, email) for them; a
    phone already known elsewhere is that person, whose own details are not touched;
    people not in the file are not touched."""
    body = await csv_body(request)
    return await staff.import_staff(uow, caller, school_id, body, now)


router = Router("/", route_handlers=[list_staff, add_staff, change_staff, remove_staff,
                                     post_staff_import],
                exception_handlers=ROW_PROBLEMS, tags=["administration"])
