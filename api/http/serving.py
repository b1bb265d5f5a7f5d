"""How `muster serve` runs uvicorn: who may say which client a request comes from, and
bounds on a request's head that uvicorn's httptools protocol does not have.

Without those bounds a client could hold a megabyte per socket in an unfinished header
(200 sockets took the server from 144 to 349 MB), send 10,000 headers, or keep a socket
for ever by sending its head a byte at a time. uvicorn's own limits do not cover this:
`h11_max_incomplete_event_size` applies to the slower h11 parser only, and
`timeout_keep_alive` stops at the first byte of the next request.
"""

from __future__ import annotations

import asyncio
import functools
import gc
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from api.settings import Settings

HEAD_BYTES = 32 * 1024  # request line and headers
HEAD_FIELDS = 100


YOUNG_COLLECTION = 10_000  # allocations between collections of the youngest generation


def collect_less() -> None:
    """Keep the garbage collector off the objects that live as long as the server
    (modules, the app, its routes and templates), and collect the young less often.
    Call once the app is built. In a storm, requests in flight outlived the default
    700-allocation young collection, were promoted, and made the oldest generation
    collect every two seconds, each time walking the whole heap (~100 ms): a fifth of
    the server's CPU (bench/roll_call.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of `uvicorn.run` for these settings."""
    proxies = settings.trusted_proxy_list
    # Open SSE streams never end by themselves: give them a few seconds, then close.
    # No access log from uvicorn: api.http.logs writes one line per request, with its ids.
    return {"host": settings.host, "port": settings.port, "log_level": settings.log_level,
            "log_config": None, "access_log": False, "timeout_graceful_shutdown": 3,
            # X-Forwarded-For/-Proto only from the proxies named, none by default: from
            # anyone else, a fresh header per request would escape every per-address limit
            "proxy_headers": bool(proxies), "forwarded_allow_ips": proxies,
            "http": functools.partial(BoundedHead, head_timeout=settings.head_timeout)}


class HeadRefused(Exception):
    """Raised in a parser callback: the parser stops, uvicorn answers (see below)."""


class BoundedHead(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a request head bounded in size and in number
    of headers (431), and in the time to send it, counted from the connection's start or
    the head's first byte (408); either closes the connection. An unfinished head is
    counted as the bytes received since it began, so a pipelined request may be counted
    with the end of the body before it (refused sooner, never later)."""

    def __init__(self, *args: Any, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = head_timeout
        self.head_bytes: int | None = None  # None when no head is due
        self.head_since: float | None = None  # when the head due began (loop time)
        self.head_timer: asyncio.TimerHandle | None = None
        self.too_large = False  # the parser was stopped by one of the bounds
        self.chunk_bytes = 0  # of the data being parsed

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_due()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_received()
        if self.head_timer is not None:
            self.head_timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.chunk_bytes = len(data)
        super().data_received(data)
        if self.head_bytes is not None and not self.transport.is_closing():
            self.head_bytes += len(data)
            if self.head_bytes > HEAD_BYTES:
                self._refuse(431, "request head too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_due()

    def on_headers_complete(self) -> None:
        # Cheap first: the head is no longer than this chunk and the ones before it.
        head_bytes = self.head_bytes or 0  # on_message_begin made it 0; never None here
        if len(self.headers) > HEAD_FIELDS or (
                head_bytes + self.chunk_bytes > HEAD_BYTES and self._head_size() > HEAD_BYTES):
            self.too_large = True
            raise HeadRefused
        self._head_received()
        super().on_headers_complete()

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer when the parser stops: a head refused here is a 431."""
        if self.too_large:
            self._refuse(431, "request head too large")
        else:
            super().send_400_response(msg)

    def _head_due(self) -> None:
        """A head may start now. One timer per connection, not one per request (a
        request on a kept-alive connection costs no timer): it checks when it fires."""
        self.head_bytes = 0
        if self.head_since is None:
            self.head_since = self.loop.time()
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(self.head_timeout, self._check_head_time)

    def _head_received(self) -> None:
        self.head_bytes = self.head_since = None

    def _check_head_time(self) -> None:
        self.head_timer = None
        if self.head_since is None or self.transport.is_closing():
            return
        left = self.head_since + self.head_timeout - self.loop.time()
        if left > 0:  # this head started after the timer was set
            self.head_timer = self.loop.call_later(left, self._check_head_time)
        else:
            self._refuse(408, "request head not received in time")

    def _refuse(self, status: int, reason: str) -> None:
        """Answer `status` in plain text and close, as uvicorn answers a bad request."""
        self._head_received()
        self.logger.warning("%s from %s: connection closed", reason,
                            self.client[0] if self.client else "?")
        body = reason.encode()
        self.transport.write(b"".join([
            STATUS_LINE[status], b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body), b"connection: close\r\n\r\n", body]))
        self.transport.close()
