"""The drill log over HTTP: every event of a school year, of a school or (in
api/routes/districts/drill_log.py) of a whole district, as JSON pages or one CSV file
(which a spreadsheet opens safely)."""

from __future__ import annotations

import csv
import io
import uuid
from enum import StrEnum
from typing import Annotated, Any

import msgspec
from litestar import Response, Router, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from api.http.csv_download import CSV, JsonOrCsv
from api.http.deps import CallerOf, Conn, Now
from api.http.pagination import ByTime, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.routes.schools.school_years import SchoolYearQuery, school_year_asked
from api.usecases.school_years import log_windows, school_in_year
from db import compliance as db
from db.compliance import DrillLogEntry, SchoolWithYear
from domain.calendar import year_label
from domain.policy import Permission
from domain.values import Value


class LogFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


Format = Annotated[LogFormat, QueryParameter(
    description="`json` (default, paginated) or `csv` (the whole year).")]


class DrillLogPage(Value):
    """The events (drills and real) that started in the school year, oldest first; and
    the requests for help of the year, by kind (docs/assists.md), which are no drills."""

    school_year: str
    items: list[DrillLogEntry]
    next_cursor: str | None
    assists: dict[str, int]


LOG_SPEC = {200: ResponseSpec(DrillLogPage, description="The log; text/csv (every event of "
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


async def log_response(conn: Conn, found: list[SchoolWithYear], start_year: int,
                     format_: LogFormat, limit: int, cursor: str | None,
                     name: str) -> Response[Any]:
    """The page as JSON, or the whole year as CSV (the handlers' annotations describe
    the JSON for OpenAPI)."""
    windows = log_windows(found, start_year)
    label = year_label(start_year)
    if format_ is LogFormat.CSV:
        return Response(drill_log_csv(await db.year_events(conn, windows)), media_type=CSV,
                        headers={"Content-Disposition":
                                 f'attachment; filename="drill-log-{name}-{label}.csv"'})
    after = decode_cursor(cursor, ByTime)
    rows = await db.year_events(conn, windows, after, limit + 1)
    items, next_cursor = paginate(rows, limit, lambda e: (e.started_at, e.id))
    return Response(DrillLogPage(label, items, next_cursor,
                                 await db.year_assists(conn, windows)))


@get("/{school_id:uuid}/drill-log", summary="A school's drill log for a school year",
     description="Every event (drills and real ones, whatever their status) that started in "
                 "the school year, oldest first. `?format=csv` answers text/csv.",
     responses={**LOG_SPEC, **problem_specs(400, 401, 403, 404)}, operation_class=JsonOrCsv)
async def school_drill_log(conn: Conn, caller: CallerOf, now: Now,
                           school_id: FromPath[uuid.UUID], school_year: SchoolYearQuery,
                           format: Format = LogFormat.JSON, limit: Limit = 50,
                           cursor: Cursor = None) -> Response[DrillLogPage]:
    start = school_year_asked(school_year)
    found = await school_in_year(conn, caller, school_id, start, Permission.READ_REPORTS, now)
    return await log_response(conn, [found], start, format, limit, cursor, str(school_id))


router = Router("/", route_handlers=[school_drill_log], tags=["compliance"])
