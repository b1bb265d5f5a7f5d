"""A fake Twilio REST API on 127.0.0.1, for the real twilio SDK.

It serves `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` and `.../Calls.json`
(form-encoded, basic auth `AccountSid:auth_token`) from a thread
(`http.server.ThreadingHTTPServer`), answers like Twilio (201 and a Message or Call
resource, or Twilio's error JSON), and records every request. Knobs, for messages and
calls alike: `latency_s`, `fail(number, code)` for a number, `busy_rate` of 429 (Twilio's
JSON, code 20429) or 503 (a bare text body, as a load balancer answers).
`post_status_callback` plays Twilio's signed status callback of a message to a webhook;
`post_call_status` and `post_keypress` a call's end and a key pressed during it.

    with FakeTwilio() as fake:
        sender = TwilioSmsSender(fake.account_sid, fake.auth_token, ..., base_url=fake.base_url)
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl

import httpx
from twilio.request_validator import RequestValidator

from tests.fakes import Server

_RESOURCES = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/(Messages|Calls)\.json$")
_ERROR_TEXT = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21201: "No 'To' number is specified",
    21205: "Url is not a valid URL",
    21211: "The 'To' number is not a valid phone number.",
    21213: "No 'From' number is specified",
    21217: "Phone number does not appear to be valid",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    30001: "Queue overflow",
}


@dataclass(frozen=True, kw_only=True)
class Request:
    """One request as the fake saw it, and the HTTP status it answered."""

    account: str | None  # the basic-auth user
    form: dict[str, str]
    status: int
    received_at: float  # time.monotonic()


@dataclass(frozen=True, kw_only=True)
class SentSms:
    """A message the fake accepted (answered 201)."""

    sid: str
    account: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    validity_period: str | None
    received_at: float


@dataclass(frozen=True, kw_only=True)
class PlacedCall:
    """A call the fake accepted (answered 201)."""

    sid: str
    account: str
    to: str
    from_: str
    twiml: str
    status_callback: str | None
    status_callback_events: list[str]
    status_callback_method: str | None
    received_at: float


class FakeTwilio:
    def __init__(self, *, account_sid: str = "AC" + "a" * 32,
                 auth_token: str = "fake-auth-token", seed: int = 0) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.requests: list[Request] = []
        self.messages: list[SentSms] = []
        self.calls: list[PlacedCall] = []
        self.latency_s = 0.0
        self.busy_rate, self.busy_status = 0.0, 429
        self._errors: dict[str, tuple[int, int]] = {}
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail(self, number: str, code: int, status: int = 400) -> None:
        """Answer every message and call to `number` with Twilio error `code`."""
        self._errors[number] = (status, code)

    def recover(self) -> None:
        """Answer normally again: no busy spells, no failing numbers."""
        self.busy_rate = 0.0
        self._errors.clear()

    def start(self) -> FakeTwilio:
        self._server = Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: the port then refuses connections."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def status_callback_form(self, sms: SentSms, status: str,
                             error_code: int | None = None) -> dict[str, str]:
        """The form Twilio posts to a message's StatusCallback."""
        form = {"AccountSid": sms.account, "ApiVersion": "2010-04-01", "MessageSid": sms.sid,
                "SmsSid": sms.sid, "MessageStatus": status, "SmsStatus": status, "To": sms.to,
                "From": sms.from_ or "+15005550006"}
        if sms.messaging_service_sid:
            form["MessagingServiceSid"] = sms.messaging_service_sid
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return form

    async def post_status_callback(self, sms: SentSms, status: str,
                                   error_code: int | None = None, *, url: str | None = None,
                                   client: httpx.AsyncClient | None = None) -> httpx.Response:
        """POST a signed status callback for `sms`. The signature covers the message's
        StatusCallback (the public URL Twilio was given); the request goes to `url` if
        given (the app's local address), through `client` if given (e.g. a test client)."""
        assert sms.status_callback, "the message was sent without a StatusCallback"
        form = self.status_callback_form(sms, status, error_code)
        return await self._post_signed(sms.status_callback, form, url, client)

    def call_status_form(self, call: PlacedCall, status: str,
                         error_code: int | None = None) -> dict[str, str]:
        """The form Twilio posts to a call's StatusCallback when the call ends."""
        form = {"AccountSid": call.account, "ApiVersion": "2010-04-01", "CallSid": call.sid,
                "CallStatus": status, "Direction": "outbound-api", "To": call.to,
                "Called": call.to, "From": call.from_, "Caller": call.from_,
                "CallbackSource": "call-progress-events", "SequenceNumber": "0",
                "CallDuration": "12" if status == "completed" else "0"}
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return form

    def keypress_form(self, call: PlacedCall, digits: str) -> dict[str, str]:
        """The form Twilio posts to a Gather's action when a key is pressed."""
        return {"AccountSid": call.account, "ApiVersion": "2010-04-01", "CallSid": call.sid,
                "CallStatus": "in-progress", "Direction": "outbound-api", "To": call.to,
                "Called": call.to, "From": call.from_, "Caller": call.from_,
                "Digits": digits, "FinishedOnKey": ""}

    async def post_call_status(self, call: PlacedCall, status: str,
                               error_code: int | None = None, *, url: str | None = None,
                               client: httpx.AsyncClient | None = None) -> httpx.Response:
        """POST a signed status callback for the end of `call` (as post_status_callback)."""
        assert call.status_callback, "the call was placed without a StatusCallback"
        form = self.call_status_form(call, status, error_code)
        return await self._post_signed(call.status_callback, form, url, client)

    async def post_keypress(self, call: PlacedCall, digits: str, *, url: str | None = None,
                            client: httpx.AsyncClient | None = None) -> httpx.Response:
        """POST the signed keypress of `digits` to the action of the call's Gather (the
        public URL its TwiML named, which the signature covers)."""
        match = re.search(r'<Gather action="([^"]+)"', call.twiml)
        assert match, "the call's TwiML has no Gather action"
        action = match[1].replace("&amp;", "&")
        return await self._post_signed(action, self.keypress_form(call, digits), url, client)

    async def _post_signed(self, signed_url: str, form: dict[str, str], url: str | None,
                           client: httpx.AsyncClient | None) -> httpx.Response:
        headers = {"X-Twilio-Signature": sign(signed_url, form, self.auth_token)}
        target = url or signed_url
        if client is not None:
            return await client.post(target, data=form, headers=headers)
        async with httpx.AsyncClient(timeout=5) as own:
            return await own.post(target, data=form, headers=headers)

    # -- the server side, on the server's threads --

    def _answer(self, path: str, authorization: str, body: bytes) -> tuple[int, object]:
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
        form = dict(pairs)
        user, token = _basic_auth(authorization)
        status, payload = self._decide(path, user, token, form)
        at = time.monotonic()
        with self._lock:
            self.requests.append(Request(account=user, form=form, status=status, received_at=at))
            if status == 201 and "/Calls.json" in path:
                events = [v for k, v in pairs if k == "StatusCallbackEvent"]
                self.calls.append(_placed(payload, form, events, at))
            elif status == 201:
                self.messages.append(_sent(payload, form, at))
        return status, payload

    def _decide(self, path: str, user: str | None, token: str | None,
                form: dict[str, str]) -> tuple[int, object]:
        match = _RESOURCES.match(path)
        if match is None:
            return _error(404, 20404)
        if (user, token) != (self.account_sid, self.auth_token) or match[1] != user:
            return _error(401, 20003)
        with self._lock:
            busy = self._rng.random() < self.busy_rate
        if busy and self.busy_status == 429:
            return _error(429, 20429)
        if busy:
            return self.busy_status, "Service Unavailable"
        to = form.get("To", "")
        if match[2] == "Calls":
            required = ((not to, 21201), (not form.get("From"), 21213),
                        (not (form.get("Twiml") or form.get("Url")), 21205))
        else:
            required = ((not to, 21604), (not form.get("Body"), 21602),
                        (not (form.get("From") or form.get("MessagingServiceSid")), 21603))
        for missing, code in required:
            if missing:
                return _error(400, code)
        if to in self._errors:
            return _error(*self._errors[to])
        return 201, (_call if match[2] == "Calls" else _message)(user, form)


def sign(url: str, form: dict[str, str], auth_token: str) -> str:
    """The X-Twilio-Signature Twilio would send for `form` posted to `url`."""
    return RequestValidator(auth_token).compute_signature(url, form)


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if fake.latency_s:
                time.sleep(fake.latency_s)
            status, payload = fake._answer(self.path, self.headers.get("Authorization", ""),
                                           body)
            text = payload if isinstance(payload, str) else json.dumps(payload)
            raw = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str)
                             else "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            with contextlib.suppress(ConnectionError):  # a client that gave up waiting
                self.wfile.write(raw)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet tests

    return Handler


def _basic_auth(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    user, _, token = base64.b64decode(encoded).decode().partition(":")
    return user, token


def _error(status: int, code: int) -> tuple[int, dict[str, object]]:
    return status, {"code": code, "message": _ERROR_TEXT.get(code, "Error"),
                    "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def _message(account: str, form: dict[str, str]) -> dict[str, object]:
    sid, now = "SM" + uuid.uuid4().hex, formatdate(usegmt=True)
    return {
        "account_sid": account, "api_version": "2010-04-01", "body": form["Body"],
        "date_created": now, "date_updated": now, "date_sent": None,
        "direction": "outbound-api", "error_code": None, "error_message": None,
        "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid,
        "status": "queued" if form.get("From") else "accepted", "to": form["To"],
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
        "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
    }


def _call(account: str, form: dict[str, str]) -> dict[str, object]:
    sid, now = "CA" + uuid.uuid4().hex, formatdate(usegmt=True)
    return {
        "account_sid": account, "annotation": None, "answered_by": None,
        "api_version": "2010-04-01", "caller_name": None, "date_created": now,
        "date_updated": now, "direction": "outbound-api", "duration": None, "end_time": None,
        "forwarded_from": None, "from": form["From"], "from_formatted": form["From"],
        "group_sid": None, "parent_call_sid": None, "phone_number_sid": None, "price": None,
        "price_unit": "USD", "queue_time": "0", "sid": sid, "start_time": None,
        "status": "queued", "to": form["To"], "to_formatted": form["To"], "trunk_sid": None,
        "uri": f"/2010-04-01/Accounts/{account}/Calls/{sid}.json",
        "subresource_uris": {
            "notifications": f"/2010-04-01/Accounts/{account}/Calls/{sid}/Notifications.json",
            "recordings": f"/2010-04-01/Accounts/{account}/Calls/{sid}/Recordings.json"},
    }


def _placed(payload: object, form: dict[str, str], events: list[str], at: float) -> PlacedCall:
    assert isinstance(payload, dict)
    return PlacedCall(sid=payload["sid"], account=payload["account_sid"], to=form["To"],
                      from_=form["From"], twiml=form.get("Twiml", ""),
                      status_callback=form.get("StatusCallback"),
                      status_callback_events=events,
                      status_callback_method=form.get("StatusCallbackMethod"), received_at=at)


def _sent(payload: object, form: dict[str, str], at: float) -> SentSms:
    assert isinstance(payload, dict)
    return SentSms(sid=payload["sid"], account=payload["account_sid"], to=form["To"],
                   from_=form.get("From"), messaging_service_sid=form.get("MessagingServiceSid"),
                   body=form["Body"], status_callback=form.get("StatusCallback"),
                   validity_period=form.get("ValidityPeriod"), received_at=at)
