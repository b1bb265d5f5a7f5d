"""A fake of Google's OAuth token endpoint and the FCM v1 send API, on 127.0.0.1.

The sender (and google-auth under it) talks to it unchanged: `service_account()`
gives a credential dict whose `token_uri` is this server, and `fcm_url` is the URL
to hand to `FcmSender`.
The server runs in a thread (`ThreadingHTTPServer`), so it answers while the test's
event loop is busy, and a blocking client (google-auth fetches OAuth tokens with
`requests`) cannot deadlock it.

What it checks, like Google would: the OAuth assertion is a JWT signed by the
credential's key; every send carries a token it issued; a message has exactly one
target, string data, and a payload of at most 4 kB. What it records: every token
request and every send, as plain data. Knobs (set the attributes at any time):
`latency_s` (seconds before each send is answered), `unregistered` (tokens
answered 404 UNREGISTERED), `invalid` (tokens answered 400 INVALID_ARGUMENT on
`message.token`), `error_rate` and `error_status` (a share of sends answered 503,
500 or 429, drawn from a seeded random), `fail_next` (that many next sends answered
`error_status` whatever the rate), `retry_after` (the Retry-After header of those
answers), `oauth_fails` (the token endpoint answers 400 invalid_grant),
`expires_in` (the lifetime of the tokens it issues, in seconds); `revoke()` makes
every token issued so far answered 401.

    with FakeFcm() as fake:
        sender = FcmSender(fake.service_account(), fcm_url=fake.fcm_url)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

from tests.fakes import Server

_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
# google-auth signs the assertion for Google's endpoint whatever `token_uri` says
_GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 404: "NOT_FOUND",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass(frozen=True)
class FcmSend:
    """One send request as FCM received it (`message` is the whole JSON message)."""

    project: str
    access_token: str
    message: dict[str, Any]
    validate_only: bool
    answered: int  # the HTTP status the fake answered with
    answer: dict[str, Any]  # and the body: {"name": "projects/p/messages/..."} or an error
    received_at: float = 0.0  # time.monotonic() when it was recorded, just before the answer

    @property
    def token(self) -> str | None:
        return self.message.get("token")

    @property
    def android(self) -> dict[str, Any]:
        return self.message.get("android", {})

    @property
    def apns(self) -> dict[str, Any]:
        return self.message.get("apns", {})

    @property
    def data(self) -> dict[str, Any]:
        return self.message.get("data", {})

    @property
    def notification(self) -> dict[str, Any]:
        return self.message.get("notification", {})


@dataclass
class FakeFcm:
    """The fake server: knobs in, records out; it serves inside `with FakeFcm() as fake:`."""

    latency_s: float = 0.0
    unregistered: set[str] = field(default_factory=set)
    invalid: set[str] = field(default_factory=set)
    error_rate: float = 0.0
    error_status: int = 503
    fail_next: int = 0
    retry_after: str | None = None
    oauth_fails: bool = False
    expires_in: int = 3599
    seed: int = 0
    sends: list[FcmSend] = field(default_factory=list)
    token_requests: int = 0
    base_url: str = ""

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public_pem = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self._issued: set[str] = set()
        self._ids = itertools.count(1)
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    @property
    def fcm_url(self) -> str:
        """The send URL in `FcmSender`'s form: `{0}` stands for the project id."""
        return f"{self.base_url}/v1/projects/{{0}}/messages:send"

    def service_account(self, project_id: str = "muster-test") -> dict[str, str]:
        """A service-account credential signed by this fake's own fresh RSA key."""
        pem = self._key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": project_id,
                "private_key_id": "fake-key-1", "private_key": pem,
                "client_email": f"firebase-adminsdk@{project_id}.iam.gserviceaccount.com",
                "client_id": "1", "token_uri": self.token_uri}

    def __enter__(self) -> FakeFcm:
        self._server = Server(("127.0.0.1", 0), _handler_for(self))
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-fcm", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def revoke(self) -> None:
        """Every access token issued so far is answered 401 from now on."""
        with self._lock:
            self._issued.clear()

    # -- the two endpoints, called from the server's threads --

    def _token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.token_requests += 1
            fails = self.oauth_fails
        if fails:  # invalid_grant: google-auth does not retry it
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        try:
            claims = jwt.decode(form["assertion"][0], certs=self._public_pem,
                                audience=_GOOGLE_TOKEN_AUDIENCE)
        except (KeyError, ValueError) as error:
            return 400, {"error": "invalid_grant", "error_description": str(error)}
        access_token = f"fake-access-{next(self._ids)}-{claims['iss']}"
        with self._lock:
            self._issued.add(access_token)
        return 200, {"access_token": access_token, "expires_in": self.expires_in,
                     "token_type": "Bearer"}

    def _send(self, project: str, authorization: str,
              body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.latency_s:
            time.sleep(self.latency_s)
        access_token = authorization.removeprefix("Bearer ")
        message = body.get("message", {})
        token = message.get("token")
        with self._lock:
            failing = self.fail_next > 0 or self._random.random() < self.error_rate
            self.fail_next = max(0, self.fail_next - 1)
        if access_token not in self._issued:
            status, answer = 401, _error(401, "Request had invalid authentication credentials.")
        elif sum(k in message for k in ("token", "fid", "topic", "condition")) != 1 or not all(
                isinstance(v, str) for v in message.get("data", {}).values()):
            status, answer = 400, _error(400, "Invalid message.", "INVALID_ARGUMENT")
        elif len(json.dumps([message.get("data"), message.get("notification")])) > 4096:
            status, answer = 400, _error(400, "Message is too big", "INVALID_ARGUMENT")
        elif failing and self.error_status == 429:
            status, answer = 429, _error(429, "Quota exceeded.", "QUOTA_EXCEEDED")
        elif failing:
            status, answer = self.error_status, _error(self.error_status, "Service unavailable.")
        elif token in self.unregistered:
            status, answer = 404, _error(404, "Requested entity was not found.", "UNREGISTERED")
        elif token in self.invalid:
            status, answer = 400, _invalid_token()
        else:
            status, answer = 200, {"name": f"projects/{project}/messages/0:{next(self._ids)}"}
        at = time.monotonic()
        with self._lock:
            self.sends.append(FcmSend(project, access_token, message,
                                      bool(body.get("validate_only")), status, answer, at))
        return status, answer


def _error(code: int, message: str, fcm_code: str | None = None) -> dict[str, Any]:
    details = [{"@type": _FCM_ERROR, "errorCode": fcm_code}] if fcm_code else []
    return {"error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN"),
                      "details": details}}


def _invalid_token() -> dict[str, Any]:
    """FCM's answer to a malformed registration token: the field names the token."""
    answer = _error(400, "The registration token is not a valid FCM registration token",
                    "INVALID_ARGUMENT")
    answer["error"]["details"].append({"@type": _BAD_REQUEST, "fieldViolations": [
        {"field": "message.token",
         "description": "The registration token is not a valid FCM registration token"}]})
    return answer


def _handler_for(fake: FakeFcm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the sender's pool expects

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path = self.path
            if path == "/token":
                status, answer = fake._token(urllib.parse.parse_qs(raw.decode()))
            elif path.startswith("/v1/projects/") and path.endswith("/messages:send"):
                project = path.removeprefix("/v1/projects/").removesuffix("/messages:send")
                status, answer = fake._send(project, self.headers.get("Authorization", ""),
                                            json.loads(raw or b"{}"))
            else:
                status, answer = 404, _error(404, f"No route {path}")
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            if status in (429, 500, 503) and fake.retry_after is not None:
                self.send_header("Retry-After", fake.retry_after)
            self.end_headers()
            with contextlib.suppress(ConnectionError):  # a client that gave up waiting
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the records are the log

    return Handler
