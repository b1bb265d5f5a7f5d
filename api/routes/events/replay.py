"""A timeline's stored entries as pages of ready-to-send SSE messages, shared by streams.

Dashboards reconnect together (a server restart, a network blip, a principal opening
the event in every tab), each asking for the same history. Each page is read and
encoded once and sent as one chunk to every stream that wants it: 200 streams replaying
1,600 entries each had encoded and written 320,000 messages one by one, and starved
every other request of the process for half a minute.

Sending is spread over turns of the event loop: at most `PAGES_PER_TURN` pages go out
per turn, whatever the number of streams replaying, so a check-in's next step waits
behind a page, never behind every replaying stream.

A full page (`PAGE` entries after a seq) can never change: seqs are dense and given
in commit order (db/timeline.py). So full pages are kept (the most recent, up to
`max_bytes`); the last, short page of a live event may grow, so it is only shared
by the streams that ask while it is being read.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from typing import NamedTuple

import asyncpg
from litestar.response import ServerSentEventMessage

from api.http.turns import Turns
from api.usecases.shared_load import shared_load
from db import timeline
from db.pool import while_unavailable
from db.timeline import TimelineEntry
from domain.assists import AssistStep
from domain.events import TimelineKind

PAGE = 200  # entries per page: ~1 ms to encode, one chunk of ~100 KB
PAGES_PER_TURN = 1  # 4 gave no faster replay (and slower check-ins) in bench/replay_storm.py
# SSE event types by timeline kind, one for every kind: a start is a status, an
# acknowledgement is delivery news; the rest are named as their kinds
_TYPES: dict[str, str] = {  # keyed by TimelineKind, which is a str
    TimelineKind.STARTED: "status", TimelineKind.ACTION: "action",
    TimelineKind.STATUS: "status", TimelineKind.CHECKIN: "checkin",
    TimelineKind.DELIVERY: "delivery", TimelineKind.ACK: "delivery",
    TimelineKind.UPDATE: "update", TimelineKind.ASSIST: "assist",
    TimelineKind.STAFF_STATUS: "staff_status",
    # an assist's own timeline: each step sends the assist as it now is
    **dict.fromkeys(AssistStep, "assist")}


def message(entry: TimelineEntry) -> bytes:
    """An entry as an SSE message: its seq is the id that `Last-Event-ID` resumes after."""
    return ServerSentEventMessage(data=bytes(entry.detail).decode(), event=_TYPES[entry.kind],
                                  id=str(entry.seq)).encode()


class Page(NamedTuple):
    """Up to `PAGE` entries after a seq, as one chunk of SSE messages."""

    chunk: bytes
    size: int  # entries in it
    last_seq: int  # of its last entry (the seq asked after, when empty)

    @property
    def full(self) -> bool:
        """More entries may follow at once."""
        return self.size == PAGE


class ReplayPages:
    """This process's pages of replays: concurrent reads of a page are one read, and
    full pages are kept, the least recently used dropped past `max_bytes`."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._max_bytes, self._bytes = max_bytes, 0
        self._kept: OrderedDict[tuple[uuid.UUID, int], Page] = OrderedDict()
        self._reading: dict[tuple[uuid.UUID, int], asyncio.Future[Page]] = {}
        self._turns = Turns(PAGES_PER_TURN)

    async def after(self, pool: asyncpg.Pool, event_id: uuid.UUID, seq: int,
                    log: timeline.Log = timeline.EVENTS) -> Page:
        """The page of `event_id`'s entries after `seq` (in `log`: an assist's id is never
        an event's), at the stream's turn to send it (a page read for many streams does
        not wake them all at once)."""
        page = await self._page(event_id, seq, pool, log)
        await self._turns.take()
        return page

    async def _page(self, event_id: uuid.UUID, seq: int, pool: asyncpg.Pool,
                    log: timeline.Log) -> Page:
        key = (event_id, seq)
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
            return kept
        return await shared_load(self._reading, key,
                                 lambda: self._read(pool, event_id, seq, log))

    async def _read(self, pool: asyncpg.Pool, event_id: uuid.UUID, seq: int,
                    log: timeline.Log) -> Page:
        """A page from the table. A database that is restarting is waited for a while:
        the feed calls for a re-read as soon as it is back, when the pool's old
        connections are still broken."""
        entries = await while_unavailable(
            pool, lambda conn: timeline.entries_after(conn, event_id, seq, PAGE, log=log),
            patience_s=15, what=f"replay of event {event_id}")
        page = Page(b"".join(message(e) for e in entries), len(entries),
                    entries[-1].seq if entries else seq)
        if page.full:
            self._keep((event_id, seq), page)
        return page

    def _keep(self, key: tuple[uuid.UUID, int], page: Page) -> None:
        if key in self._kept:
            return
        self._kept[key] = page
        self._bytes += len(page.chunk)
        while self._bytes > self._max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= len(dropped.chunk)
