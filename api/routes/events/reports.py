"""Drill records: the timing report (JSON, CSV, a printable page) and after-action notes."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from litestar import MediaType, Response, Router, get, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from api.http.csv_download import CSV, JsonOrCsv
from api.http.deps import CallerOf, Conn, Now, Work
from api.http.problems import problem_specs
from api.http.text import checked_instant
from api.rendering import report_html, report_text
from api.usecases import after_action
from api.usecases.drill_record import EventReport, report_as
from domain.after_action import AfterAction, AfterActionRevision


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


Format = Annotated[ReportFormat, QueryParameter(
    description="`json` (default) or `csv` (headline figures, then rooms).")]


@get("/{event_id:uuid}/report", summary="The drill timing record (JSON or CSV)",
     description="For an ended event, the record kept when it ended (recomputed when a late "
                 "offline check-in arrives). For an active event, a partial record computed "
                 "now (`partial: true`), not kept. `?format=csv` answers text/csv.",
     responses={200: ResponseSpec(EventReport, description="The record; text/csv with "
                                  "?format=csv", generate_examples=False),
                **problem_specs(400, 401, 403, 404)},
     operation_class=JsonOrCsv)
async def report(conn: Conn, caller: CallerOf, now: Now, event_id: FromPath[uuid.UUID],
                 format: Format = ReportFormat.JSON) -> Response[Any]:
    """The record as JSON (`responses` describes it), or as CSV."""
    record = await report_as(conn, caller, event_id, now)
    if format is ReportFormat.CSV:
        return Response(report_text.to_csv(record), media_type=CSV, headers={
            "Content-Disposition": f'attachment; filename="muster-report-{event_id}.csv"'})
    return Response(record)


@get("/{event_id:uuid}/report.html", summary="The drill report as a printable page",
     media_type=MediaType.HTML, responses=problem_specs(400, 401, 403, 404))
async def report_page(conn: Conn, caller: CallerOf, now: Now,
                      event_id: FromPath[uuid.UUID]) -> str:
    """One page of HTML with inline CSS and an SVG chart; no JavaScript. An active event's
    page carries a banner saying it is partial."""
    return report_html.render(await report_as(conn, caller, event_id, now))


@put("/{event_id:uuid}/after-action", summary="Write the after-action notes of an ended event",
     description="States all the notes (what is left out is cleared) and keeps them as a new "
                 "revision with who and when; the report shows the latest.",
     responses=problem_specs(400, 401, 403, 404, 409))
async def edit_after_action(uow: Work, caller: CallerOf, now: Now,
                            event_id: FromPath[uuid.UUID],
                            data: JSONBody[AfterAction]) -> AfterActionRevision:
    checked_instant(data.scheduled_at, "scheduled_at")
    return await after_action.edit_after_action(uow, caller, event_id, data, now)


router = Router("/", route_handlers=[report, report_page, edit_after_action],
                tags=["drill records"])
