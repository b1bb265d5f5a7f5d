"""A district's compliance: every school's in brief, and the district's own rule pack
(district admins only). Who may see what is as for the drill log
(api/usecases/school_years.py)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date

from litestar import Router, get, put
from litestar.params import FromPath, JSONBody

from api.http.deps import CallerOf, Conn, Now, Work
from api.http.problems import problem_specs
from api.routes.schools.compliance import SchoolCompliance, compliance_of, events_of
from api.routes.schools.school_years import SchoolYearQuery, school_year_asked
from api.usecases import compliance
from api.usecases.school_years import district_schools_in_year, require_district_admin
from db import compliance as db
from domain.calendar import year_label
from domain.compliance import Requirement, RulePack, Status, worst
from domain.errors import NotFound
from domain.values import Value


class StatusCounts(Value, kw_only=True):
    met: int = 0
    on_track: int = 0
    due_soon: int = 0
    overdue: int = 0


class Attention(Value, kw_only=True):
    """A requirement that is overdue or due soon."""

    id: str
    title: str
    status: Status
    required: int
    conducted: int
    next_due: date | None


class SchoolSummary(Value, kw_only=True):
    school_id: uuid.UUID
    school_name: str
    state: str
    status: Status | None
    requirements: StatusCounts
    attention: list[Attention]
    skipped: int


class DistrictCompliance(Value, kw_only=True):
    """Every school's compliance in brief, schools by name; `requirements` counts every
    school's requirements by status."""

    district_id: uuid.UUID
    school_year: str
    status: Status | None
    requirements: StatusCounts
    schools: list[SchoolSummary]


def _counts(requirements: list[Requirement]) -> StatusCounts:
    return StatusCounts(**Counter(r.status.value for r in requirements))


def _summary(c: SchoolCompliance, state: str) -> SchoolSummary:
    attention = [Attention(id=r.id, title=r.title, status=r.status, required=r.required,
                           conducted=r.conducted, next_due=r.next_due)
                 for r in c.requirements if r.status in (Status.OVERDUE, Status.DUE_SOON)]
    return SchoolSummary(school_id=c.school_id, school_name=c.school_name, state=state,
                         status=c.status, requirements=_counts(c.requirements),
                         attention=attention, skipped=len(c.skipped))


@get("/{district_id:uuid}/compliance",
     summary="Every school's drill compliance in brief (district admins)",
     description="Per school: its worst status, its requirements counted by status, and "
                 "those overdue or due soon. Not paginated: one row per school.",
     responses=problem_specs(400, 401, 403, 404))
async def district_compliance(conn: Conn, caller: CallerOf, now: Now,
                              district_id: FromPath[uuid.UUID],
                              school_year: SchoolYearQuery) -> DistrictCompliance:
    start = school_year_asked(school_year)
    found = await district_schools_in_year(conn, caller, district_id, start, now,
                                           "see the district's compliance")
    district_pack = await db.load_rule_pack(conn, district_id)
    events = await events_of(conn, found, start)
    schools = [compliance_of(f, start, district_pack, events[f.school.id]) for f in found]
    every = [r for s in schools for r in s.requirements]
    return DistrictCompliance(
        district_id=district_id, school_year=year_label(start),
        status=worst(s.status for s in schools if s.status is not None),
        requirements=_counts(every),
        schools=[_summary(c, f.school.state) for c, f in zip(schools, found, strict=True)])


@get("/{district_id:uuid}/rule-pack", summary="The district's own rule pack",
     responses=problem_specs(400, 401, 403, 404))
async def get_rule_pack(conn: Conn, caller: CallerOf, now: Now,
                        district_id: FromPath[uuid.UUID]) -> RulePack:
    await require_district_admin(conn, caller, district_id, now, "see the district's rule pack")
    pack = await db.load_rule_pack(conn, district_id)
    if pack is None:
        raise NotFound(f"district {district_id} has no rule pack of its own")
    return pack


@put("/{district_id:uuid}/rule-pack", summary="Set the district's own rule pack",
     description="Same schema as the built-in packs (GET /v1/rule-packs). Its rules apply to "
                 "every school of the district besides its state's; `replaces` drops state "
                 "rules (e.g. `tx/fire` where the fire marshal set another schedule).",
     responses=problem_specs(400, 401, 403, 404))
async def set_rule_pack(uow: Work, caller: CallerOf, now: Now,
                        district_id: FromPath[uuid.UUID],
                        data: JSONBody[RulePack]) -> RulePack:
    return await compliance.set_district_pack(uow, caller, district_id, data, now)


router = Router("/", route_handlers=[district_compliance, get_rule_pack, set_rule_pack],
                tags=["compliance"])
