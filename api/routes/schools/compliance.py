"""Drill compliance over HTTP: required vs. conducted for a school, built here also for
every school of a district (api/routes/districts/compliance.py). Who may see what is as
for the drill log (api/usecases/school_years.py).
"""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Router, get
from litestar.params import FromPath

from api.http.deps import CallerOf, Conn, Now
from api.http.problems import problem_specs
from api.routes.schools.school_years import (
    SchoolYearOut,
    SchoolYearQuery,
    school_year_asked,
    year_out,
)
from api.usecases.school_years import log_windows, school_in_year, years_of
from db import compliance as db
from db.compliance import DrillLogEntry, SchoolWithYear
from domain.calendar import year_label
from domain.compliance import Drill, Requirement, RulePack, Skipped, Status, evaluate
from domain.compliance_rules import state_pack
from domain.policy import Permission
from domain.values import Value


class PackOut(Value):
    id: str
    title: str
    jurisdiction: str


class SchoolCompliance(Value, kw_only=True):
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


def compliance_of(found: SchoolWithYear, start_year: int, district_pack: RulePack | None,
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


async def events_of(conn: Conn, found: list[SchoolWithYear],
                     start_year: int) -> dict[uuid.UUID, list[DrillLogEntry]]:
    """Each school's events of the year, in one query."""
    by_school: dict[uuid.UUID, list[DrillLogEntry]] = {f.school.id: [] for f in found}
    for entry in await db.year_events(conn, log_windows(found, start_year)):
        by_school[entry.school_id].append(entry)
    return by_school


@get("/{school_id:uuid}/compliance",
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
    events = await events_of(conn, [found], start)
    return compliance_of(found, start, district_pack, events[school_id])


# ---------------------------------------------------------------- rule packs


router = Router("/", route_handlers=[school_compliance], tags=["compliance"])
