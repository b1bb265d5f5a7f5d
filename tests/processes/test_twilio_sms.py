"""The Twilio SMS sender through the real twilio SDK against the fake Twilio on 127.0.0.1;
its token bucket on a virtual clock; status-callback signatures and outcomes."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl

import httpx
import pytest

from db.outbox import OutboxMessage
from notifications.senders import SendResult
from notifications.twilio import TokenBucket, validate_signature
from notifications.twilio_sms import TwilioSmsSender, status_callback_outcome
from tests.fakes.twilio import FakeTwilio, sign
from tests.waiting import WAIT

FROM = "+15005550006"
SERVICE = "MG" + "b" * 32
CALLBACK = "https://muster.example.org/v1/webhooks/twilio/status"
ALERT = "LOCKDOWN at Lincoln Elementary: Locks, lights, out of sight."


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def sms(phone: str = "+15551230001", body: str = ALERT, id: int = 1) -> OutboxMessage:
    return OutboxMessage(id=id, event_id=uuid.uuid4(), user_id=uuid.uuid4(), channel="sms",
                         kind="alert", body=body, critical=True, data={}, attempts=1,
                         phone=phone, push_tokens=[])


def sender(fake: FakeTwilio, **kw: object) -> TwilioSmsSender:
    options: dict = {"from_number": FROM, "rate_per_s": 1000.0, "timeout_s": 5.0} | kw
    return TwilioSmsSender(fake.account_sid, fake.auth_token, base_url=fake.base_url, **options)


async def send_one(fake: FakeTwilio, message: OutboxMessage, **kw: object) -> SendResult:
    async with sender(fake, **kw) as s:
        return await asyncio.wait_for(s.send(message), 10)


async def test_sent_from_a_number_with_callback_and_validity(fake):
    """A message from a number carries To, From, Body, StatusCallback and ValidityPeriod,
    and the result holds Twilio's Message SID."""
    result = await send_one(fake, sms("+15551230001"), status_callback_url=CALLBACK,
                            validity_period_s=300)

    [sent] = fake.messages
    assert result == SendResult(outcome="sent", provider_id=sent.sid)
    assert sent.sid.startswith("SM")
    assert (sent.account, sent.to, sent.from_, sent.messaging_service_sid) == (
        fake.account_sid, "+15551230001", FROM, None)
    assert (sent.body, sent.status_callback, sent.validity_period) == (ALERT, CALLBACK, "300")


async def test_sent_through_a_messaging_service(fake):
    """With a Messaging Service the request names the service and no From; no callback
    configured means no StatusCallback is sent."""
    result = await send_one(fake, sms(), from_number=None, messaging_service_sid=SERVICE)

    [sent] = fake.messages
    assert result.outcome == "sent"
    assert (sent.messaging_service_sid, sent.from_, sent.status_callback) == (SERVICE, None, None)
    assert sent.validity_period == "600"


@pytest.mark.parametrize("code", [21211, 21614, 21610])
async def test_numbers_that_will_never_take_sms_fail_for_good(fake, code):
    """Invalid To, not a mobile, and unsubscribed are failed with Twilio's code."""
    fake.fail("+15551230002", code)

    result = await send_one(fake, sms("+15551230002"))

    assert result == SendResult(outcome="failed", error_code=str(code))
    assert [r.status for r in fake.requests] == [400]


async def test_wrong_credentials_fail_for_good(fake):
    """A rejected auth token (401, 20003) is failed, not retried forever."""
    async with TwilioSmsSender(fake.account_sid, "not-the-token", from_number=FROM,
                               base_url=fake.base_url) as s:
        result = await asyncio.wait_for(s.send(sms()), 10)

    assert result == SendResult(outcome="failed", error_code="20003")


@pytest.mark.parametrize(("busy_status", "error_code"), [(429, "20429"), (503, "503")])
async def test_busy_twilio_is_retried(fake, busy_status, error_code):
    """Twilio's 429 (JSON, 20429) and a bare 503 are retried with the code seen."""
    fake.busy_rate, fake.busy_status = 1.0, busy_status

    result = await send_one(fake, sms())

    assert result == SendResult(outcome="retry", error_code=error_code)
    assert fake.messages == []


@pytest.mark.parametrize(("status", "code"), [(400, 30001), (429, 20429), (500, 20500)])
async def test_back_off_codes_and_server_errors_are_retried(fake, status, code):
    """Queue overflow, too many requests and 5xx are retried, whatever the HTTP status."""
    fake.fail("+15551230003", code, status)

    result = await send_one(fake, sms("+15551230003"))

    assert result == SendResult(outcome="retry", error_code=str(code))


async def test_connection_refused_is_retried(fake):
    """With nothing listening on the port, the message is retried."""
    async with sender(fake) as s:
        fake.stop()
        result = await asyncio.wait_for(s.send(sms()), 10)

    assert result == SendResult(outcome="retry", error_code="connection")


async def test_slow_twilio_times_out_and_is_retried(fake):
    """A request slower than `timeout_s` is given up and retried."""
    fake.latency_s = WAIT  # Twilio holds its answer past any timeout

    result = await send_one(fake, sms(), timeout_s=0.2)

    assert result == SendResult(outcome="retry", error_code="timeout")


async def test_concurrent_sends_share_one_client(fake):
    """Twenty concurrent sends on one sender each reach Twilio once."""
    phones = [f"+1555123{i:04d}" for i in range(20)]
    async with sender(fake) as s:
        results = await asyncio.wait_for(
            asyncio.gather(*(s.send(sms(p, id=i)) for i, p in enumerate(phones))), 10)

    assert {r.outcome for r in results} == {"sent"}
    assert sorted(m.to for m in fake.messages) == phones
    assert {r.provider_id for r in results} == {m.sid for m in fake.messages}


async def test_send_outside_the_block_is_a_bug():
    """Sending before `async with` opened the client raises instead of half-working."""
    s = TwilioSmsSender("AC" + "a" * 32, "token", from_number=FROM)

    with pytest.raises(RuntimeError):
        await s.send(sms())


@pytest.mark.parametrize("senders", [{}, {"from_number": FROM, "messaging_service_sid": SERVICE}])
def test_exactly_one_kind_of_sender(senders):
    """A From number or a Messaging Service, exactly one of them, is required."""
    with pytest.raises(ValueError):
        TwilioSmsSender("AC" + "a" * 32, "token", **senders)


class VirtualTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_bucket_spaces_hand_offs_at_the_rate():
    """Back-to-back reservations are spaced 1/rate apart, the first one at once."""
    clock = VirtualTime()
    bucket = TokenBucket(4, clock=clock)

    assert [bucket.reserve() for _ in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_bucket_refills_only_up_to_its_burst():
    """After a long pause, `burst` go at once and the next waits its turn again."""
    clock = VirtualTime()
    bucket = TokenBucket(2, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]

    clock.now += 100
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


async def test_bucket_hands_off_at_the_configured_rate():
    """100 hand-offs at 10/s, each followed by 30 ms of sending, take 9.9 virtual seconds
    (the first goes at once): the configured rate, well within 10 %."""
    clock = VirtualTime()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    handed_off = []
    for _ in range(100):
        await bucket.acquire()
        handed_off.append(clock.now)
        clock.now += 0.03

    assert handed_off[-1] - handed_off[0] == pytest.approx(99 / 10)
    gaps = [b - a for a, b in itertools.pairwise(handed_off)]
    assert min(gaps) == pytest.approx(0.1)


async def test_bucket_gives_concurrent_callers_distinct_slots():
    """Callers that arrive together each get their own slot, none earlier than the rate."""
    clock = VirtualTime()

    async def sleep_in_place(seconds: float) -> None:  # the clock stands still meanwhile
        clock.sleeps.append(seconds)

    bucket = TokenBucket(5, clock=clock, sleep=sleep_in_place)

    await asyncio.gather(*(bucket.acquire() for _ in range(10)))

    assert sorted(clock.sleeps) == pytest.approx([k / 5 for k in range(1, 10)])


def test_bucket_needs_a_positive_rate():
    """A rate of zero is a configuration error, not a sender that never sends."""
    with pytest.raises(ValueError):
        TokenBucket(0)


async def _captured_callback(fake: FakeTwilio, status: str,
                             error_code: int | None = None) -> tuple[dict[str, str], str]:
    """Send one message, let the fake post its status callback, return form and signature."""
    await send_one(fake, sms(), status_callback_url=CALLBACK)
    seen: list[httpx.Request] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(app)) as client:
        response = await fake.post_status_callback(fake.messages[0], status, error_code,
                                                   client=client)
    assert response.status_code == 204
    [request] = seen
    assert str(request.url) == CALLBACK
    return dict(parse_qsl(request.content.decode())), request.headers["X-Twilio-Signature"]


async def test_signed_status_callback_is_accepted(fake):
    """The fake's callback, signed like Twilio's, validates against the public URL."""
    form, signature = await _captured_callback(fake, "undelivered", 30003)

    assert form["MessageSid"] == fake.messages[0].sid
    assert (form["MessageStatus"], form["ErrorCode"]) == ("undelivered", "30003")
    assert validate_signature(fake.auth_token, CALLBACK, form, signature)


async def test_tampered_or_misaddressed_callbacks_are_rejected(fake):
    """A changed field, another URL, another token or no signature fails validation."""
    form, signature = await _captured_callback(fake, "failed", 30006)

    assert not validate_signature(fake.auth_token, CALLBACK,
                                        form | {"MessageStatus": "delivered"}, signature)
    assert not validate_signature(fake.auth_token, CALLBACK + "x", form, signature)
    assert not validate_signature("another-token", CALLBACK, form, signature)
    assert not validate_signature(fake.auth_token, CALLBACK, form, None)
    assert sign(CALLBACK, form, fake.auth_token) == signature


@pytest.mark.parametrize(("status", "error_code", "outcome"), [
    ("accepted", None, None),
    ("queued", None, None),
    ("sending", None, None),
    ("sent", None, None),
    ("delivered", None, "delivered"),
    ("read", None, "delivered"),
    ("undelivered", "30003", "undelivered"),
    ("undelivered", "30008", "undelivered"),
    ("failed", "30005", "undelivered"),
    ("failed", 30006, "undelivered"),
    ("failed", "30001", "failed"),
    ("failed", "", "failed"),
    ("canceled", None, "failed"),
])
def test_status_callback_outcome(status, error_code, outcome):
    """Twilio's status and error code map to delivered, undelivered (this number will not
    take SMS), failed, or None while still on the way."""
    assert status_callback_outcome(status, error_code) == outcome
