"""The FCM push sender, through its real HTTP and OAuth clients (aiohttp, google-auth)
against a fake FCM on 127.0.0.1; its JSON and its reading of FCM's errors against
firebase-admin's."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from firebase_admin import exceptions, messaging

from db.outbox import OutboxMessage
from notifications.dispatcher import IN_FLIGHT
from notifications.fcm import FcmSender
from notifications.fcm.answers import Answer, Kind, read
from notifications.fcm.message import send_bodies, title
from notifications.fcm.sender import TRIES
from notifications.providers import Providers, open_senders
from notifications.senders import SendResult
from tests.fakes.fcm import FakeFcm
from tests.waiting import WAIT, eventually

LOCKDOWN = "LOCKDOWN: Locks, lights, out of sight."
DATA = {"event_id": str(uuid.uuid4()), "school_id": str(uuid.uuid4()), "action": "lockdown",
        "drill": "false", "kind": "alert"}


def outbox_message(tokens: list[str], *, critical: bool = True, body: str = LOCKDOWN,
                   data: dict[str, str] = DATA) -> OutboxMessage:
    return OutboxMessage(id=1, event_id=uuid.uuid4(), user_id=uuid.uuid4(), channel="push",
                         kind="alert", body=body, critical=critical, data=data, attempts=1,
                         phone="+15555550100", push_tokens=tokens)


async def send(sender: FcmSender, message: OutboxMessage, within: float = WAIT) -> SendResult:
    return await asyncio.wait_for(sender.send(message), within)


@pytest.fixture
def fake() -> Iterator[FakeFcm]:
    with FakeFcm() as fake:
        yield fake


@pytest.fixture
async def sender(fake: FakeFcm) -> AsyncIterator[FcmSender]:
    sender = FcmSender(fake.service_account(), fcm_url=fake.fcm_url, timeout_s=2)
    yield sender
    await sender.aclose()


async def test_critical_alert_carries_critical_config_and_data(fake, sender):
    """A real alert goes out high priority with the critical sound and the deep-link data."""
    result = await send(sender, outbox_message(["phone-1"]))

    assert result.outcome == "sent"
    [request] = fake.sends
    assert result.provider_id == request.answer["name"]
    assert request.project == "muster-test" and request.token == "phone-1"
    assert not request.validate_only  # a real send, not FCM's dry run
    assert request.android == {"priority": "high", "ttl": "60s", "notification": {
        "channel_id": "emergency", "notification_priority": "PRIORITY_MAX"}}
    assert request.apns["headers"] == {"apns-priority": "10", "apns-push-type": "alert"}
    assert request.apns["payload"]["aps"] == {
        "sound": {"name": "default", "critical": 1, "volume": 1.0},
        "interruption-level": "critical"}
    assert request.data == DATA and all(isinstance(v, str) for v in request.data.values())
    assert request.notification == {"title": "LOCKDOWN", "body": LOCKDOWN}


async def test_drill_is_not_critical(fake, sender):
    """A drill goes out at normal priority with the default sound, never the critical one."""
    body = "DRILL — LOCKDOWN: Locks, lights, out of sight."
    result = await send(sender, outbox_message(["phone-1"], critical=False, body=body,
                                               data={**DATA, "drill": "true"}))

    assert result.outcome == "sent"
    [request] = fake.sends
    assert request.android == {"priority": "normal"}
    assert request.apns["headers"]["apns-priority"] == "5"
    assert request.apns["payload"]["aps"] == {"sound": "default"}
    assert request.notification == {"title": "DRILL — LOCKDOWN", "body": body}
    assert request.data["drill"] == "true"


async def test_two_devices_get_two_sends_and_one_result(fake, sender):
    """A person with a phone and a tablet gets one FCM send per device, one sent result."""
    result = await send(sender, outbox_message(["phone-1", "tablet-1"]))

    assert sorted(r.token for r in fake.sends) == ["phone-1", "tablet-1"]
    assert result == SendResult(outcome="sent", provider_id=result.provider_id)
    assert result.provider_id in {r.answer["name"] for r in fake.sends}
    assert fake.token_requests == 1  # one OAuth token, shared by both sends
    assert {r.access_token for r in fake.sends} == {fake.sends[0].access_token}


async def test_unregistered_token_is_dead_and_the_other_counts(fake, sender):
    """An UNREGISTERED token comes back dead while the other device's send makes it sent."""
    fake.unregistered = {"old-phone"}
    result = await send(sender, outbox_message(["old-phone", "new-phone"]))

    assert result.outcome == "sent"
    assert result.dead_tokens == ("old-phone",)
    [accepted] = [r for r in fake.sends if r.answered == 200]
    assert accepted.token == "new-phone"
    assert result.provider_id == accepted.answer["name"]


async def test_all_tokens_dead_is_failed(fake, sender):
    """When every token is unregistered or malformed, the message fails for good."""
    fake.unregistered, fake.invalid = {"old-phone"}, {"not-a-token"}
    result = await send(sender, outbox_message(["old-phone", "not-a-token"]))

    assert result.outcome == "failed"
    assert result.error_code == "unregistered"
    assert sorted(result.dead_tokens) == ["not-a-token", "old-phone"]


async def test_invalid_message_fails_without_killing_tokens(fake, sender):
    """An INVALID_ARGUMENT about the message, not the token, fails it and kills no device."""
    result = await send(sender, outbox_message(["phone-1", "tablet-1"], body="x" * 5000))

    assert result == SendResult(outcome="failed", error_code="invalid-argument")
    assert [r.answered for r in fake.sends] == [400, 400]


async def test_sender_from_a_credentials_file(fake, tmp_path):
    """A sender built from a service-account JSON file sends like one built from a dict."""
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(fake.service_account("from-file")))
    sender = FcmSender(path, fcm_url=fake.fcm_url, timeout_s=2)
    try:
        assert (await send(sender, outbox_message(["phone-1"]))).outcome == "sent"
    finally:
        await sender.aclose()
    assert [r.project for r in fake.sends] == ["from-file"]


async def test_the_pool_holds_what_the_dispatcher_sends_at_once(fake, tmp_path):
    """The configured sender has a connection for each push the dispatcher has at FCM at
    once: the two are one figure, not two that drift apart."""
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(fake.service_account()))
    async with open_senders(Providers(fcm_credentials=str(path), fcm_url=fake.fcm_url)) as senders:
        push = senders["push"]
        assert isinstance(push, FcmSender)
        assert push.connections == IN_FLIGHT["push"]


def test_only_a_service_account_will_do(fake):
    """A credential that is not a service account's key is refused when the sender is made."""
    with pytest.raises(ValueError, match="service account"):
        FcmSender(fake.service_account() | {"type": "authorized_user"}, fcm_url=fake.fcm_url)


async def test_no_device_fails_without_calling_fcm(fake, sender):
    """A person without a working device fails as no-device, and FCM hears nothing."""
    result = await send(sender, outbox_message([]))

    assert result == SendResult(outcome="failed", error_code="no-device")
    assert fake.sends == [] and fake.token_requests == 0


@pytest.mark.parametrize(("status", "code"), [
    (429, "quota-exceeded"), (503, "unavailable"), (500, "internal")])
async def test_a_lasting_outage_is_retry_after_a_few_tries(fake, sender, status, code):
    """A lasting 429 QUOTA_EXCEEDED, 503 or 500 is tried TRIES times here (at once, as
    FCM's Retry-After: 0 says), then asks the dispatcher for a retry."""
    fake.error_rate, fake.error_status, fake.retry_after = 1.0, status, "0"
    result = await send(sender, outbox_message(["phone-1"]))

    assert result == SendResult(outcome="retry", error_code=code)
    assert [r.answered for r in fake.sends] == [status] * TRIES


async def test_a_passing_outage_is_ridden_out(fake, sender):
    """Two 503s, then FCM is back: the send is tried again here (after a backoff of its
    own, FCM gave no Retry-After) and is sent."""
    fake.fail_next = 2
    result = await send(sender, outbox_message(["phone-1"]))

    assert result.outcome == "sent"
    assert [r.answered for r in fake.sends] == [503, 503, 200]


async def test_retry_after_is_waited_for(fake, sender):
    """After a 429 with Retry-After: 1 the send is tried again no sooner than a second
    later (a lower bound: load only adds to it)."""
    fake.fail_next, fake.error_status, fake.retry_after = 1, 429, "1"
    result = await send(sender, outbox_message(["phone-1"]))

    assert result.outcome == "sent"
    refused, accepted = fake.sends
    assert (refused.answered, accepted.answered) == (429, 200)
    assert accepted.received_at - refused.received_at >= 1.0


async def test_retry_after_past_the_deadline_is_the_dispatchers(fake, sender):
    """A Retry-After longer than the send's deadline is not waited for here: the send
    asks for a retry at once, after one try."""
    fake.error_rate, fake.error_status, fake.retry_after = 1.0, 429, "60"
    result = await send(sender, outbox_message(["phone-1"]))

    assert result == SendResult(outcome="retry", error_code="quota-exceeded")
    assert len(fake.sends) == 1


async def test_unreachable_fcm_is_retry(fake):
    """With nothing listening at FCM's address, the send asks for a retry as unavailable."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    sender = FcmSender(fake.service_account(), timeout_s=1, deadline_s=3,
                       fcm_url=f"http://127.0.0.1:{port}/v1/projects/{{0}}/messages:send")
    try:
        result = await send(sender, outbox_message(["phone-1"]))
    finally:
        await sender.aclose()
    assert result == SendResult(outcome="retry", error_code="unavailable")


async def test_oauth_failure_is_retry_and_recovers(fake, sender):
    """A refused OAuth token asks for a retry without reaching FCM; the next send works."""
    fake.oauth_fails = True
    result = await send(sender, outbox_message(["phone-1"]))

    assert result == SendResult(outcome="retry", error_code="oauth")
    assert fake.token_requests == 1 and fake.sends == []

    fake.oauth_fails = False
    assert (await send(sender, outbox_message(["phone-1"]))).outcome == "sent"


async def test_latency_slows_sends_and_timeouts_retry(fake):
    """The latency knob delays FCM's answer; past the request timeout the send is a retry."""
    sender = FcmSender(fake.service_account(), fcm_url=fake.fcm_url, timeout_s=2)
    try:
        fake.latency_s = 0.3
        started = time.monotonic()
        assert (await send(sender, outbox_message(["phone-1"]))).outcome == "sent"
        assert time.monotonic() - started >= 0.3  # a lower bound: load only adds to it

        fake.latency_s = WAIT  # FCM holds its answer past any timeout
        result = await send(sender, outbox_message(["phone-1"]))
        assert result == SendResult(outcome="retry", error_code="deadline-exceeded")
        assert len(fake.sends) == 1  # the timeout, not the fake, ended it
    finally:
        await sender.aclose()


async def test_deadline_bounds_a_whole_send(fake):
    """A send that outlasts `deadline_s` is a retry when the deadline passes."""
    sender = FcmSender(fake.service_account(), fcm_url=fake.fcm_url, timeout_s=5,
                       deadline_s=0.3)
    try:
        fake.latency_s = WAIT  # FCM holds its answer past the deadline
        result = await send(sender, outbox_message(["phone-1"]))
        assert result == SendResult(outcome="retry", error_code="deadline")
        assert fake.sends == []  # the deadline, not the fake, ended it
    finally:
        await sender.aclose()


async def test_each_sender_keeps_its_own_endpoint():
    """Two senders in one process each reach their own fake, not the last one configured."""
    with FakeFcm() as first, FakeFcm() as second:
        senders = [FcmSender(f.service_account(), fcm_url=f.fcm_url, timeout_s=2)
                   for f in (first, second)]
        try:
            for sender in senders:
                assert (await send(sender, outbox_message(["phone-1"]))).outcome == "sent"
        finally:
            for sender in senders:
                await sender.aclose()
    assert len(first.sends) == 1 and len(second.sends) == 1


async def test_one_token_serves_many_sends_at_once(fake, sender):
    """Twenty people's sends at once, before any token: one OAuth request serves them all."""
    results = await asyncio.gather(*(send(sender, outbox_message([f"phone-{n}"]))
                                     for n in range(20)))

    assert {r.outcome for r in results} == {"sent"}
    assert fake.token_requests == 1 and len({r.access_token for r in fake.sends}) == 1


async def test_token_is_renewed_before_it_expires(fake, sender):
    """A token within the renewal margin of its expiry (5 min) is renewed once while sends
    go on with it; later sends carry the new one."""
    fake.expires_in = 300  # due for renewal as soon as it is issued, valid for 5 min
    await send(sender, outbox_message(["phone-1"]))
    first = fake.sends[0].access_token
    fake.expires_in = 3599  # the renewed one is good for an hour

    async def carries_a_new_token() -> bool:
        assert (await send(sender, outbox_message(["phone-1"]))).outcome == "sent"
        return fake.sends[-1].access_token != first

    await eventually(carries_a_new_token)
    assert fake.sends[1].access_token == first  # the send that started the renewal
    assert fake.token_requests == 2


async def test_an_expired_token_is_never_sent(fake, sender):
    """A token that has expired is not used: the next send waits for a new one."""
    fake.expires_in = 0
    for _ in range(2):
        assert (await send(sender, outbox_message(["phone-1"]))).outcome == "sent"

    assert fake.token_requests == 2
    assert fake.sends[0].access_token != fake.sends[1].access_token


async def test_a_revoked_token_is_replaced_at_once(fake, sender):
    """FCM answers 401 to a token it no longer takes: the sender fetches another and the
    same send goes out with it."""
    await send(sender, outbox_message(["phone-1"]))
    fake.revoke()
    result = await send(sender, outbox_message(["phone-1"]))

    assert result.outcome == "sent"
    assert [r.answered for r in fake.sends] == [200, 401, 200]
    assert fake.token_requests == 2


# -- against firebase-admin: its Message encoder and its reading of FCM's errors


def sdk_message(message: OutboxMessage, token: str) -> messaging.Message:
    """The message as firebase-admin's objects describe it (how Muster sent it with the SDK)."""
    critical = message.critical
    android = messaging.AndroidConfig(
        priority="high", ttl=60,
        notification=messaging.AndroidNotification(channel_id="emergency", priority="max"),
    ) if critical else messaging.AndroidConfig(priority="normal")
    sound = messaging.CriticalSound("default", critical=True, volume=1.0) if critical else "default"
    apns = messaging.APNSConfig(
        headers={"apns-priority": "10" if critical else "5", "apns-push-type": "alert"},
        payload=messaging.APNSPayload(aps=messaging.Aps(
            sound=sound, custom_data={"interruption-level": "critical"} if critical else None)))
    with warnings.catch_warnings():  # 7.7 deprecates `token` for `fid`: the wire says token
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        return messaging.Message(
            token=token, data=message.data, android=android, apns=apns,
            notification=messaging.Notification(title=title(message.body), body=message.body))


@pytest.mark.parametrize("message", [
    outbox_message(["phone-1"]),
    outbox_message(["phone-1"], critical=False, body="DRILL — LOCKDOWN: Locks, lights."),
    outbox_message(["phone-1"], critical=False, body="Reunification at 3: gym", data={}),
    outbox_message(["phone-1"], body="A long first sentence, long enough to be no title: ok"),
], ids=["critical", "drill", "no-data", "no-title"])
def test_the_json_is_firebase_admins(message):
    """Each token's body is exactly what firebase-admin encodes for the same message."""
    [body] = send_bodies(message, ["phone-1"])
    expected = messaging._MessagingService.encode_message(sdk_message(message, "phone-1"))
    assert json.loads(body) == {"message": expected}


def fcm_error(code: int, status: str | None, *details: dict) -> bytes:
    return json.dumps({"error": {"code": code, "message": "m", "status": status,
                                 "details": list(details)}}).encode()


def fcm_code(code: str) -> dict:
    return {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}


ON_THE_TOKEN = {"@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "message.token", "description": "bad"}]}
ON_THE_DATA = {"@type": "type.googleapis.com/google.rpc.BadRequest",
               "fieldViolations": [{"field": "message.data", "description": "bad"}]}

ANSWERS = {  # FCM's answer -> what it means for the token
    "unregistered": (404, fcm_error(404, "NOT_FOUND", fcm_code("UNREGISTERED")),
                     Answer(Kind.DEAD, "unregistered", 404)),
    "sender-id-mismatch": (403, fcm_error(403, "PERMISSION_DENIED",
                                          fcm_code("SENDER_ID_MISMATCH")),
                           Answer(Kind.DEAD, "sender-id-mismatch", 403)),
    "invalid-token": (400, fcm_error(400, "INVALID_ARGUMENT", fcm_code("INVALID_ARGUMENT"),
                                     ON_THE_TOKEN), Answer(Kind.DEAD, "invalid-token", 400)),
    "invalid-data": (400, fcm_error(400, "INVALID_ARGUMENT", fcm_code("INVALID_ARGUMENT"),
                                    ON_THE_DATA), Answer(Kind.REFUSED, "invalid-argument", 400)),
    "apns-auth": (401, fcm_error(401, "UNAUTHENTICATED", fcm_code("THIRD_PARTY_AUTH_ERROR")),
                  Answer(Kind.REFUSED, "third-party-auth", 401)),
    "quota": (429, fcm_error(429, "RESOURCE_EXHAUSTED", fcm_code("QUOTA_EXCEEDED")),
              Answer(Kind.RETRY, "quota-exceeded", 429)),
    "unavailable": (503, fcm_error(503, "UNAVAILABLE"), Answer(Kind.RETRY, "unavailable", 503)),
    "internal": (500, fcm_error(500, "INTERNAL", fcm_code("INTERNAL")),
                 Answer(Kind.RETRY, "internal", 500)),
    "unauthenticated": (401, fcm_error(401, "UNAUTHENTICATED"),
                        Answer(Kind.RETRY, "unauthenticated", 401)),
    "no-status": (404, fcm_error(404, None), Answer(Kind.RETRY, "not-found", 404)),
    "odd-status": (409, fcm_error(409, "NOT_A_STATUS"), Answer(Kind.RETRY, "unknown", 409)),
    "not-json": (502, b"<html>Bad Gateway</html>", Answer(Kind.RETRY, "unknown", 502)),
}


def sdk_verdict(error: exceptions.FirebaseError) -> tuple[Kind, str]:
    """How Muster read firebase-admin's exceptions while it sent through the SDK."""
    if isinstance(error, messaging.UnregisteredError):
        return Kind.DEAD, "unregistered"
    if isinstance(error, messaging.SenderIdMismatchError):
        return Kind.DEAD, "sender-id-mismatch"
    if isinstance(error, exceptions.InvalidArgumentError):
        details = error.http_response.json()["error"]["details"]
        on_token = any(v.get("field") == "message.token"
                       for d in details for v in d.get("fieldViolations", ()))
        return (Kind.DEAD, "invalid-token") if on_token else (Kind.REFUSED, "invalid-argument")
    if isinstance(error, messaging.ThirdPartyAuthError):
        return Kind.REFUSED, "third-party-auth"
    if isinstance(error, messaging.QuotaExceededError):
        return Kind.RETRY, "quota-exceeded"
    return Kind.RETRY, str(error.code).lower().replace("_", "-")


@pytest.mark.parametrize(("status", "body", "answer"), ANSWERS.values(), ids=ANSWERS.keys())
def test_errors_read_as_firebase_admin_read_them(status, body, answer):
    """Each error answer means what firebase-admin's exception for it meant."""
    request = httpx.Request("POST", "https://fcm.googleapis.com/v1/projects/p/messages:send")
    response = httpx.Response(status, content=body, request=request)
    error = httpx.HTTPStatusError("refused", request=request, response=response)
    sdk_error = messaging._MessagingService._handle_fcm_httpx_error(None, error)

    assert read(status, body) == answer
    assert (answer.kind, answer.code) == sdk_verdict(sdk_error)
