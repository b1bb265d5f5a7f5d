"""Every error leaves as `application/problem+json` (RFC 9457), mapped here only.

`detail` always says, in plain words, what was wrong; a 500 says nothing of
internals and carries the request id that the log line also carries.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from db.pool import DATABASE_UNAVAILABLE, renew_connections, unavailable
from domain import errors
from domain.reunification import ReleaseRefused
from domain.values import Value

log = logging.getLogger("muster.api")

PROBLEM_JSON = "application/problem+json"


class FieldError(Value):
    field: str
    message: str


class Problem(Value, omit_defaults=True, kw_only=True):
    """RFC 9457 problem details, plus Muster's extension members."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: list[FieldError] | None = None
    active_event_id: uuid.UUID | None = None


_DOMAIN_STATUS: dict[type[errors.DomainError], tuple[int, str]] = {
    errors.Forbidden: (403, "forbidden"),
    errors.EventClosed: (409, "event-closed"),
    errors.Conflict: (409, "conflict"),
    errors.Invalid: (400, "invalid"),
    errors.IdempotencyMismatch: (422, "idempotency-key-reused"),
    errors.NotFound: (404, "not-found"),
    errors.Expired: (410, "expired"),
    errors.SignInRefused: (401, "sign-in-refused"),
    errors.SlowDown: (429, "too-many-requests"),
}


def problem_response(request: Request, status: int, detail: str, slug: str, **extra) -> Response:
    return Response(
        Problem(
            type=f"urn:muster:problem:{slug}",
            title=HTTPStatus(status).phrase,
            status=status,
            detail=detail,
            request_id=request_id(request),
            **extra,
        ),
        status_code=status,
        media_type=PROBLEM_JSON,
    )


def problem_specs(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems a route may answer with."""
    return {
        s: ResponseSpec(Problem, description=HTTPStatus(s).phrase, media_type=PROBLEM_JSON,
                        generate_examples=False)
        for s in statuses
    }


def request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


def on_validation_error(request: Request, exc: HTTPException) -> Response:
    """Bad JSON, unknown or wrongly typed fields: 400 naming each field."""
    field_errors = [_field_error(e) for e in exc.extra or [] if isinstance(e, dict)]
    if not field_errors:  # the body as a whole: not JSON, or not the expected shape
        field_errors = [FieldError(field="body", message=str(exc.detail))]
    detail = "; ".join(f"{e.field}: {e.message}" for e in field_errors)
    return problem_response(request, 400, detail, "validation", errors=field_errors)


def _field_error(raw: dict) -> FieldError:
    """Name the field a msgspec error is about (Litestar reports the body as `data`)."""
    message = str(raw.get("message", "invalid value"))
    text, _, where = message.partition(" - at `$")
    path = where.rstrip("`").lstrip(".")
    for prefix, says in (("Object contains unknown field `", "unknown field"),
                         ("Object missing required field `", "required"),
                         ("Object repeats field `", "given twice: an ambiguous body is refused")):
        if text.startswith(prefix):
            name = text.removeprefix(prefix).rstrip("`")
            return FieldError(field=f"{path}.{name}" if path else name, message=says)
    field = path or raw.get("key") or ""
    return FieldError(field="body" if field in ("", "data") else str(field), message=text)


def on_http_error(request: Request, exc: HTTPException) -> Response:
    """401, 403, 404, 405 and the like raised by the framework."""
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such path: {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    response = problem_response(request, exc.status_code, detail, "http")
    response.headers.update(exc.headers or {})
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def on_domain_error(request: Request, exc: errors.DomainError) -> Response:
    status, slug = next(v for k, v in _DOMAIN_STATUS.items() if isinstance(exc, k))
    if isinstance(exc, ReleaseRefused):  # each rule of a release its own type
        slug = f"release-{exc.reason}"
    extra: dict = {}
    detail = str(exc)
    if isinstance(exc, errors.Invalid) and exc.field:
        extra["errors"] = [FieldError(field=exc.field, message=detail)]
        if not detail.startswith(exc.field):
            detail = f"{exc.field}: {detail}"
    if isinstance(exc, errors.Conflict) and exc.active_event_id:
        extra["active_event_id"] = exc.active_event_id
    response = problem_response(request, status, detail, slug, **extra)
    if isinstance(exc, errors.SlowDown):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def on_database_unavailable(request: Request, exc: Exception) -> Response:
    """The database is restarting or unreachable: 503 with Retry-After, and the pool's
    connections are renewed so that the service recovers by itself once it is back.
    Nothing was stored by the refused request; a phone's retry is safe (check-ins are
    idempotent by client_id, events by Idempotency-Key)."""
    if not unavailable(exc):
        return on_unexpected_error(request, exc)
    log.warning("database unavailable on %s %s [request %s]: %s: %s", request.method,
                request.url.path, request_id(request), type(exc).__name__, exc)
    renew_connections(request.app.state.pool)
    response = problem_response(request, 503, "the database is unavailable for a moment; "
                                "try again shortly", "database-unavailable")
    response.headers["Retry-After"] = "2"
    return response


def on_unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: log it with the request id, answer a generic 500."""
    log.exception("unhandled error on %s %s [request %s]", request.method, request.url.path,
                  request_id(request))
    return problem_response(
        request, 500, "Something went wrong on our side; it has been logged.", "internal"
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    # every framework 400 (unparseable JSON included), not only ValidationException
    400: on_validation_error,
    HTTPException: on_http_error,
    errors.DomainError: on_domain_error,
    **dict.fromkeys((*DATABASE_UNAVAILABLE, asyncpg.InterfaceError), on_database_unavailable),
    Exception: on_unexpected_error,
}
