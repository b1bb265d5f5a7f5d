"""Voice calls end to end through the real twilio SDK and a fake Twilio: the call placed
with its TwiML (the message twice, "press 1"), the signed call-status callback that
calls again (3 calls at most) or settles the message, and the signed keypress that
confirms it and acknowledges the event."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.routes.webhooks import TWILIO_KEYPRESS_PATH, TWILIO_VOICE_PATH
from api.settings import Settings
from db import outbox
from domain.alerts import Channel, MessageKind, PlannedMessage
from domain.delivery import OutboxMessage
from notifications.dispatcher import LEASE, Dispatcher
from notifications.providers import open_senders
from notifications.senders import SendResult
from notifications.twilio_voice import TwilioVoiceSender
from tests import factories
from tests.conftest import LINKS, SECRET, T0
from tests.fakes.twilio import FakeTwilio, PlacedCall, sign
from tests.metrics_samples import scrape, value
from tests.waiting import WAIT

PUBLIC = "https://muster.example.org"
FROM = "+15005550006"
WORDS = "LOCKDOWN at Lincoln Elementary: Locks, lights, out of sight."
PALABRAS = "CIERRE DE EMERGENCIA en Lincoln Elementary: Cierren con llave."


@pytest.fixture
def fake():
    with FakeTwilio() as fake:
        yield fake


# -- the sender alone --

def call(phone: str = "+15551230001", body: str = WORDS, language: str = "en") -> OutboxMessage:
    return OutboxMessage(id=1, event_id=uuid.uuid4(), user_id=uuid.uuid4(), channel="voice",
                         kind="alert", body=body, critical=True, data={"language": language},
                         attempts=1, phone=phone, push_tokens=[])


async def place(fake: FakeTwilio, message: OutboxMessage, **kw: object) -> SendResult:
    options: dict = {"from_number": FROM, "status_callback_url": PUBLIC + TWILIO_VOICE_PATH,
                     "keypress_url": PUBLIC + TWILIO_KEYPRESS_PATH, "rate_per_s": 1000.0,
                     "timeout_s": 5.0} | kw
    if "base_url" not in options:
        options["base_url"] = fake.base_url
    async with TwilioVoiceSender(fake.account_sid, fake.auth_token, **options) as sender:
        return await asyncio.wait_for(sender.send(message), WAIT)


def spoken(twiml: str) -> tuple[ET.Element, list[tuple[str, str | None]], list[str]]:
    """The call's Gather, what is said inside it (text, language), and what after it."""
    root = ET.fromstring(twiml)
    [gather] = root.findall("Gather")
    inside = [(say.text or "", say.get("language")) for say in gather.findall("Say")]
    after = [say.text or "" for say in root.findall("Say")]
    return gather, inside, after


async def test_a_call_says_the_message_twice_and_asks_for_1(fake):
    """The call goes from our number to the person's with its TwiML inline: the message
    twice and "press 1" inside a one-key Gather posting to the keypress webhook, a
    goodbye if nothing is pressed; its end is posted to the status webhook."""
    result = await place(fake, call("+15551230001"))

    [placed] = fake.calls
    assert result == SendResult(outcome="sent", provider_id=placed.sid)
    assert placed.sid.startswith("CA")
    assert (placed.account, placed.to, placed.from_) == (fake.account_sid, "+15551230001", FROM)
    assert placed.status_callback == PUBLIC + TWILIO_VOICE_PATH
    assert (placed.status_callback_events, placed.status_callback_method) == (["completed"],
                                                                              "POST")
    gather, inside, after = spoken(placed.twiml)
    assert gather.attrib == {"action": PUBLIC + TWILIO_KEYPRESS_PATH, "method": "POST",
                             "numDigits": "1"}
    assert inside == [(WORDS, "en-US"), (WORDS, "en-US"),
                      ("Press 1 to confirm you heard this.", "en-US")]
    assert len(gather.findall("Pause")) == 2
    assert after == ["No key was pressed. Goodbye."]
    assert fake.messages == []


async def test_a_call_in_spanish_is_said_in_spanish(fake):
    await place(fake, call(body=PALABRAS, language="es"))

    [placed] = fake.calls
    _, inside, after = spoken(placed.twiml)
    assert inside == [(PALABRAS, "es-MX"), (PALABRAS, "es-MX"),
                      ("Presione 1 para confirmar que escuchó este mensaje.", "es-MX")]
    assert after == ["No se presionó ninguna tecla. Adiós."]


async def test_words_that_look_like_twiml_are_said_not_obeyed(fake):
    """The message is text inside <Say>: markup in it is escaped, never a verb."""
    body = 'Room 12 <Dial>+15550000000</Dial> & "exit"'
    await place(fake, call(body=body))

    _, inside, _ = spoken(fake.calls[0].twiml)
    assert inside[0] == (body, "en-US")
    assert ET.fromstring(fake.calls[0].twiml).find(".//Dial") is None


@pytest.mark.parametrize(("status", "code", "outcome"), [
    (400, 21217, "failed"),  # not a valid phone number
    (400, 21211, "failed"),
    (401, 20003, "failed"),
    (429, 20429, "retry"),
    (500, 20500, "retry"),
])
async def test_errors_are_classified_as_for_sms(fake, status, code, outcome):
    fake.fail("+15551230002", code, status)

    result = await place(fake, call("+15551230002"))

    assert result == SendResult(outcome=outcome, error_code=str(code))
    assert fake.calls == []


@pytest.mark.parametrize(("trouble", "error_code"), [
    ("busy", "503"), ("slow", "timeout"), ("down", "connection")])
async def test_busy_slow_or_unreachable_twilio_is_retried(fake, trouble, error_code):
    base_url = fake.base_url
    if trouble == "busy":
        fake.busy_rate, fake.busy_status = 1.0, 503
    if trouble == "slow":
        fake.latency_s = WAIT  # Twilio holds its answer past any timeout
    if trouble == "down":
        fake.stop()

    result = await place(fake, call(), timeout_s=0.2, base_url=base_url)

    assert result == SendResult(outcome="retry", error_code=error_code)
    assert fake.calls == []


async def test_calls_are_placed_through_twilio_once_configured(fake, tmp_path):
    """With Twilio's settings the voice lane is Twilio, calling from MUSTER_TWILIO_FROM,
    at MUSTER_VOICE_RATE; without them it is the console."""
    settings = Settings(data_dir=str(tmp_path), twilio_account_sid=fake.account_sid,
                        twilio_auth_token=fake.auth_token, twilio_from=FROM, voice_rate=2,
                        public_url=PUBLIC, twilio_api_url=fake.base_url)
    async with open_senders(settings.providers()) as senders:
        assert isinstance(senders[Channel.VOICE], TwilioVoiceSender)
        result = await asyncio.wait_for(senders[Channel.VOICE].send(call()), WAIT)
    assert result.outcome == "sent"
    [placed] = fake.calls
    assert (placed.from_, placed.status_callback) == (FROM, PUBLIC + TWILIO_VOICE_PATH)
    async with open_senders(Settings(data_dir=str(tmp_path)).providers()) as senders:
        assert not isinstance(senders[Channel.VOICE], TwilioVoiceSender)


# -- the app's webhooks, with a dispatcher placing the calls --

@dataclass
class World:
    client: AsyncTestClient
    fake: FakeTwilio
    dispatcher: Dispatcher
    event_id: uuid.UUID
    user_id: uuid.UUID

    async def dispatch(self) -> int:
        return await self.dispatcher.run_once(Channel.VOICE)

    async def ended(self, placed: PlacedCall, status: str, error_code: int | None = None) -> None:
        r = await self.fake.post_call_status(placed, status, error_code, url=TWILIO_VOICE_PATH,
                                             client=self.client)
        assert r.status_code == 204, r.text

    async def press(self, placed: PlacedCall, digits: str) -> str:
        r = await self.fake.post_keypress(placed, digits, url=TWILIO_KEYPRESS_PATH,
                                          client=self.client)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/xml")
        return r.text

    async def receipts(self, outcome: str) -> float | None:
        return value(await scrape(self.client), "muster_delivery_receipts_total",
                     channel="voice", outcome=outcome)


@pytest.fixture
async def world(db, pool, database_url, fake, clock, tmp_path):
    """An active lockdown at a school with a teacher; the app, and a dispatcher whose
    voice lane is Twilio (the fake), both as configured by the same settings (at 100
    calls a second, so that the tests do not wait on the rate limit)."""
    settings = Settings(data_dir=str(tmp_path), jwt_secret=SECRET,
                        twilio_account_sid=fake.account_sid, twilio_auth_token=fake.auth_token,
                        twilio_from=FROM, public_url=PUBLIC, twilio_api_url=fake.base_url,
                        voice_rate=100)
    d = await factories.district(db)
    s = await factories.school(db, d)
    teacher = await factories.person(db, d, s, "teacher")
    event = await factories.lockdown(db, s, teacher, T0)
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                     dispatch=False)
    async with AsyncTestClient(app) as client, open_senders(settings.providers()) as senders:
        dispatcher = Dispatcher(pool, database_url, senders, clock, links=LINKS)
        yield World(client, fake, dispatcher, event, teacher)


async def enqueue_call(db, world: World, *, language: str = "en", contact: bool = False,
                       body: str = WORDS) -> None:
    """A voice message about the event, to the teacher or to a contact of the school (a
    number)."""
    to: dict[str, object] = {"user_id": world.user_id}
    if contact:
        contact_id = uuid.uuid4()
        await db.execute(
            "insert into school_contacts (id, school_id, position, name, phone, kind, calls_on,"
            " added_at) select $1, school_id, 0, 'Dispatch', '+15125550199', 'psap', 'real', $3"
            " from events where id = $2", contact_id, world.event_id, T0)
        to = {"user_id": None, "contact_id": contact_id, "phone": "+15125550199"}
    message = PlannedMessage(channel=Channel.VOICE, kind=MessageKind.ALERT, priority=9,
                             body=body, critical=True, data={"language": language},
                             not_before=T0, **to)
    await outbox.enqueue(db, world.event_id, [message])


async def placed_call(db, world: World, **kw: object) -> PlacedCall:
    await enqueue_call(db, world, **kw)
    assert await world.dispatch() == 1
    return world.fake.calls[-1]


async def row(db):
    return await db.fetchrow("select state, provider_id, not_before, error_code, confirmed_at, "
                             "lease_until from notification_outbox")


async def outcomes(db) -> list[tuple[str, str | None]]:
    return [(r["outcome"], r["error_code"])
            for r in await db.fetch("select outcome, error_code from deliveries order by id")]


async def test_a_keypress_confirms_the_call_and_acknowledges_the_event(db, world, clock):
    """1 answers "Confirmed", keeps the first keypress's time, and is the teacher's
    acknowledgement; the call's end then makes the message delivered."""
    placed = await placed_call(db, world)
    assert (await row(db))["provider_id"] == placed.sid
    assert placed.to == await db.fetchval("select phone from users where id = $1",
                                          world.user_id)

    answer = await world.press(placed, "1")
    assert [say.text for say in ET.fromstring(answer).findall("Say")] == ["Confirmed. Thank you."]
    clock.advance(seconds=5)
    await world.press(placed, "1")  # pressed again: the first keypress counts
    assert (await row(db))["confirmed_at"] == T0
    acks = await db.fetch("select event_id, user_id, at from acknowledgements")
    assert [tuple(a) for a in acks] == [(world.event_id, world.user_id, T0)]

    await world.ended(placed, "completed")
    assert (await row(db))["state"] == "delivered"
    assert await outcomes(db) == [("sent", None), ("delivered", None)]
    assert await world.receipts("delivered") == 1


async def test_a_call_in_spanish_is_answered_in_spanish(db, world):
    placed = await placed_call(db, world, language="es", body=PALABRAS)
    assert spoken(placed.twiml)[1][0] == (PALABRAS, "es-MX")

    again = ET.fromstring(await world.press(placed, "7"))
    assert [s.text for s in again.findall("Gather/Say")] == [
        "Presione 1 para confirmar que escuchó este mensaje."]
    confirmed = ET.fromstring(await world.press(placed, "1"))
    assert [(s.text, s.get("language")) for s in confirmed.findall("Say")] == [
        ("Confirmado. Gracias.", "es-MX")]


@pytest.mark.parametrize("digits", ["2", "", "11", "*", "#"])
async def test_another_key_asks_again_and_stores_nothing(db, world, digits):
    placed = await placed_call(db, world)

    answer = ET.fromstring(await world.press(placed, digits))

    [gather] = answer.findall("Gather")
    assert gather.get("action") == PUBLIC + TWILIO_KEYPRESS_PATH
    assert [s.text for s in gather.findall("Say")] == ["Press 1 to confirm you heard this."]
    assert (await row(db))["confirmed_at"] is None
    assert await db.fetchval("select count(*) from acknowledgements") == 0


async def test_no_answer_is_called_again_up_to_three_calls_then_failed(db, world, clock):
    """Unconfirmed calls are placed again on the same message, 30 s then 60 s later, three
    calls in all; then it is failed, and no dispatcher calls again."""
    placed = await placed_call(db, world)
    await world.ended(placed, "no-answer")
    r = await row(db)
    assert (r["state"], r["not_before"], r["lease_until"]) == ("queued",
                                                               T0.replace(second=30), None)
    assert await world.dispatch() == 0  # not yet due

    clock.advance(seconds=30)
    assert await world.dispatch() == 1
    second = world.fake.calls[-1]
    assert second.sid != placed.sid and second.to == placed.to
    await world.ended(second, "busy")
    assert (await row(db))["not_before"] == clock.now.replace(second=30, minute=1)

    clock.advance(seconds=60)
    assert await world.dispatch() == 1
    await world.ended(world.fake.calls[-1], "completed")  # answered, nobody pressed 1

    r = await row(db)
    assert (r["state"], r["error_code"]) == ("failed", "unconfirmed")
    assert await outcomes(db) == [("sent", None), ("retry", "no-answer"), ("sent", None),
                                  ("retry", "busy"), ("sent", None), ("failed", "unconfirmed")]
    clock.advance(minutes=10)
    assert await world.dispatch() == 0
    assert len(world.fake.calls) == 3
    assert (await world.receipts("retry"), await world.receipts("failed")) == (2, 1)


async def test_a_number_that_cannot_take_calls_ends_undelivered(db, world, clock):
    placed = await placed_call(db, world)
    for _ in range(2):
        await world.ended(placed, "failed", 13224)
        clock.advance(seconds=60)
        assert await world.dispatch() == 1
        placed = world.fake.calls[-1]
    await world.ended(placed, "failed", 13224)

    assert ((await row(db))["state"], (await outcomes(db))[-1]) == ("failed",
                                                                    ("undelivered", "13224"))
    assert await world.receipts("undelivered") == 1


async def test_a_keypress_after_the_retry_was_queued_stops_the_retry(db, world, clock):
    """The call's end (no keypress seen yet) queues the next call; the keypress, arriving
    after, skips it: no second call is placed."""
    placed = await placed_call(db, world)
    await world.ended(placed, "completed")
    assert (await row(db))["state"] == "queued"

    await world.press(placed, "1")

    r = await row(db)
    assert (r["state"], r["confirmed_at"]) == ("skipped", T0)
    assert await db.fetchval("select count(*) from acknowledgements") == 1
    clock.advance(minutes=5)
    assert await world.dispatch() == 0
    assert len(world.fake.calls) == 1


async def test_the_claim_never_calls_a_confirmed_message(db, world, clock, pool):
    """However a confirmed message came to be queued (a keypress that landed between the
    retry's queueing and its claim), the claim skips it instead of calling."""
    placed = await placed_call(db, world)
    await world.ended(placed, "no-answer")
    await db.execute("update notification_outbox set confirmed_at = $1", T0)  # the race's state

    clock.advance(seconds=30)
    async with pool.acquire() as conn:
        assert (await outbox.claim(conn, clock.now, 10, LEASE, Channel.VOICE)).messages == []
    assert (await row(db))["state"] == "skipped"
    assert len(world.fake.calls) == 1


async def test_repeated_callbacks_change_nothing(db, world, clock):
    """A call's end posted twice queues one retry (its time kept), counted once; a
    confirmed call's end posted twice is delivered once."""
    placed = await placed_call(db, world)
    await world.ended(placed, "no-answer")
    clock.advance(seconds=10)
    await world.ended(placed, "no-answer")
    await world.ended(placed, "completed")
    assert (await row(db))["not_before"] == T0.replace(second=30)
    assert await outcomes(db) == [("sent", None), ("retry", "no-answer")]
    assert await world.receipts("retry") == 1

    clock.advance(seconds=20)
    assert await world.dispatch() == 1
    second = world.fake.calls[-1]
    await world.press(second, "1")
    for _ in range(2):
        await world.ended(second, "completed")
    await world.ended(placed, "busy")  # the first call's end, late: not the message's now
    assert (await row(db))["state"] == "delivered"
    assert (await outcomes(db))[2:] == [("sent", None), ("delivered", None)]
    assert await world.receipts("delivered") == 1


async def test_a_call_to_a_contact_is_confirmed_without_an_acknowledgement(db, world):
    """A contact is no user: the call goes to the row's number, the keypress confirms
    it, and nobody's acknowledgement is recorded."""
    placed = await placed_call(db, world, contact=True)
    assert placed.to == "+15125550199"

    await world.press(placed, "1")
    await world.ended(placed, "completed")

    r = await row(db)
    assert (r["state"], r["confirmed_at"]) == ("delivered", T0)
    assert await db.fetchval("select count(*) from acknowledgements") == 0


async def test_unknown_calls_store_nothing(db, world):
    """A signed callback or keypress for a CallSid that is none of ours (another
    account's, made up, an SMS's) answers 204 or empty TwiML and stores nothing."""
    placed = await placed_call(db, world)
    sms_sid = "SM" + uuid.uuid4().hex
    await db.execute("insert into notification_outbox (event_id, user_id, channel, kind, body, "
                     "not_before, state, provider_id) values ($1, $2, 'sms', 'alert', 'x', $3, "
                     "'sent', $4)", world.event_id, world.user_id, T0, sms_sid)
    for sid in ("CA" + uuid.uuid4().hex, sms_sid):
        stranger = PlacedCall(**{**placed.__dict__, "sid": sid})
        await world.ended(stranger, "no-answer")
        answer = ET.fromstring(await world.press(stranger, "1"))
        assert (answer.tag, list(answer)) == ("Response", [])

    assert await db.fetchval("select count(*) from notification_outbox "
                             "where confirmed_at is not null or state <> 'sent'") == 0
    assert await outcomes(db) == [("sent", None)]
    assert await db.fetchval("select count(*) from acknowledgements") == 0
    assert await world.receipts("retry") is None


@pytest.mark.parametrize("path", [TWILIO_VOICE_PATH, TWILIO_KEYPRESS_PATH])
@pytest.mark.parametrize("tamper", ["none", "signature", "field", "url", "token"])
async def test_unsigned_or_tampered_callbacks_are_403_and_change_nothing(db, world, path,
                                                                        tamper):
    """Only Twilio, signing with our auth token for our public URL, may end or confirm a
    call: Digits are never trusted without that signature."""
    placed = await placed_call(db, world)
    form = (world.fake.keypress_form(placed, "1") if path == TWILIO_KEYPRESS_PATH
            else world.fake.call_status_form(placed, "no-answer"))
    signed_url, token, signed = PUBLIC + path, world.fake.auth_token, form
    if tamper == "url":
        signed_url = "http://attacker.example" + path
    if tamper == "token":
        token = "another-account-token"
    if tamper == "field":  # what was signed is not what is posted
        signed = form | ({"Digits": "9"} if "Digits" in form else {"CallStatus": "ringing"})
    headers = {"X-Twilio-Signature": sign(signed_url, signed, token)}
    if tamper == "none":
        headers = {}
    if tamper == "signature":
        headers["X-Twilio-Signature"] = "bm90LWEtc2lnbmF0dXJl"

    r = await world.client.post(path, data=form, headers=headers)

    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert tuple(await row(db))[:2] == ("sent", placed.sid)
    assert (await row(db))["confirmed_at"] is None
    assert await db.fetchval("select count(*) from acknowledgements") == 0
    assert await outcomes(db) == [("sent", None)]


async def test_a_keypress_and_the_calls_end_together_never_lose_the_keypress(db, world, clock):
    """Posted at once, the keypress and the call's end are taken one after the other:
    the message is delivered (keypress first) or its next call skipped (end first), and
    either way no second call is placed."""
    for _ in range(6):
        placed = await placed_call(db, world)
        await asyncio.gather(world.ended(placed, "completed"), world.press(placed, "1"))

    states = await db.fetch("select state, confirmed_at from notification_outbox")
    assert len(states) == 6
    assert {r["state"] for r in states} <= {"delivered", "skipped"}
    assert all(r["confirmed_at"] == T0 for r in states)
    clock.advance(minutes=5)
    assert await world.dispatch() == 0
    assert len(world.fake.calls) == 6
