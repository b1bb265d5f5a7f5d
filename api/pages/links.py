"""An alert's link in a browser: `/e/<token>`, the page a person's SMS or push opens on
any phone, signed in or not, and `/e/sw.js`, the service worker that keeps the page for
reopening without a connection.

The page shows the action and its directive (DRILL or not, unmistakably), the newest
"what we know" update under them (its script asks the link's API for new ones while the
event is active), and reports the room through the link's API (/v1/links/<token>); its
script acknowledges when it opens on the phone, never the GET (docs/alerts.md#links). A
lockdown's page is dark and still.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from api.pages.rendering import page
from api.rendering.report_text import zone
from api.usecases import links
from api.usecases.links import Door, LinkPage
from domain import srp
from domain.errors import Expired, NotFound
from domain.srp import Action, EventStatus

WORKER = "link-worker.js"  # in static/, served from /e/ so that its scope is the links'
# The counts a room reports, as the page labels them.
COUNTS = [("present", "Present"), ("missing", "Missing"), ("extra", "Extra"),
          ("injured", "Injured")]
_ENDED = {EventStatus.ALL_CLEAR: "All clear", EventStatus.CANCELLED: "Cancelled",
          EventStatus.SUPERSEDED: "Replaced by a newer alert"}


@get("/e/{token:str}", include_in_schema=False, exclude_from_auth=True)
async def link_page(request: Request, token: FromPath[str]) -> Template:
    """The event's page for the link's person; a link that does not work says so in
    words (404 or 410), naming nothing."""
    state = request.app.state
    try:
        shown = await links.page(Door(state.pool, state.events, state.callers), token,
                                 state.clock())
    except Expired as expired:
        return page("link_refused.html", status_code=410, title="This link has expired",
                    detail=str(expired).capitalize())
    except NotFound:
        return page("link_refused.html", status_code=404, title="This link does not work",
                    detail="It may be mistyped, or no longer yours.")
    return page("link.html", **_context(shown, token, state.assets.url))


def _context(shown: LinkPage, token: str, asset: Callable[[str], str]) -> dict[str, Any]:
    event = shown.event
    last = next((r for r in shown.rooms if r.id == shown.last_room_id), None)
    codes = {r.id: r.code for r in shown.rooms}
    return {
        "event": event, "school_name": shown.school_name, "person_name": shown.person_name,
        "dark": event.action is Action.LOCKDOWN, "counts": COUNTS,
        "threat": srp.threat(event.action, event.location, event.drill),
        "updates": shown.updates, "tz": zone(shown.school_timezone),
        "threat_word": srp.THREAT_WORDS[event.drill],
        "last_room": f"{last.code} · {last.name}" if last else "",
        "ended": None if event.status is EventStatus.ACTIVE else
        f"This event has ended: {_ENDED[event.status]}. A report made before the end "
        "can still be sent.",
        "data": {"token": token, "api": f"/v1/links/{token}", "timezone": shown.school_timezone,
                 "open": event.status is EventStatus.ACTIVE, "worker": "/e/sw.js",
                 "rooms": [{"id": str(r.id), "code": r.code, "name": r.name}
                           for r in shown.rooms],
                 "reports": [{"room": codes.get(c.room_id, ""), "at": c.received_at.isoformat()}
                             for c in shown.checkins],
                 "threat_word": srp.THREAT_WORDS[event.drill],
                 "assets": [asset(name) for name in ("muster.css", "link.css", "link.js")]},
    }


@get("/e/sw.js", include_in_schema=False, exclude_from_auth=True, sync_to_thread=False)
def link_worker(request: Request) -> Response[bytes]:
    """The service worker, under a name that never changes (a browser checks it for a
    new version on each visit, so it is never cached for long)."""
    assets = request.app.state.assets
    worker = assets.get(assets.url(WORKER).removeprefix("/static/"))
    return Response(worker.body, media_type="text/javascript",
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
