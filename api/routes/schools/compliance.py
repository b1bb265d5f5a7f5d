"""Drill compliance over HTTP: required vs. conducted for a school or, in brief, for
every school of a district, and the rule packs (built-in, and a district's own).
Who may see what is as for the drill log (api/routes/schools/school_years.py).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date

import msgspec
from litestar import Router, get, put
from litestar.params import FromPath, JSONBody

from api.http.deps import CallerOf, Conn, Now
from api.http.pagination import BySlug, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.routes.schools.school_years import (
    SchoolYearOut,
    SchoolYearQuery,
    district_schools_in_year,
    log_windows,
    require_district_admin,
    school_in_year,
    school_year_asked,
    year_out,
    years_of,
)
from db import compliance as db
from db.compliance import DrillLogEntry, SchoolWithYear
from domain.calendar import year_label
from domain.compliance import Drill, Requirement, RulePack, Skipped, Status, evaluate, worst
from domain.compliance_rules import builtin_packs, check_district_pack, state_pack
from domain.errors import NotFound
from domain.policy import Permission


class PackOut(msgspec.Struct, frozen=True):
    id: str
    title: str
    jurisdiction: str


class SchoolCompliance(msgspec.Struct, frozen=True, kw_only=True):
    """Required vs. conducted per rule of the school's packs (its state's and its
    district's own), as of `today` at the school; `status` is the worst requirement's."""

    school_id: uuid.UUID
    school_name: str
    school_year: str
    today: date
    status: Status | None
    dates: SchoolYearOut
    packs: list[PackOut]
    requirements: list[Requirement]
    skipped: list[Skipped]


def _drill(entry: DrillLogEntry) -> Drill:
    return Drill(id=entry.id, day=entry.date, action=entry.action, hazard=entry.hazard,
                 purpose=entry.purpose, drill=entry.drill, status=entry.status)


def _compliance(found: SchoolWithYear, start_year: int, district_pack: RulePack | None,
                entries: list[DrillLogEntry]) -> SchoolCompliance:
    year, _ = years_of(found, start_year)
    packs = [p for p in (state_pack(found.school.state), district_pack) if p is not None]
    result = evaluate(packs, year, [_drill(e) for e in entries], found.today)
    return SchoolCompliance(
        school_id=found.school.id, school_name=found.school.name,
        school_year=year_label(start_year), today=found.today, status=result.status,
        dates=year_out(found.school.id, year),
        packs=[PackOut(p.id, p.title, p.jurisdiction) for p in packs],
        requirements=result.requirements, skipped=result.skipped)


async def _events_of(conn: Conn, found: list[SchoolWithYear],
                     start_year: int) -> dict[uuid.UUID, list[DrillLogEntry]]:
    """Each school's events of the year, in one query."""
    by_school: dict[uuid.UUID, list[DrillLogEntry]] = {f.school.id: [] for f in found}
    for entry in await db.year_events(conn, log_windows(found, start_year)):
        by_school[entry.school_id].append(entry)
    return by_school


@get("/schools/{school_id:uuid}/compliance",
     summary="A school's drill compliance for a school year",
     description="Per requirement of the school's state pack and its district's own pack: "
                 "required and conducted (with event ids) per period, status (met, on_track, "
                 "due_soon, overdue), next due date, and conditions Muster cannot check.",
     responses=problem_specs(400, 401, 403, 404))
async def school_compliance(conn: Conn, caller: CallerOf, now: Now,
                            school_id: FromPath[uuid.UUID],
                            school_year: SchoolYearQuery) -> SchoolCompliance:
    start = school_year_asked(school_year)
    found = await school_in_year(conn, caller, school_id, start, Permission.READ_REPORTS,
                                 now)
    district_pack = await db.load_rule_pack(conn, found.school.district_id)
    events = await _events_of(conn, [found], start)
    return _compliance(found, start, district_pack, events[school_id])


class StatusCounts(msgspec.Struct, frozen=True, kw_only=True):
    met: int = 0
    on_track: int = 0
    due_soon: int = 0
    overdue: int = 0


class Attention(msgspec.Struct, frozen=True, kw_only=True):
    """A requirement that is overdue or due soon."""

    id: str
    title: str
    status: Status
    required: int
    conducted: int
    next_due: date | None


class SchoolSummary(msgspec.Struct, frozen=True, kw_only=True):
    school_id: uuid.UUID
    school_name: str
    state: str
    status: Status | None
    requirements: StatusCounts
    attention: list[Attention]
    skipped: int


class DistrictCompliance(msgspec.Struct, frozen=True, kw_only=True):
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


@get("/districts/{district_id:uuid}/compliance",
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
    events = await _events_of(conn, found, start)
    schools = [_compliance(f, start, district_pack, events[f.school.id]) for f in found]
    every = [r for s in schools for r in s.requirements]
    return DistrictCompliance(
        district_id=district_id, school_year=year_label(start),
        status=worst(s.status for s in schools if s.status is not None),
        requirements=_counts(every),
        schools=[_summary(c, f.school.state) for c, f in zip(schools, found, strict=True)])


# ---------------------------------------------------------------- rule packs

class RulePackPage(msgspec.Struct, frozen=True):
    items: list[RulePack]
    next_cursor: str | None


@get("/rule-packs", summary="The built-in rule packs, one per state, by id",
     responses=problem_specs(400, 401))
async def list_rule_packs(limit: Limit = 50, cursor: Cursor = None) -> RulePackPage:
    """Each rule cites its source; each pack says what of it was verified."""
    (after,) = decode_cursor(cursor, BySlug) or ("",)
    packs = [p for i, p in sorted(builtin_packs().items()) if i > after]
    items, next_cursor = paginate(packs, limit, lambda p: (p.id,))
    return RulePackPage(items, next_cursor)


@get("/districts/{district_id:uuid}/rule-pack", summary="The district's own rule pack",
     responses=problem_specs(400, 401, 403, 404))
async def get_rule_pack(conn: Conn, caller: CallerOf, now: Now,
                        district_id: FromPath[uuid.UUID]) -> RulePack:
    await require_district_admin(conn, caller, district_id, now, "see the district's rule pack")
    pack = await db.load_rule_pack(conn, district_id)
    if pack is None:
        raise NotFound(f"district {district_id} has no rule pack of its own")
    return pack


@put("/districts/{district_id:uuid}/rule-pack", summary="Set the district's own rule pack",
     description="Same schema as the built-in packs (GET /v1/rule-packs). Its rules apply to "
                 "every school of the district besides its state's; `replaces` drops state "
                 "rules (e.g. `tx/fire` where the fire marshal set another schedule).",
     responses=problem_specs(400, 401, 403, 404))
async def set_rule_pack(conn: Conn, caller: CallerOf, now: Now,
                        district_id: FromPath[uuid.UUID],
                        data: JSONBody[RulePack]) -> RulePack:
    await require_district_admin(conn, caller, district_id, now, "change the district's rule pack")
    pack = check_district_pack(data)
    await db.save_rule_pack(conn, district_id, pack, caller.user_id, now)
    return pack


router = Router("/", route_handlers=[school_compliance, district_compliance, list_rule_packs,
                                     get_rule_pack, set_rule_pack], tags=["compliance"])
