"""A contact's read-only link (/v1/watch/{token}): the JSON behind the page a real
event's SMS to the school's 911 centre, police or fire opens. The token in the path is
the credential (no sign-in); it shows its one event (api/usecases/watch.py)."""

from __future__ import annotations

from litestar import Router, get
from litestar.params import FromPath

from api.http.deps import Conn, Now
from api.http.problems import problem_specs
from api.usecases import watch
from domain.watch import WatchView


@get("/{token:str}", summary="The event a contact's link is for, as responders need it",
     responses=problem_specs(400, 404, 410))
async def watch_event(conn: Conn, now: Now, token: FromPath[str]) -> WatchView:
    """Read-only; the page polls it while the event is active."""
    return await watch.watch(conn, token, now)


router = Router("/v1/watch", route_handlers=[watch_event], tags=["links"])
