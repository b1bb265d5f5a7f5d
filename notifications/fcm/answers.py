"""What FCM's answer to one send means for that device token.

FCM accepts it (and names the message), calls the token dead (UNREGISTERED,
SENDER_ID_MISMATCH, an INVALID_ARGUMENT about the token itself), refuses the message
for good (another INVALID_ARGUMENT, our APNs credentials) or fails for now (quota,
unavailable, internal, timeout, transport). The error JSON is read as firebase-admin
7.7 reads it (`messaging._MessagingService._build_fcm_error`, then
`_utils.handle_platform_error_from_httpx`), and the codes are the ones its exceptions
gave: tests/processes/test_fcm.py checks both against the SDK.

    {"error": {"code": 404, "message": "...", "status": "NOT_FOUND", "details": [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
         "errorCode": "UNREGISTERED"}]}}
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import aiohttp
import msgspec


class Kind(StrEnum):
    SENT = "sent"
    DEAD = "dead"  # the token: disable the device
    REFUSED = "refused"  # the message, for good
    RETRY = "retry"


class Answer(msgspec.Struct, frozen=True):
    """One token's outcome: `code` is FCM's message name when sent, else an error code
    ("unregistered", "quota-exceeded", "deadline-exceeded"); `status` the HTTP status
    (0 when none came back)."""

    kind: Kind
    code: str
    status: int = 0


_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BY_FCM_CODE = {
    "UNREGISTERED": (Kind.DEAD, "unregistered"),
    "SENDER_ID_MISMATCH": (Kind.DEAD, "sender-id-mismatch"),
    "QUOTA_EXCEEDED": (Kind.RETRY, "quota-exceeded"),
    "APNS_AUTH_ERROR": (Kind.REFUSED, "third-party-auth"),  # our APNs key: no retry fixes it
    "THIRD_PARTY_AUTH_ERROR": (Kind.REFUSED, "third-party-auth"),
}
# Without an FCM code: the error's `status`, else one from the HTTP status
_BY_HTTP_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                   404: "NOT_FOUND", 409: "CONFLICT", 412: "FAILED_PRECONDITION",
                   429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
_PLATFORM_CODES = frozenset({
    "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "UNAUTHENTICATED",
    "PERMISSION_DENIED", "NOT_FOUND", "ABORTED", "ALREADY_EXISTS", "CONFLICT",
    "RESOURCE_EXHAUSTED", "CANCELLED", "DATA_LOSS", "UNKNOWN", "INTERNAL", "UNAVAILABLE",
    "DEADLINE_EXCEEDED"})


class _Accepted(msgspec.Struct):
    name: str


_accepted = msgspec.json.Decoder(_Accepted).decode
_decode = msgspec.json.Decoder().decode


def read(status: int, body: bytes) -> Answer:
    """FCM's answer, from its HTTP status and body."""
    if 200 <= status < 300:
        try:
            return Answer(Kind.SENT, _accepted(body).name, status)
        except msgspec.DecodeError:
            return Answer(Kind.RETRY, "unknown", status)
    error = _error(body)
    details = [d for d in error.get("details") or () if isinstance(d, dict)]
    fcm_code = next((d.get("errorCode") for d in details if d.get("@type") == _FCM_ERROR), None)
    if fcm_code in _BY_FCM_CODE:
        return Answer(*_BY_FCM_CODE[fcm_code], status)
    platform = error.get("status") or _BY_HTTP_STATUS.get(status)
    if not isinstance(platform, str) or platform not in _PLATFORM_CODES:
        platform = "UNKNOWN"
    if platform == "INVALID_ARGUMENT":
        if _about_token(details):
            return Answer(Kind.DEAD, "invalid-token", status)
        return Answer(Kind.REFUSED, "invalid-argument", status)
    return Answer(Kind.RETRY, platform.lower().replace("_", "-"), status)


def unanswered(error: Exception) -> Answer:
    """A send that got no answer: a timeout, a refused connection, a broken one."""
    if isinstance(error, TimeoutError):
        return Answer(Kind.RETRY, "deadline-exceeded")
    if isinstance(error, aiohttp.ClientConnectorError):  # never reached FCM
        return Answer(Kind.RETRY, "unavailable")
    return Answer(Kind.RETRY, "unknown")


def _error(body: bytes) -> dict[str, Any]:
    try:
        parsed = _decode(body)
    except msgspec.DecodeError:
        return {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else {}


def _about_token(details: list[dict[str, Any]]) -> bool:
    """Whether a BadRequest detail names the token field as the invalid one."""
    return any(isinstance(v, dict) and v.get("field") == "message.token"
               for d in details for v in d.get("fieldViolations") or ())
