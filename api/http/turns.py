"""Work that comes in bursts, spread over turns of the event loop.

asyncio runs ready tasks in the order they became ready. When 200 dashboards reconnect at
once, uvicorn hands the app 200 requests in one turn, and each runs its authentication,
routing and handler before a check-in that arrived a moment later gets its first step:
bench/replay_storm.py saw check-ins wait a median 110 ms while 200 streams opened. Let in
a few per turn and everything else keeps its place in between.
"""

from __future__ import annotations

import asyncio
from collections import deque

from litestar.types import ASGIApp, Receive, Scope, Send

STREAMS_PER_TURN = 2  # stream openings let into the app per turn of the event loop


class Turns:
    """Hands out at most `per_turn` turns per turn of the event loop, in order of asking."""

    def __init__(self, per_turn: int) -> None:
        self._per_turn = per_turn
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._granting: asyncio.Task[None] | None = None

    async def take(self) -> None:
        """Return at the caller's turn (never at once)."""
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        if self._granting is None or self._granting.done():
            self._granting = asyncio.create_task(self._grant())
        await turn

    async def _grant(self) -> None:
        while self._waiting:
            granted = 0
            while self._waiting and granted < self._per_turn:
                turn = self._waiting.popleft()
                if not turn.done():  # a stream that went away while waiting
                    turn.set_result(None)
                    granted += 1
            await asyncio.sleep(0)  # they run in the next turn, and so do we, after them


class StreamsInTurns:
    """The outermost ASGI layer: a request for an event's stream enters the app at its
    turn (at most `STREAMS_PER_TURN` a turn), before any of its work is done; every
    other request goes straight in."""

    def __init__(self, app: ASGIApp) -> None:
        self._app, self._turns = app, Turns(STREAMS_PER_TURN)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/stream"):
            await self._turns.take()
        await self._app(scope, receive, send)
