"""Drill compliance over HTTP: a school year's dates, the drill log and the compliance of a
school or a whole district, and the rule packs (built-in, and a district's own).

School routes need READ_REPORTS at the school (setting its dates, SET_SCHOOL_YEAR);
district routes need a district_admin membership of that district. Another tenant's
school or district is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from litestar import Response, Router, get, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Caller
from api.csv_download import CSV, JsonOrCsv
from api.deps import CallerOf, Conn, Now
from api.pagination import Cursor, Limit, decode_cursor, paginate
from api.problems import problem_specs
from api.text import checked_instant
from db import compliance as db
from db import events as events_db
from db.compliance import DrillLogEntry, LogWindow, SchoolWithYear
from domain import calendar
from domain.calendar import GradeBand, SchoolYear, Source, default_year, year_label
from domain.compliance import Drill, Requirement, RulePack, Skipped, Status, evaluate, worst
from domain.compliance_rules import builtin_packs, check_district_pack, state_pack
from domain.errors import Forbidden, Invalid, NotFound
from domain.policy import Permission
from domain.roles import Role

SchoolYearQuery = Annotated[str | None, QueryParameter(
    description="Required: the school year, two consecutive years, e.g. 2026-2027.",
    max_length=20)]


class LogFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


Format = Annotated[LogFormat, QueryParameter(
    description="`json` (default, paginated) or `csv` (the whole year).")]


def _school_year(text: str | None) -> int:
    """The required ?school_year= of a request, as its first calendar year."""
    if text is None:
        raise Invalid("school_year is required, e.g. ?school_year=2026-2027", field="school_year")
    return calendar.parse_school_year(text)


# ---------------------------------------------------------------- who may see what

async def _school(conn: Conn, caller: Caller, school_id: uuid.UUID, start_year: int,
                  permission: Permission, now: datetime) -> SchoolWithYear:
    """The school and its dates for the year, if the caller may do `permission` there."""
    role = caller.role_at(school_id)
    (await events_db.load_school_policy(conn, school_id)).require(role, permission)
    found = await db.school_with_year(conn, school_id, start_year, now)
    if found is None:
        raise NotFound(f"no school {school_id}")
    return found


async def _district(conn: Conn, caller: Caller, district_id: uuid.UUID, now: datetime,
                    doing: str) -> None:
    """Refuse anyone but a district admin of this district (404 for an outsider)."""
    roles = await db.district_roles(conn, caller.user_id, district_id, now)
    if not roles:
        raise NotFound(f"no district {district_id}")
    if Role.DISTRICT_ADMIN not in roles:
        raise Forbidden(f"only a district admin of this district may {doing}")


async def _district_schools(conn: Conn, caller: Caller, district_id: uuid.UUID,
                            start_year: int, now: datetime, doing: str) -> list[SchoolWithYear]:
    """A district admin's schools of the district, with their dates for the year."""
    await _district(conn, caller, district_id, now, doing)
    return await db.district_schools_with_year(conn, district_id, start_year, now)


def _years(found: SchoolWithYear, start_year: int) -> tuple[SchoolYear, SchoolYear]:
    """The school's dates for the year (its own, else the default) and the default."""
    s = found.school
    default = default_year(start_year, s.school_year_start_month, s.school_year_start_day)
    return found.own or default, default


def _windows(found: list[SchoolWithYear], start_year: int) -> list[LogWindow]:
    """The days whose events are in each school's log of the year."""
    return [LogWindow(f.school.id, *calendar.log_window(*_years(f, start_year)))
            for f in found]


# ---------------------------------------------------------------- school years

class SchoolYearOut(msgspec.Struct, frozen=True, kw_only=True):
    """A school's dates for a school year; `source` is `default` when the school set none
    (from its school_year_start to the day before the next, semester 2 halfway)."""

    school_id: uuid.UUID
    school_year: str
    first_day: date
    last_day: date
    second_semester_start: date
    grade_band: GradeBand | None
    source: Source


class SchoolYearIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A school's own dates; a date left out keeps the default (semester 2 halfway)."""

    first_day: date | None = None
    last_day: date | None = None
    second_semester_start: date | None = None
    grade_band: GradeBand | None = None


def _year_out(school_id: uuid.UUID, year: SchoolYear) -> SchoolYearOut:
    return SchoolYearOut(school_id=school_id, school_year=year_label(year.start_year),
                         first_day=year.first_day, last_day=year.last_day,
                         second_semester_start=year.second_semester_start,
                         grade_band=year.grade_band, source=year.source)


@get("/schools/{school_id:uuid}/school-years/{school_year:str}",
     summary="A school's dates for a school year (its own or the default)",
     responses=problem_specs(400, 401, 403, 404))
async def get_school_year(conn: Conn, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                          school_year: FromPath[str]) -> SchoolYearOut:
    start = calendar.parse_school_year(school_year)
    found = await _school(conn, caller, school_id, start, Permission.READ_REPORTS, now)
    return _year_out(school_id, _years(found, start)[0])


@put("/schools/{school_id:uuid}/school-years/{school_year:str}",
     summary="Set a school's dates for a school year",
     description="First and last day, the second semester's first day and the grade band "
                 "(for rules such as California's); what is left out keeps the default.",
     responses=problem_specs(400, 401, 403, 404))
async def set_school_year(conn: Conn, caller: CallerOf, now: Now,
                          school_id: FromPath[uuid.UUID], school_year: FromPath[str],
                          data: JSONBody[SchoolYearIn]) -> SchoolYearOut:
    start = calendar.parse_school_year(school_year)
    found = await _school(conn, caller, school_id, start, Permission.SET_SCHOOL_YEAR, now)
    year = calendar.school_year(_years(found, start)[1], **msgspec.structs.asdict(data))
    await db.save_school_year(conn, school_id, year, caller.user_id, now)
    return _year_out(school_id, year)


# ---------------------------------------------------------------- drill log

class DrillLogPage(msgspec.Struct, frozen=True):
    """The events (drills and real) that started in the school year, oldest first."""

    school_year: str
    items: list[DrillLogEntry]
    next_cursor: str | None


_LOG_SPEC = {200: ResponseSpec(DrillLogPage, description="The log; text/csv (every event of "
                               "the year, no pages) with ?format=csv", generate_examples=False)}
CSV_COLUMNS = [f.encode_name for f in msgspec.structs.fields(DrillLogEntry)]
_FORMULA_START = frozenset("=+-@\t\r")


def _cell(value: object) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is quoted with a '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return f"'{text}" if text[:1] in _FORMULA_START else text


def drill_log_csv(entries: list[DrillLogEntry]) -> bytes:
    """The drill log as CSV, one event a row, with a header of CSV_COLUMNS."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([_cell(v) for v in entry.values()] for entry in msgspec.to_builtins(entries))
    return out.getvalue().encode()


async def _drill_log(conn: Conn, found: list[SchoolWithYear], start_year: int,
                     format_: LogFormat, limit: int, cursor: str | None,
                     name: str) -> Response[DrillLogPage]:
    windows = _windows(found, start_year)
    label = year_label(start_year)
    if format_ is LogFormat.CSV:
        return Response(drill_log_csv(await db.year_events(conn, windows)), media_type=CSV,
                        headers={"Content-Disposition":
                                 f'attachment; filename="drill-log-{name}-{label}.csv"'})
    after = decode_cursor(cursor, tuple[datetime, uuid.UUID])
    checked_instant(after and after[0], "cursor")
    rows = await db.year_events(conn, windows, after, limit + 1)
    items, next_cursor = paginate(rows, limit, lambda e: (e.started_at, e.id))
    return Response(DrillLogPage(label, items, next_cursor))


@get("/schools/{school_id:uuid}/drill-log", summary="A school's drill log for a school year",
     description="Every event (drills and real ones, whatever their status) that started in "
                 "the school year, oldest first. `?format=csv` answers text/csv.",
     responses={**_LOG_SPEC, **problem_specs(400, 401, 403, 404)}, operation_class=JsonOrCsv)
async def school_drill_log(conn: Conn, caller: CallerOf, now: Now,
                           school_id: FromPath[uuid.UUID], school_year: SchoolYearQuery,
                           format: Format = LogFormat.JSON, limit: Limit = 50,
                           cursor: Cursor = None) -> Response[DrillLogPage]:
    start = _school_year(school_year)
    found = await _school(conn, caller, school_id, start, Permission.READ_REPORTS, now)
    return await _drill_log(conn, [found], start, format, limit, cursor, str(school_id))


@get("/districts/{district_id:uuid}/drill-log",
     summary="Every school's drill log for a school year (district admins)",
     description="The drill logs of all the district's schools, merged oldest first.",
     responses={**_LOG_SPEC, **problem_specs(400, 401, 403, 404)}, operation_class=JsonOrCsv)
async def district_drill_log(conn: Conn, caller: CallerOf, now: Now,
                             district_id: FromPath[uuid.UUID], school_year: SchoolYearQuery,
                             format: Format = LogFormat.JSON, limit: Limit = 50,
                             cursor: Cursor = None) -> Response[DrillLogPage]:
    start = _school_year(school_year)
    found = await _district_schools(conn, caller, district_id, start, now,
                                    "see the district's drill log")
    return await _drill_log(conn, found, start, format, limit, cursor, str(district_id))


# ---------------------------------------------------------------- compliance

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
    year, _ = _years(found, start_year)
    packs = [p for p in (state_pack(found.school.state), district_pack) if p is not None]
    result = evaluate(packs, year, [_drill(e) for e in entries], found.today)
    return SchoolCompliance(
        school_id=found.school.id, school_name=found.school.name,
        school_year=year_label(start_year), today=found.today, status=result.status,
        dates=_year_out(found.school.id, year),
        packs=[PackOut(p.id, p.title, p.jurisdiction) for p in packs],
        requirements=result.requirements, skipped=result.skipped)


async def _events_of(conn: Conn, found: list[SchoolWithYear],
                     start_year: int) -> dict[uuid.UUID, list[DrillLogEntry]]:
    """Each school's events of the year, in one query."""
    by_school: dict[uuid.UUID, list[DrillLogEntry]] = {f.school.id: [] for f in found}
    for entry in await db.year_events(conn, _windows(found, start_year)):
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
    start = _school_year(school_year)
    found = await _school(conn, caller, school_id, start, Permission.READ_REPORTS, now)
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
    start = _school_year(school_year)
    found = await _district_schools(conn, caller, district_id, start, now,
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
    (after,) = decode_cursor(cursor, tuple[str]) or ("",)
    packs = [p for i, p in sorted(builtin_packs().items()) if i > after]
    items, next_cursor = paginate(packs, limit, lambda p: (p.id,))
    return RulePackPage(items, next_cursor)


@get("/districts/{district_id:uuid}/rule-pack", summary="The district's own rule pack",
     responses=problem_specs(400, 401, 403, 404))
async def get_rule_pack(conn: Conn, caller: CallerOf, now: Now,
                        district_id: FromPath[uuid.UUID]) -> RulePack:
    await _district(conn, caller, district_id, now, "see the district's rule pack")
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
    await _district(conn, caller, district_id, now, "change the district's rule pack")
    pack = check_district_pack(data)
    await db.save_rule_pack(conn, district_id, pack, caller.user_id, now)
    return pack


router = Router("/", route_handlers=[get_school_year, set_school_year, school_drill_log,
                                     district_drill_log, school_compliance,
                                     district_compliance, list_rule_packs, get_rule_pack,
                                     set_rule_pack], tags=["compliance"])
