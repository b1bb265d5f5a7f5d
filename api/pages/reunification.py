"""A reunification's site page (`/reunifications/{id}`): phone-sized, for the staff at
the site: students in, adults in, listed and restricted at a glance, release, approve,
the figures; reunification.js fills and refreshes it from the live view (whose every read
is audited). And the printable record (`/reunifications/{id}/record`).

The server renders no student: names come only through the API's audited reads.
"""

from __future__ import annotations

import uuid

from litestar import MediaType, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from api.http.deps import CallerOf, Conn, Now, Work
from api.pages.home import csrf_of
from api.pages.rendering import PAGE_HEADERS, page, script_json
from api.rendering import reunification_record
from api.usecases import reunification as usecase

# The printable record's page has its CSS inline and no script at all.
_RECORD_HEADERS = PAGE_HEADERS | {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "no-store"}


@get("/reunifications/{reunification_id:uuid}", include_in_schema=False)
async def site(request: Request, conn: Conn, caller: CallerOf,
               reunification_id: FromPath[uuid.UUID]) -> Template:
    seen = await usecase.site_page(conn, caller, reunification_id)
    return page("reunification.html", csrf=csrf_of(request, caller), caller=caller, s=seen,
                data=script_json(seen))


@get("/reunifications/{reunification_id:uuid}/record", include_in_schema=False,
     media_type=MediaType.HTML)
async def record(uow: Work, caller: CallerOf, now: Now,
                 reunification_id: FromPath[uuid.UUID]) -> Response[str]:
    kept = await usecase.record(uow, caller, reunification_id, now)
    return Response(reunification_record.render(kept), media_type=MediaType.HTML,
                    headers=_RECORD_HEADERS)
