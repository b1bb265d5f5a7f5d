"""A contact's read-only link in a browser: `/w/<token>`, the page a real event's SMS to
the school's 911 centre, police or fire opens on any phone, with no sign-in.

It shows what an officer on the way needs (api/usecases/watch.py): where the school is,
the action, real or drill, the rooms that need help and those not yet reported, the
totals and what the school knows; its script reads /v1/watch/<token> again every ten
seconds while the event is active. It never writes anything.
"""

from __future__ import annotations

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from api.pages.rendering import page, script_json
from api.usecases import watch
from domain.errors import Expired, NotFound
from domain.srp import EventStatus

POLL_SECONDS = 10
_ADVICE = "Ask the school's dispatcher or the school's office for the latest."


@get("/w/{token:str}", include_in_schema=False, exclude_from_auth=True)
async def watch_page(request: Request, token: FromPath[str]) -> Template:
    """The event as a responder needs it; a link that does not work says so in words
    (404 or 410), naming nothing."""
    state = request.app.state
    try:
        async with state.pool.acquire() as conn:
            shown = await watch.watch(conn, token, state.clock())
    except Expired as expired:
        return page("link_refused.html", status_code=410, title="This link has expired",
                    detail=str(expired).capitalize(), advice=_ADVICE)
    except NotFound:
        return page("link_refused.html", status_code=404, title="This link does not work",
                    detail="It may be mistyped, or no longer in use.", advice=_ADVICE)
    api = f"/v1/watch/{token}"
    return page("watch.html", view=shown, ended=shown.status is not EventStatus.ACTIVE,
                api=api, data=script_json({"api": api, "poll_s": POLL_SECONDS, "view": shown}))
