"""An event's audit timeline and its live stream (Server-Sent Events)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar import Router, get
from litestar.params import FromPath

from api.http.deps import CallerOf, Conn
from api.http.pagination import BySeq, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.usecases.access import load_event_as
from db import timeline as db
from domain.values import Value


class Actor(Value):
    id: uuid.UUID
    name: str | None


class TimelineItem(Value, kw_only=True):
    """What happened and who did it; `detail` is what the matching endpoint returned
    (the event for started/action/status, the check-in for checkin)."""

    seq: int
    at: datetime
    kind: str
    actor: Actor | None
    detail: msgspec.Raw


class TimelinePage(Value):
    items: list[TimelineItem]
    next_cursor: str | None


def item(entry: db.TimelineEntry) -> TimelineItem:
    actor = Actor(entry.actor_id, entry.actor_name) if entry.actor_id else None
    return TimelineItem(seq=entry.seq, at=entry.at, kind=entry.kind, actor=actor,
                        detail=entry.detail)


@get("/{event_id:uuid}/timeline", summary="The event's audit trail, oldest first",
     responses=problem_specs(400, 401, 404))
async def timeline(conn: Conn, caller: CallerOf, event_id: FromPath[uuid.UUID],
                   limit: Limit = 50, cursor: Cursor = None) -> TimelinePage:
    await load_event_as(conn, caller, event_id)
    (after,) = decode_cursor(cursor, BySeq) or (0,)
    rows = await db.entries_after(conn, event_id, after, limit + 1)
    items, next_cursor = paginate(rows, limit, lambda e: (e.seq,))
    return TimelinePage([item(e) for e in items], next_cursor)


router = Router("/", route_handlers=[timeline], tags=["events"])
