"""GET /v1/events/{id}/stream: the timeline live, as Server-Sent Events.

Each message's id is the entry's per-event `seq`, so a dashboard that
reconnects with `Last-Event-ID: N` gets every entry after N, then live ones.
Entries come from this process's LISTEN feed; whenever the feed may have
missed something (or skips a number), the stream re-reads the table, so no
entry is lost and none is sent twice. The stream holds no pooled connection
while it waits.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
from litestar import Router, get
from litestar.datastructures import State
from litestar.params import FromPath, HeaderParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from prometheus_client import Gauge

from api.access import load_event_as
from api.deps import CallerOf
from api.problems import problem_specs
from db import timeline
from db.feed import Resync, TimelineFeed
from db.pool import while_unavailable
from db.timeline import TimelineEntry

HEARTBEAT_S = 15.0
# SSE event types by timeline kind; a start is a status change (to active).
_TYPES = {"started": "status", "action": "action", "status": "status", "checkin": "checkin",
          "delivery": "delivery"}

# Timeline seqs are PostgreSQL integers: a larger id is refused (400), not a broken stream.
LastEventId = Annotated[int | None, HeaderParameter(name="Last-Event-ID", ge=0, le=2**31 - 1,
                                                    description="Resume after this seq.")]


@get("/{event_id:uuid}/stream", summary="Live timeline (SSE: checkin, action, status, delivery)",
     responses=problem_specs(400, 401, 404), media_type="text/event-stream")
async def stream(state: State, caller: CallerOf, event_id: FromPath[uuid.UUID],
                 last_event_id: LastEventId = None) -> ServerSentEvent:
    async with state.pool.acquire() as conn:
        await load_event_as(conn, caller, event_id)
    return ServerSentEvent(_messages(state.feed, state.pool, event_id, last_event_id or 0,
                                     state.metrics.sse_clients))


async def _messages(feed: TimelineFeed, pool: asyncpg.Pool, event_id: uuid.UUID,
                    last: int, clients: Gauge) -> AsyncIterator[ServerSentEventMessage]:
    # subscribe first: nothing slips between
    with clients.track_inprogress(), feed.subscribe(event_id) as live:
        async for entry in _read_after(pool, event_id, last):
            yield _message(entry)
            last = entry.seq
        while True:
            try:
                item = await asyncio.wait_for(live.next(), HEARTBEAT_S)
            except TimeoutError:
                yield ServerSentEventMessage(comment="heartbeat")
                continue
            if isinstance(item, TimelineEntry) and item.seq <= last:
                continue  # already sent from the table
            if isinstance(item, Resync) or not item.complete or item.seq != last + 1:
                async for entry in _read_after(pool, event_id, last):
                    yield _message(entry)
                    last = entry.seq
                continue
            yield _message(item)
            last = item.seq


async def _read_after(pool: asyncpg.Pool, event_id: uuid.UUID,
                      last: int) -> AsyncIterator[TimelineEntry]:
    """Every stored entry after `last`, in pages, each page on a briefly held connection.
    A database that is restarting is waited for a while: the feed calls for a re-read
    as soon as it is back, when the pool's old connections are still broken."""
    while True:
        page = await while_unavailable(
            pool, lambda conn: timeline.entries_after(conn, event_id, last),  # noqa: B023
            patience_s=15, what=f"stream of event {event_id}")
        for entry in page:
            yield entry
            last = entry.seq
        if len(page) < 500:
            return


def _message(entry: TimelineEntry) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=bytes(entry.detail).decode(), event=_TYPES[entry.kind],
                                  id=str(entry.seq))


router = Router("/events", route_handlers=[stream], tags=["events"])
