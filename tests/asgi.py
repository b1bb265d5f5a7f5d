"""Calling the app directly over ASGI, for what the test client cannot do: requests at the
same time (it handles one after another) and answers that never end (the SSE stream).

Run `first_answer` in the test client's event loop, where the app's pool lives:
`client.blocking_portal.call(...)`.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress


async def first_answer(app, method: str, url: str, headers: dict[str, str],
                       body: bytes = b"") -> tuple[int, bytes]:
    """The status and first body chunk of the app's answer; the request is then dropped
    (a stream would go on for ever)."""
    path, _, query = url.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "root_path": "", "client": ("127.0.0.1", 1),
             "server": ("testserver", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    loop = asyncio.get_running_loop()
    start, chunk, sent = loop.create_future(), loop.create_future(), asyncio.Event()

    async def receive() -> dict:
        if not sent.is_set():
            sent.set()
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never goes away by itself
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            start.set_result(message["status"])
        elif message["type"] == "http.response.body" and not chunk.done():
            chunk.set_result(message.get("body", b""))

    task = asyncio.create_task(app(scope, receive, send))
    try:
        return await asyncio.wait_for(start, 10), await asyncio.wait_for(chunk, 10)
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
