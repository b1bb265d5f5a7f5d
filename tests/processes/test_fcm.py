"""The FCM push sender, through the real firebase-admin SDK against a fake FCM on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from db.outbox import OutboxMessage
from notifications.fcm import FcmSender
from notifications.senders import SendResult
from tests.fakes.fcm import FakeFcm
from tests.waiting import WAIT

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
    assert not request.validate_only  # the SDK's service method defaults to dry_run
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


async def test_no_device_fails_without_calling_fcm(fake, sender):
    """A person without a working device fails as no-device, and FCM hears nothing."""
    result = await send(sender, outbox_message([]))

    assert result == SendResult(outcome="failed", error_code="no-device")
    assert fake.sends == [] and fake.token_requests == 0


async def test_quota_exceeded_is_retry(fake, sender):
    """A 429 QUOTA_EXCEEDED asks for a retry, at once (the SDK does not retry 429)."""
    fake.error_rate, fake.error_status = 1.0, 429
    result = await send(sender, outbox_message(["phone-1"]))

    assert result == SendResult(outcome="retry", error_code="quota-exceeded")
    assert len(fake.sends) == 1


async def test_unavailable_is_retry_after_the_sdks_own_retries(fake, sender):
    """A lasting 503 asks for a retry, after the SDK has tried 5 times (~7 s of backoff)."""
    fake.error_rate, fake.error_status = 1.0, 503
    result = await send(sender, outbox_message(["phone-1"]), within=15)

    assert result == SendResult(outcome="retry", error_code="unavailable")
    assert [r.answered for r in fake.sends] == [503] * 5


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
