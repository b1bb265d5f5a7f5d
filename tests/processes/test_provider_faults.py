"""Providers failing for a while during an event, through the real SDKs and the fakes:
nothing is lost, nothing goes out twice, and SMS covers for a push that cannot get out."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from notifications.dispatcher import Dispatcher
from notifications.fcm import FcmSender
from notifications.twilio_sms import TwilioSmsSender
from tests import factories
from tests.conftest import LINKS, bearer
from tests.fakes.fcm import FakeFcm
from tests.fakes.twilio import FakeTwilio


@pytest.fixture
async def providers():
    """The real FCM and Twilio senders, pointed at the fakes."""
    with FakeFcm() as fcm, FakeTwilio() as twilio:
        push = FcmSender(fcm.service_account(), fcm_url=fcm.fcm_url, timeout_s=20)
        async with TwilioSmsSender(twilio.account_sid, twilio.auth_token,
                                   from_number="+15005550006", rate_per_s=1000,
                                   base_url=twilio.base_url) as sms:
            yield fcm, twilio, {"push": push, "sms": sms}
        await push.aclose()


@pytest.fixture
async def school(db):
    """A teacher and an SRO with a phone each, a staff member without one."""
    school = await factories.staffed_school(db, "teacher", "sro", "staff")
    people = {role: school[role] for role in ("teacher", "sro", "staff")}
    for n, role in enumerate(("teacher", "sro"), 1):
        await db.execute("insert into devices (id, user_id, platform, push_token) "
                         "values ($1, $2, 'android', $3)", uuid.uuid4(), people[role], f"tok-{n}")
    phones = {role: await db.fetchval("select phone from users where id = $1", user)
              for role, user in people.items()}
    return school | {"people": people, "phones": phones}


async def _states(db, event_id: str) -> Counter:
    rows = await db.fetch("select channel, state from notification_outbox where event_id = $1",
                          uuid.UUID(event_id))
    return Counter((r["channel"], r["state"]) for r in rows)


async def test_fcm_down_during_a_drill_sms_covers_then_push_catches_up(client, db, pool,
                                                                        database_url, clock,
                                                                        providers, school):
    """FCM answers 503 (the SDK retries 5 times, then so do we, later). The staff member
    without a phone has their SMS at once; at 60 s whoever has not acknowledged gets the
    SMS reminder; once FCM is back, the pushes go out. Each message once."""
    fcm, twilio, senders = providers
    event_id = await factories.start(client, school, drill=True)
    dispatcher = Dispatcher(pool, database_url, senders, clock, jitter=lambda: 0.5, links=LINKS)

    fcm.error_rate, fcm.error_status = 1.0, 503
    assert await dispatcher.run_once("push") == 2
    assert await _states(db, event_id) == Counter({("push", "queued"): 2, ("sms", "queued"): 3})
    assert await dispatcher.run_once("sms") == 1  # no phone: SMS at once
    ack = await client.post(f"/v1/events/{event_id}/ack",
                            headers=bearer(school["people"]["teacher"]))
    assert ack.status_code == 204

    fcm.error_rate = 0.0
    clock.advance(seconds=60)
    assert await dispatcher.run_once("sms") == 1  # the SRO's reminder; the teacher acked
    assert await dispatcher.run_once("push") == 2
    assert [m.to for m in twilio.messages] == [school["phones"]["staff"],
                                               school["phones"]["sro"]]
    assert sorted(s.token for s in fcm.sends if s.answered == 200) == ["tok-1", "tok-2"]
    assert await _states(db, event_id) == Counter(
        {("push", "sent"): 2, ("sms", "sent"): 2, ("sms", "skipped"): 1})
    attempts = await db.fetch("select attempts from notification_outbox where channel = 'push' "
                              "and event_id = $1", uuid.UUID(event_id))
    assert [r["attempts"] for r in attempts] == [2, 2]


@pytest.mark.parametrize("busy", ["too-many-requests", "queue-overflow"])
async def test_twilio_pushing_back_during_a_lockdown_loses_nothing(client, db, pool,
                                                                    database_url, clock,
                                                                    providers, school, busy):
    """Twilio answers 429 (or queue overflow, 30001) for a while: the SMS wait with backoff
    and then go out, each once."""
    _, twilio, senders = providers
    event_id = await factories.start(client, school, drill=False)
    dispatcher = Dispatcher(pool, database_url, senders, clock, jitter=lambda: 0.5, links=LINKS)
    if busy == "too-many-requests":
        twilio.busy_rate = 1.0
    else:
        for phone in school["phones"].values():
            twilio.fail(phone, 30001)

    assert await dispatcher.run_once("sms") == 3
    assert await _states(db, event_id) == Counter({("push", "queued"): 2, ("sms", "queued"): 3,
                                                   ("voice", "queued"): 6})  # its repeats
    clock.advance(seconds=4)
    assert await dispatcher.run_once("sms") == 0  # the backoff (5 s) is not over
    twilio.recover()
    clock.advance(seconds=1)
    assert await dispatcher.run_once("sms") == 3
    assert sorted(m.to for m in twilio.messages) == sorted(school["phones"].values())
    assert len(twilio.requests) == 6
    assert (await _states(db, event_id))[("sms", "sent")] == 3
