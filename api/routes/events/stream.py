"""GET /v1/events/{id}/stream: the timeline live, as Server-Sent Events.

Each message's id is the entry's per-event `seq`, so a dashboard that
reconnects with `Last-Event-ID: N` gets every entry after N, then live ones.
Entries come from this process's LISTEN feed; whenever the feed may have
missed something (or skips a number), the stream re-reads the table, so no
entry is lost and none is sent twice. Stored entries go out in pages shared with
the other streams replaying them (api/routes/events/replay.py), one page per turn of the event
loop, so that a storm of replays does not starve the other requests. The stream
holds no pooled connection while it waits.

A stream is read for hours, so access is judged again before each message and at
least every `CHECK_EVERY_S`: the stream ends, with a last `end` message saying why,
when the reader's token expires, their session ends or they are no longer a member
of the event's school (another process's change is seen within the 2 s of the caller
cache). A person holds at most `MAX_STREAMS_PER_PERSON` streams on a process.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Router, get
from litestar.datastructures import State
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEventMessage, Stream

from api.http.deps import SignedIn
from api.http.problems import problem_specs
from api.routes.events.replay import message
from api.usecases.access import read_event_as
from api.usecases.callers import Caller
from db.feed import RESYNC, Resync, Subscription
from db.pool import retry_while_unavailable
from db.timeline import EVENTS, Log, TimelineEntry
from domain.streams import StreamEnd, refuse_another_stream, why_stream_ends
from domain.values import Value

HEARTBEAT_S = 15.0
_HEARTBEAT = ServerSentEventMessage(comment="heartbeat").encode()
# Litestar's ServerSentEvent's headers. It is not used itself: it starts every stream with
# a hop to a worker thread, and 200 streams opening at once starved the event loop of the
# GIL on a busy machine.
_SSE_HEADERS = {"Cache-Control": "no-cache", "Connection": "keep-alive",
                "X-Accel-Buffering": "no"}
CHECK_EVERY_S = 1.0  # a quiet stream judges its reader's access again this often

# Timeline seqs are PostgreSQL integers: a larger id is refused (400), not a broken stream.
LastEventId = Annotated[int | None, HeaderParameter(name="Last-Event-ID", ge=0, le=2**31 - 1,
                                                    description="Resume after this seq.")]
# A browser's EventSource cannot send Last-Event-ID on its first request: a page that
# already shows the timeline up to a seq starts after it with `?after=`.
After = Annotated[int | None, QueryParameter(ge=0, le=2**31 - 1, description=(
    "Start after this seq (a page that already shows the timeline up to it); "
    "Last-Event-ID, when sent, wins."))]


@get("/{event_id:uuid}/stream",
     summary="Live timeline (SSE: checkin, action, status, delivery, update, assist, "
             "staff_status; ends when access ends)",
     responses=problem_specs(400, 401, 404, 429), media_type="text/event-stream")
async def stream(request: SignedIn, event_id: FromPath[uuid.UUID],
                 last_event_id: LastEventId = None, after: After = None) -> Stream:
    state = request.app.state
    ctx, _ = await read_event_as(state.events, state.pool, request.user, event_id,
                                  state.clock())
    return live(request, ctx.event.school_id, event_id, last_event_id, after)


def live(request: SignedIn, school_id: uuid.UUID, owner_id: uuid.UUID,
         last_event_id: int | None, after: int | None, log: Log = EVENTS) -> Stream:
    """The stream of a timeline (an event's, or with `log` an assist's) of `school_id`,
    read by a member of it, after the seq the reader asks for."""
    state = request.app.state
    reader = Reader(state, request.user, request.auth.exp, school_id)
    slot = state.streams.hold(request.user.user_id)
    last = last_event_id if last_event_id is not None else after or 0
    return Stream(messages(state, reader, slot, owner_id, last, log),
                  media_type="text/event-stream", headers=_SSE_HEADERS)


class Reader:
    """Who reads a stream, judged again while it is open (domain/streams.py)."""

    def __init__(self, state: State, caller: Caller, token_expires: datetime,
                 school_id: uuid.UUID) -> None:
        self._state, self.caller = state, caller
        self._token_expires, self._school_id = token_expires, school_id

    async def why_end(self) -> StreamEnd | None:
        """Why the stream must end now, or None. The caller comes from the caller cache
        (a query per person every 2 s at most); a database that is restarting is
        waited for, as the stream's reads wait for it."""
        state, caller = self._state, self.caller
        found = await retry_while_unavailable(
            state.pool, lambda: state.callers.get(caller.user_id, caller.session_id,
                                                  state.pool, state.clock()),
            patience_s=15, what=f"stream reader {caller.user_id}")
        # the token's expiry is on the real clock, as the JWT library checks it
        return why_stream_ends(datetime.now(UTC), self._token_expires,
                               found.roles if found else None, self._school_id)


class _Slot:
    """One open stream of a person's, in `OpenStreams`."""

    __slots__ = ("__weakref__",)


class OpenStreams:
    """The streams open on this process, per person, to bound them. A slot is let go
    when its stream ends, or, if Litestar never started the stream (its client left at
    once), when the stream is collected."""

    def __init__(self) -> None:
        self._held: dict[uuid.UUID, weakref.WeakSet[_Slot]] = {}

    def hold(self, user_id: uuid.UUID) -> _Slot:
        """A slot for another stream of the person's; SlowDown (429) past the bound."""
        held = self._held.setdefault(user_id, weakref.WeakSet())
        refuse_another_stream(len(held))
        slot = _Slot()
        held.add(slot)
        return slot

    def release(self, user_id: uuid.UUID, slot: _Slot) -> None:
        held = self._held.get(user_id)
        if held is not None:
            held.discard(slot)
            if not held:
                del self._held[user_id]


async def messages(state: State, reader: Reader, slot: _Slot, event_id: uuid.UUID,
                   last: int, log: Log = EVENTS) -> AsyncIterator[bytes]:
    """The timeline's messages after `last` (an event's, or with `log` an assist's), until
    the reader may no longer read it."""
    # subscribe first: nothing slips between
    with state.metrics.sse_clients.track_inprogress(), state.feed.subscribe(event_id) as live:
        try:
            item: TimelineEntry | Resync | None = RESYNC  # first, what is stored after `last`
            quiet_since = time.monotonic()
            while True:
                if (end := await reader.why_end()) is not None:
                    yield ServerSentEventMessage(event="end",
                                                 data=_END.encode(_End(end)).decode()).encode()
                    return
                if isinstance(item, TimelineEntry) and item.seq <= last:
                    pass  # already sent from the table
                elif isinstance(item, TimelineEntry) and item.complete and item.seq == last + 1:
                    yield message(item)
                    last, quiet_since = item.seq, time.monotonic()
                elif item is not None:  # a resync, a gap, an entry too big for a notification
                    page = await state.replays.after(state.pool, event_id, last, log)
                    if page.size:
                        yield page.chunk
                        last, quiet_since = page.last_seq, time.monotonic()
                    if page.full:  # more is stored: the next page, at the stream's next turn
                        item = RESYNC
                        continue
                elif time.monotonic() - quiet_since >= HEARTBEAT_S:
                    yield _HEARTBEAT
                    quiet_since = time.monotonic()
                item = await _next(live)
        finally:
            state.streams.release(reader.caller.user_id, slot)


class _End(Value):
    """The data of the last message of a stream that the server ended."""

    reason: StreamEnd


_END = msgspec.json.Encoder()


async def _next(live: Subscription) -> TimelineEntry | Resync | None:
    """The feed's next item, or None after `CHECK_EVERY_S` of quiet."""
    try:
        return await asyncio.wait_for(live.next(), CHECK_EVERY_S)
    except TimeoutError:
        return None


router = Router("/", route_handlers=[stream], tags=["events"])
