"""Everything under /assists: a request for help, its answers ("on my way"), its end, the
event it becomes, its timeline and its live stream. Asking and listing are a school's
(api/routes/schools/assists.py)."""

from __future__ import annotations

import uuid

from litestar import Router, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Stream

from api.http.body import Body
from api.http.deps import AlertLinks, AlertRepeats, CallerOf, Conn, Now, SignedIn, Work
from api.http.pagination import BySeq, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.http.text import Reason
from api.routes.events.stream import After, LastEventId, live
from api.routes.events.timeline import TimelinePage, item
from api.routes.schools.events import EventIn
from api.usecases import assists
from db import timeline
from domain.assists import Assist
from domain.events import Event


class ResolveIn(Body):
    outcome: Reason


@get("/{assist_id:uuid}", summary="A request for help and who is coming",
     responses=problem_specs(400, 401, 404))
async def get_assist(conn: Conn, caller: CallerOf, assist_id: FromPath[uuid.UUID]) -> Assist:
    return (await assists.read_assist(conn, caller, assist_id))[0]


@post("/{assist_id:uuid}/responses", summary="On my way (a responder or a safety lead)",
      responses=problem_specs(400, 401, 403, 404, 409), status_code=200)
async def respond(uow: Work, caller: CallerOf, now: Now,
                  assist_id: FromPath[uuid.UUID]) -> Assist:
    """Once per person: a repeat changes nothing. The asker sees it live on the stream."""
    return await assists.respond(uow, caller, assist_id, now)


@post("/{assist_id:uuid}/resolve", summary="Resolve a request for help with its outcome",
      responses=problem_specs(400, 401, 403, 404, 409), status_code=200)
async def resolve(uow: Work, caller: CallerOf, now: Now, assist_id: FromPath[uuid.UUID],
                  data: JSONBody[ResolveIn]) -> Assist:
    """The asker, a responder or a safety lead; once."""
    return await assists.resolve(uow, caller, assist_id, data.outcome, now)


@post("/{assist_id:uuid}/event", summary="Turn a request for help into a real event",
      responses=problem_specs(400, 401, 403, 404, 409))
async def escalate(uow: Work, caller: CallerOf, now: Now, links: AlertLinks,
                   repeats: AlertRepeats, assist_id: FromPath[uuid.UUID],
                   data: JSONBody[EventIn]) -> Event:
    """By a responder or a safety lead, once, by the rules of any start (a drill's
    starting is refused): the event names the request's room and carries its note."""
    return await assists.escalate(uow, caller, assist_id, data, now, links, repeats)


@get("/{assist_id:uuid}/timeline", summary="A request for help's history, oldest first",
     responses=problem_specs(400, 401, 404))
async def assist_timeline(conn: Conn, caller: CallerOf, assist_id: FromPath[uuid.UUID],
                          limit: Limit = 50, cursor: Cursor = None) -> TimelinePage:
    await assists.read_assist(conn, caller, assist_id)
    (after,) = decode_cursor(cursor, BySeq) or (0,)
    rows = await timeline.entries_after(conn, assist_id, after, limit + 1, log=timeline.ASSISTS)
    items, next_cursor = paginate(rows, limit, lambda e: (e.seq,))
    return TimelinePage([item(e) for e in items], next_cursor)


@get("/{assist_id:uuid}/stream",
     summary="A request for help, live (SSE: each step sends the assist as it now is)",
     responses=problem_specs(400, 401, 404, 429), media_type="text/event-stream")
async def stream(request: SignedIn, assist_id: FromPath[uuid.UUID],
                 last_event_id: LastEventId = None, after: After = None) -> Stream:
    state = request.app.state
    async with state.pool.acquire() as conn:
        assist, _ = await assists.read_assist(conn, request.user, assist_id)
    return live(request, assist.school_id, assist_id, last_event_id, after, timeline.ASSISTS)


router = Router("/assists", route_handlers=[get_assist, respond, resolve, escalate,
                                            assist_timeline, stream], tags=["assists"])
