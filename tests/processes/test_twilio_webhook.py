"""SMS end to end through the real twilio SDK and a fake Twilio: sent by the dispatcher,
then a signed status callback records the delivery receipt."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.routes.webhooks import TWILIO_STATUS_PATH
from api.settings import Settings
from notifications.dispatcher import Dispatcher
from notifications.senders import ConsoleSender
from notifications.twilio_sms import TwilioSmsSender
from tests import factories
from tests.conftest import LINKS, SECRET, T0
from tests.fakes.twilio import FakeTwilio, sign
from tests.metrics_samples import scrape, value


@pytest.fixture
def fake():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
async def app_client(db, database_url, fake, clock, tmp_path):
    settings = Settings(data_dir=str(tmp_path), jwt_secret=SECRET,
                        twilio_account_sid=fake.account_sid, twilio_auth_token=fake.auth_token,
                        twilio_from="+15005550006", public_url="https://muster.example.org")
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                     dispatch=False)
    async with AsyncTestClient(app) as client:
        yield client, settings


async def _sent_sms(db, pool, database_url, clock, fake, settings):
    """One SMS queued for a teacher and sent by a dispatcher through the fake."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    teacher = await factories.person(db, d, s, "teacher")
    event = uuid.uuid4()
    await db.execute("insert into events (id, school_id, action, drill, status, directive, "
                     "started_at, started_by) "
                     "values ($1, $2, 'hold', false, 'active', 'x', $3, $4)",
                     event, s, T0, teacher)
    await db.execute("insert into notification_outbox (event_id, user_id, channel, kind, body, "
                     "not_before) values ($1, $2, 'sms', 'alert', 'HOLD: In your room.', $3)",
                     event, teacher, T0)
    sms = TwilioSmsSender(fake.account_sid, fake.auth_token, from_number="+15005550006",
                          status_callback_url=settings.base_url + TWILIO_STATUS_PATH,
                          base_url=fake.base_url)
    async with sms:
        senders = {"sms": sms, "push": ConsoleSender("push")}
        assert await Dispatcher(pool, database_url, senders, clock, links=LINKS).run_once() == 1
    [message] = fake.messages
    return message


async def test_signed_receipt_marks_the_sms_delivered(app_client, db, pool, database_url, clock,
                                                      fake):
    """The dispatcher hands the SMS to Twilio with our public callback URL; Twilio's signed
    'delivered' receipt is recorded once, a repeat changes nothing."""
    client, settings = app_client
    message = await _sent_sms(db, pool, database_url, clock, fake, settings)
    assert message.status_callback == "https://muster.example.org" + TWILIO_STATUS_PATH
    assert await db.fetchval("select provider_id from notification_outbox") == message.sid
    for _ in range(2):
        r = await fake.post_status_callback(message, "delivered", url=TWILIO_STATUS_PATH,
                                            client=client)
        assert r.status_code == 204, r.text
    assert await db.fetchval("select state from notification_outbox") == "delivered"
    assert [r["outcome"] for r in await db.fetch("select outcome from deliveries order by id")] \
        == ["sent", "delivered"]
    receipts = value(await scrape(client), "muster_delivery_receipts_total", channel="sms",
                     outcome="delivered")
    assert receipts == 1


async def test_undeliverable_receipt_marks_it_failed(app_client, db, pool, database_url, clock,
                                                     fake):
    """A landline (30006) makes the SMS failed, with the code kept for readiness."""
    client, settings = app_client
    message = await _sent_sms(db, pool, database_url, clock, fake, settings)
    r = await fake.post_status_callback(message, "undelivered", 30006, url=TWILIO_STATUS_PATH,
                                        client=client)
    assert r.status_code == 204
    row = await db.fetchrow("select state, error_code from notification_outbox")
    assert (row["state"], row["error_code"]) == ("failed", "30006")
    receipts = value(await scrape(client), "muster_delivery_receipts_total", channel="sms",
                     outcome="undelivered")
    assert receipts == 1


@pytest.mark.parametrize("tamper", ["signature", "status", "url"])
async def test_unsigned_or_tampered_callbacks_are_403_and_change_nothing(app_client, db, pool,
                                                                        database_url, clock,
                                                                        fake, tamper):
    """A callback whose signature does not match our auth token and public URL is refused."""
    client, settings = app_client
    message = await _sent_sms(db, pool, database_url, clock, fake, settings)
    form = fake.status_callback_form(message, "delivered")
    signed_url = settings.base_url + TWILIO_STATUS_PATH
    if tamper == "url":
        signed_url = "http://attacker.example" + TWILIO_STATUS_PATH
    signature = sign(signed_url, form, fake.auth_token)
    if tamper == "signature":
        signature = "bm90LWEtc2lnbmF0dXJl"
    if tamper == "status":
        form["MessageStatus"] = "failed"
    r = await client.post(TWILIO_STATUS_PATH, data=form, headers={"X-Twilio-Signature": signature})
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("select state from notification_outbox") == "sent"
    assert value(await scrape(client), "muster_delivery_receipts_total", channel="sms",
                 outcome="delivered") is None
