"""The outbox dispatcher on a real database: order, leases, reminders, shared work."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import msgspec
import pytest

from db.outbox import OutboxMessage, claim
from db.pool import create_pool
from notifications.dispatcher import Dispatcher
from notifications.senders import ConsoleSender, SendResult
from tests import factories
from tests.conftest import LINKS, T0
from tests.proxy import Proxy
from tests.waiting import eventually


class Recorder:
    """A sender that answers as told and records what it was given."""

    def __init__(self, answer: str = "sent", delay: float = 0.0) -> None:
        self.sent: list[OutboxMessage] = []
        self.answer, self.delay = answer, delay

    async def send(self, message: OutboxMessage) -> SendResult:
        await asyncio.sleep(self.delay)
        self.sent.append(message)
        return SendResult(outcome=self.answer, provider_id=f"p-{message.id}")


@pytest.fixture
async def lockdown(db):
    d = await factories.district(db)
    s = await factories.school(db, d)
    people = [await factories.person(db, d, s, role) for role in ("teacher", "sro", "staff")]
    event_id = uuid.uuid4()
    await db.execute(
        """insert into events (id, school_id, action, drill, status, directive, started_at,
                               started_by)
           values ($1, $2, 'lockdown', false, 'active', 'x', $3, $4)""",
        event_id, s, T0, people[1])
    return {"event": event_id, "people": people}


async def enqueue(db, lockdown, user, *, channel="sms", priority=5, not_before=T0,
                  unless_acknowledged=False) -> int:
    return await db.fetchval(
        """insert into notification_outbox (event_id, user_id, channel, kind, priority, body,
                                            not_before, unless_acknowledged)
           values ($1, $2, $3, 'alert', $4, 'LOCKDOWN: Locks, lights, out of sight.', $5, $6)
           returning id""",
        lockdown["event"], user, channel, priority, not_before, unless_acknowledged)


def dispatcher(pool, database_url, clock, sender, **kw) -> Dispatcher:
    """A dispatcher whose retries wait exactly the backoff (middle jitter)."""
    return Dispatcher(pool, database_url, {"sms": sender, "push": sender}, clock,
                      jitter=lambda: 0.5, links=LINKS, **kw)


async def test_most_urgent_first_and_each_outcome_recorded_once(db, pool, database_url, clock,
                                                                lockdown):
    """A batch goes out highest priority first; each row ends 'sent' with one delivery."""
    teacher, sro, staff = lockdown["people"]
    for user, priority in ((teacher, 4), (sro, 9), (staff, 6)):
        await enqueue(db, lockdown, user, priority=priority)
    sender = Recorder()
    assert await dispatcher(pool, database_url, clock, sender, batch=1).run_once() == 1
    assert [m.user_id for m in sender.sent] == [sro]
    await dispatcher(pool, database_url, clock, sender).run_once()
    assert [m.user_id for m in sender.sent] == [sro, staff, teacher]
    rows = await db.fetch("select state, provider_id, sent_at from notification_outbox")
    assert {(r["state"], r["sent_at"]) for r in rows} == {("sent", T0)}
    assert await db.fetchval("select count(*) from deliveries where outcome = 'sent'") == 3


async def test_a_claim_is_most_urgent_first_whatever_plan_the_database_picks(db, clock,
                                                                           lockdown):
    """The batch is claimed in priority order even when PostgreSQL joins the leased rows
    in table order (a merge join here; a busy suite's statistics or a generic plan can
    make it choose one): an UPDATE returns its rows in whatever order its plan makes."""
    teacher, sro, staff = lockdown["people"]
    for user, priority in ((teacher, 4), (sro, 9), (staff, 6)):
        await enqueue(db, lockdown, user, priority=priority)
    async with db.transaction():
        await db.execute("set local enable_nestloop = off")
        await db.execute("set local enable_hashjoin = off")
        claimed = (await claim(db, clock.now, 10, timedelta(seconds=30))).messages
    assert [m.user_id for m in claimed] == [sro, staff, teacher]


async def test_not_due_yet_waits(db, pool, database_url, clock, lockdown):
    """A message due later is not sent before its time."""
    await enqueue(db, lockdown, lockdown["people"][0], not_before=T0 + timedelta(seconds=60))
    sender = Recorder()
    assert await dispatcher(pool, database_url, clock, sender).run_once() == 0
    clock.advance(seconds=60)
    assert await dispatcher(pool, database_url, clock, sender).run_once() == 1


async def test_reminder_is_dropped_once_acknowledged(db, pool, database_url, clock, lockdown):
    """A drill's SMS reminder is skipped for someone who acknowledged in time."""
    teacher, sro, _ = lockdown["people"]
    due = T0 + timedelta(seconds=60)
    for user in (teacher, sro):
        await enqueue(db, lockdown, user, not_before=due, unless_acknowledged=True)
    await db.execute("insert into acknowledgements (event_id, user_id, at) values ($1, $2, $3)",
                     lockdown["event"], teacher, T0 + timedelta(seconds=20))
    clock.advance(seconds=61)
    sender = Recorder()
    await dispatcher(pool, database_url, clock, sender).run_once()
    assert [m.user_id for m in sender.sent] == [sro]
    states = dict(await db.fetch("select user_id, state from notification_outbox"))
    assert states == {teacher: "skipped", sro: "sent"}


async def test_retry_later_then_expired_lease_is_reclaimed(db, pool, database_url, clock,
                                                         lockdown):
    """A transient failure is retried after a backoff; a row whose dispatcher died is
    claimed again once its lease ran out."""
    await enqueue(db, lockdown, lockdown["people"][0])
    await dispatcher(pool, database_url, clock, Recorder(answer="retry")).run_once()
    assert await db.fetchval("select state from notification_outbox") == "queued"
    clock.advance(seconds=5)
    async with pool.acquire() as conn:  # a dispatcher claims it, then dies
        assert len((await claim(conn, clock.now, 10, timedelta(seconds=30))).messages) == 1
    sender = Recorder()
    assert await dispatcher(pool, database_url, clock, sender).run_once() == 0
    clock.advance(seconds=31)
    assert await dispatcher(pool, database_url, clock, sender).run_once() == 1
    assert await db.fetchval("select attempts from notification_outbox") == 3
    assert [r["outcome"] for r in await db.fetch(
        "select outcome from deliveries order by id")] == ["retry", "sent"]


async def test_two_dispatchers_never_send_the_same_row(db, pool, database_url, clock, lockdown):
    """Two dispatchers working one outbox at once send every message exactly once."""
    for n in range(60):
        await enqueue(db, lockdown, lockdown["people"][n % 3], priority=n % 10)
    one, two = Recorder(delay=0.001), Recorder(delay=0.001)
    await asyncio.gather(*(dispatcher(pool, database_url, clock, s, batch=7).run_once()
                           for s in (one, two) for _ in range(6)))
    ids = [m.id for m in one.sent + two.sent]
    assert len(ids) == len(set(ids)) == 60
    assert one.sent and two.sent


async def test_console_sender_logs_and_records(db, pool, database_url, clock, lockdown, caplog):
    """Without providers, each message is one log line and is recorded as sent; a push to
    someone without a device fails as such."""
    await enqueue(db, lockdown, lockdown["people"][0], channel="sms")
    await enqueue(db, lockdown, lockdown["people"][1], channel="push")
    senders = {"sms": ConsoleSender("sms"), "push": ConsoleSender("push")}
    with caplog.at_level("INFO", logger="muster.notifications"):
        await Dispatcher(pool, database_url, senders, clock, links=LINKS).run_once()
    assert any("SMS to" in r.getMessage() and "LOCKDOWN" in r.getMessage()
               for r in caplog.records)
    states = dict(await db.fetch("select channel, state from notification_outbox"))
    assert states == {"sms": "sent", "push": "failed"}


async def test_deliveries_report_counts_rows_and_acknowledgements(client, db, pool, database_url,
                                                                  clock, lockdown):
    """After dispatch, the deliveries endpoint counts per channel and lists each message
    with its state and the recipient's acknowledgement; teachers may not read it."""
    from tests.conftest import bearer

    teacher, sro, staff = lockdown["people"]
    for user in (teacher, sro, staff):
        await enqueue(db, lockdown, user)
    await enqueue(db, lockdown, teacher, channel="push")
    await dispatcher(pool, database_url, clock, Recorder()).run_once()
    await enqueue(db, lockdown, staff)  # queued, not yet sent
    await db.execute("insert into acknowledgements (event_id, user_id, at) values ($1, $2, $3)",
                     lockdown["event"], sro, T0)
    url = f"/v1/events/{lockdown['event']}/deliveries"
    body = (await client.get(url, params={"limit": 3}, headers=bearer(sro))).json()
    assert body["channels"] == {
        "sms": {"queued": 1, "sent": 3, "delivered": 0, "failed": 0, "acknowledged": 1},
        "push": {"queued": 0, "sent": 1, "delivered": 0, "failed": 0, "acknowledged": 0}}
    rest = (await client.get(url, params={"cursor": body["next_cursor"]},
                             headers=bearer(sro))).json()
    rows = body["items"] + rest["items"]
    assert [(r["channel"], r["state"]) for r in rows] == [
        ("sms", "sent"), ("sms", "sent"), ("sms", "sent"), ("push", "sent"), ("sms", "queued")]
    assert [r["acknowledged_at"] is not None for r in rows] == [False, True, False, False, False]
    assert (await client.get(url, headers=bearer(teacher))).status_code == 403


async def test_dead_push_token_disables_the_device(db, pool, database_url, clock, lockdown):
    """Through the real firebase-admin SDK and a fake FCM: a push reaches the working
    device, and the device whose token FCM calls unregistered is disabled."""
    from notifications.fcm import FcmSender
    from tests.fakes.fcm import FakeFcm

    teacher = lockdown["people"][0]
    await db.executemany("insert into devices (id, user_id, platform, push_token, last_seen_at) "
                         "values ($1, $2, 'android', $3, $4)",
                         [(uuid.uuid4(), teacher, "tok-live", T0),
                          (uuid.uuid4(), teacher, "tok-gone", T0 - timedelta(days=90))])
    await enqueue(db, lockdown, teacher, channel="push")
    with FakeFcm() as fake:
        fake.unregistered.add("tok-gone")
        push = FcmSender(fake.service_account(), fcm_url=fake.fcm_url)
        try:
            senders = {"push": push, "sms": ConsoleSender("sms")}
            assert await Dispatcher(pool, database_url, senders, clock, links=LINKS).run_once() == 1
        finally:
            await push.aclose()
    assert await db.fetchval("select state from notification_outbox") == "sent"
    disabled = dict(await db.fetch("select push_token, disabled_reason from devices"))
    assert disabled == {"tok-live": None, "tok-gone": "push token rejected"}


async def test_hand_off_milestone_is_on_the_timeline_once_per_wave(db, pool, database_url, clock,
                                                                   lockdown):
    """When every due message of the event has been handed to a provider, one 'delivery'
    entry says so; nothing more until a new wave (here an action change) is handed off."""
    teacher, sro, staff = lockdown["people"]
    for user in (teacher, sro, staff):
        await enqueue(db, lockdown, user)
    later = await enqueue(db, lockdown, teacher, not_before=T0 + timedelta(minutes=1))
    await db.execute("update notification_outbox set kind = 'reminder' where id = $1", later)
    run = dispatcher(pool, database_url, clock, Recorder(), batch=2)
    assert await run.run_once() == 2
    assert await db.fetchval("select count(*) from event_timeline") == 0  # one still due
    await run.run_once()
    await run.run_once()

    async def milestones() -> list:
        rows = await db.fetch("select detail::text as d from event_timeline "
                              "where kind = 'delivery' order by seq")
        return [msgspec.json.decode(r["d"]) for r in rows]

    assert await milestones() == [{"milestone": "handed_off", "sent": 3, "failed": 0}]
    await enqueue(db, lockdown, staff)  # the action change's wave
    await run.run_once()
    assert [m["sent"] for m in await milestones()] == [3, 4]


async def test_a_message_that_keeps_failing_is_given_up_as_failed(db, pool, database_url, clock,
                                                                  lockdown):
    """After the last allowed attempt a transient failure is final: failed, not retried."""
    from domain.delivery import MAX_ATTEMPTS

    row = await enqueue(db, lockdown, lockdown["people"][0])
    await db.execute("update notification_outbox set attempts = $2 where id = $1",
                     row, MAX_ATTEMPTS - 1)
    await dispatcher(pool, database_url, clock, Recorder(answer="retry")).run_once()
    assert await db.fetchval("select state from notification_outbox") == "failed"


async def test_a_failed_push_alert_brings_the_sms_reminder_forward(db, pool, database_url,
                                                                    clock, lockdown):
    """A drill push that cannot be delivered makes the person's SMS reminder due at once."""
    teacher = lockdown["people"][0]
    await enqueue(db, lockdown, teacher, channel="push")
    reminder = await db.fetchval(
        """insert into notification_outbox (event_id, user_id, channel, kind, body, not_before,
                                            unless_acknowledged)
           values ($1, $2, 'sms', 'reminder', 'DRILL - HOLD', $3, true) returning id""",
        lockdown["event"], teacher, T0 + timedelta(seconds=60))
    senders = {"push": ConsoleSender("push"), "sms": Recorder()}  # no device: push fails
    run = Dispatcher(pool, database_url, senders, clock, links=LINKS)
    assert await run.run_once() == 1
    assert await run.run_once() == 1  # the reminder, without waiting 60 s
    assert [m.id for m in senders["sms"].sent] == [reminder]


async def test_a_dispatcher_that_dies_mid_send_loses_nothing(db, pool, database_url, clock,
                                                             lockdown):
    """A dispatcher killed while its provider call hangs leaves the message leased; after
    the lease another dispatcher sends it, and its outcome is recorded exactly once."""
    await enqueue(db, lockdown, lockdown["people"][0])
    stuck = asyncio.create_task(
        dispatcher(pool, database_url, clock, Recorder(delay=3600)).run_once())

    async def leased() -> bool:
        return await db.fetchval("select state from notification_outbox") == "sending"

    await eventually(leased)
    stuck.cancel()
    await asyncio.wait([stuck])
    assert await db.fetchval("select state from notification_outbox") == "sending"
    sender = Recorder()
    assert await dispatcher(pool, database_url, clock, sender).run_once() == 0  # still leased
    clock.advance(seconds=31)
    assert await dispatcher(pool, database_url, clock, sender).run_once() == 1
    assert await db.fetchval("select state from notification_outbox") == "sent"
    assert await db.fetchval("select count(*) from deliveries") == 1


class Restart:
    """A provider that accepts the message while the database goes away (the proxy
    to it refuses every connection and cuts the open ones)."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy, self.sent = proxy, []

    async def send(self, message: OutboxMessage) -> SendResult:
        self.proxy.refusing = True
        self.proxy.cut()
        self.sent.append(message)
        return SendResult(outcome="sent", provider_id=f"p-{message.id}")


async def test_an_outcome_is_written_however_long_the_database_is_away(db, database_url,
                                                                       clock, lockdown):
    """A message handed off while the database is down for longer than its lease has its
    outcome written once the database is back, and is not sent again by the dispatcher
    that knows it went out (a busy machine can take that long to restart PostgreSQL)."""
    await enqueue(db, lockdown, lockdown["people"][0])
    proxy = Proxy(database_url)
    async with proxy as dsn:
        pool = await create_pool(dsn, max_size=2)
        try:
            provider = Restart(proxy)
            run = Dispatcher(pool, dsn, {"sms": provider, "push": provider}, clock, links=LINKS,
                             lease=timedelta(seconds=1))  # gone for longer than the lease
            passing = asyncio.create_task(run.run_once())
            # the outcome was tried well past the lease (backoff 0.1, 0.2, 0.4... s)
            await eventually(lambda: passing.done() or proxy.refused >= 6)
            proxy.refusing = False  # PostgreSQL is back
            assert await passing == 1
            clock.advance(seconds=2)
            assert await run.run_once() == 0
        finally:
            pool.terminate()
    assert len(provider.sent) == 1
    assert await db.fetchval("select state from notification_outbox") == "sent"
    assert await db.fetchval("select count(*) from deliveries") == 1


@pytest.mark.parametrize(("rate", "batch"), [(10, 100), (1, 15), (0.01, 1)])
def test_batch_stays_within_what_sms_can_hand_off_in_half_a_lease(rate, batch):
    """At 1 SMS/s a dispatcher claims 15 messages per 30 s lease, never more than 100;
    calls, at their own rate, likewise."""
    from notifications.dispatcher import LEASE
    from notifications.providers import PUSHES_AT_ONCE, Providers

    assert Providers(sms_rate_per_s=rate).batches(LEASE) == {
        "push": PUSHES_AT_ONCE, "sms": batch, "voice": 15}
    assert Providers(voice_rate_per_s=rate).batches(LEASE)["voice"] == batch


async def test_alerts_of_an_ended_event_are_not_sent_late(db, pool, database_url, clock,
                                                           lockdown):
    """When a backlog outlives its event, the unsent LOCKDOWN alerts are skipped and only
    the all-clear goes out."""
    teacher, sro, _ = lockdown["people"]
    await enqueue(db, lockdown, teacher)
    await db.execute("update events set status = 'all_clear', ended_at = $2, ended_by = $3 "
                     "where id = $1", lockdown["event"], T0, sro)
    ending = await db.fetchval(
        """insert into notification_outbox (event_id, user_id, channel, kind, body)
           values ($1, $2, 'sms', 'all_clear', 'ALL CLEAR') returning id""",
        lockdown["event"], teacher)
    await db.execute("update notification_outbox set not_before = $1", T0)
    sender = Recorder()
    await dispatcher(pool, database_url, clock, sender).run_once()
    assert [m.id for m in sender.sent] == [ending]
    assert await db.fetchval("select count(*) from notification_outbox where state = 'skipped'") \
        == 1


async def test_push_lane_does_not_wait_for_a_slow_sms_lane(db, pool, database_url, clock,
                                                           lockdown):
    """With the SMS provider stuck, the running dispatcher's push lane still sends and
    records, and goes on to the next push."""
    teacher, sro, staff = lockdown["people"]
    await enqueue(db, lockdown, teacher, channel="sms", priority=9)
    await enqueue(db, lockdown, sro, channel="push", priority=1)
    push, sms = Recorder(), Recorder(delay=3600)

    async def push_states() -> list[str]:
        return [r["state"] for r in await db.fetch(
            "select state from notification_outbox where channel = 'push' order by id")]

    async def push_states_are(states: list[str]) -> bool:
        return await push_states() == states

    async with Dispatcher(pool, database_url, {"push": push, "sms": sms}, clock, poll_s=0.05,
                          links=LINKS):
        await eventually(lambda: push_states_are(["sent"]))
        await enqueue(db, lockdown, staff, channel="push")
        await eventually(lambda: push_states_are(["sent", "sent"]))
    assert await push_states() == ["sent", "sent"]
    assert sms.sent == []


class Gate:
    """A sender whose sends wait until let through: those of `held` messages (all, if
    None) until `release` is set; it records when each send started and ended."""

    def __init__(self, held: set[int] | None = None) -> None:
        self.held, self.release = held, asyncio.Event()
        self.started: list[OutboxMessage] = []
        self.sent: list[OutboxMessage] = []

    async def send(self, message: OutboxMessage) -> SendResult:
        self.started.append(message)
        if self.held is None or message.id in self.held:
            await self.release.wait()
        self.sent.append(message)
        return SendResult(outcome="sent", provider_id=f"p-{message.id}")


async def states(db) -> dict[int, str]:
    return dict(await db.fetch("select id, state from notification_outbox"))


async def test_a_lane_goes_on_past_a_message_whose_send_hangs(db, pool, database_url, clock,
                                                              lockdown):
    """No batch waits for its slowest send: with a lane holding 4 at once and the first
    message's provider call hanging, the 11 others are claimed, sent and recorded while
    it hangs; it stays leased."""
    teacher, sro, _ = lockdown["people"]
    stuck = await enqueue(db, lockdown, sro, channel="push", priority=9)
    for _ in range(11):
        await enqueue(db, lockdown, teacher, channel="push")
    push = Gate(held={stuck})

    async def all_but_one_sent() -> bool:
        return sorted((await states(db)).values()) == ["sending"] + ["sent"] * 11

    async with Dispatcher(pool, database_url, {"push": push}, clock, batch=4, poll_s=3600,
                          links=LINKS):
        await eventually(all_but_one_sent)
        assert (await states(db))[stuck] == "sending"
        assert await db.fetchval("select count(*) from deliveries") == 11
    assert push.started[0].id == stuck


async def test_leads_go_first_through_a_running_lane(db, pool, database_url, clock, lockdown):
    """However the lane's room frees up, each claim takes the most urgent due: the SRO's
    messages (priority 9), written last, start before every teacher's."""
    teacher, sro, _ = lockdown["people"]
    for _ in range(6):
        await enqueue(db, lockdown, teacher, channel="push", priority=8)
    leads = {await enqueue(db, lockdown, sro, channel="push", priority=9) for _ in range(3)}
    push = Recorder()

    async def all_sent() -> bool:
        return set((await states(db)).values()) == {"sent"}

    async with Dispatcher(pool, database_url, {"push": push}, clock, batch=2, poll_s=3600,
                          links=LINKS):
        await eventually(all_sent)
    assert {m.id for m in push.sent[:3]} == leads


async def test_a_claim_that_meets_only_skipped_rows_claims_on(db, pool, database_url, clock,
                                                              lockdown):
    """A claim skips (and marks skipped) the acknowledged reminders it meets instead of
    sending them; the lane claims again at once, so the message behind them goes without
    waiting for the poll."""
    teacher, sro, _ = lockdown["people"]
    for _ in range(8):
        await enqueue(db, lockdown, teacher, priority=6, unless_acknowledged=True)
    behind = await enqueue(db, lockdown, sro, priority=4)
    await db.execute("insert into acknowledgements (event_id, user_id, at) values ($1, $2, $3)",
                     lockdown["event"], teacher, T0)
    sms = Recorder()

    async def settled() -> dict[int, str]:
        found = await states(db)
        return found if "queued" not in found.values() else {}

    async with Dispatcher(pool, database_url, {"sms": sms}, clock, batch=4, poll_s=3600,
                          links=LINKS):
        found = await eventually(settled)
    assert [m.id for m in sms.sent] == [behind]
    assert sorted(found.values()) == ["sent"] + ["skipped"] * 8


async def test_each_outcome_is_written_once_when_a_lease_runs_out_mid_send(
        db, pool, database_url, clock, lockdown):
    """A dispatcher's sends hang past their lease; a second dispatcher claims the messages
    again and records them; when the first one's sends return, their outcomes change
    nothing: every message is sent, with one delivery each."""
    for n in range(20):
        await enqueue(db, lockdown, lockdown["people"][n % 3], priority=n % 10)
    slow, quick = Gate(), Recorder()
    first = asyncio.create_task(dispatcher(pool, database_url, clock, slow).run_once())

    async def all_leased() -> bool:
        return set((await states(db)).values()) == {"sending"} and len(slow.started) == 20

    await eventually(all_leased)
    clock.advance(seconds=31)
    assert await dispatcher(pool, database_url, clock, quick).run_once() == 20
    slow.release.set()
    assert await first == 20
    assert set((await states(db)).values()) == {"sent"}
    assert await db.fetchval("select count(*) from deliveries") == 20
    assert await db.fetchval("select count(distinct outbox_id) from deliveries") == 20
    assert await db.fetchval("select count(*) from notification_outbox "
                             "where provider_id like 'p-%' and attempts = 2") == 20


class SameReceipt(Gate):
    """Answers every message with one provider id (a provider's bug): the database takes
    only one of them (provider ids are unique)."""

    async def send(self, message: OutboxMessage) -> SendResult:
        await super().send(message)
        return SendResult(outcome="sent", provider_id="p-same")


async def test_an_outcome_that_cannot_be_written_holds_back_no_other(db, pool, database_url,
                                                                     clock, lockdown, caplog):
    """Outcomes written together that the database refuses (two messages with one
    provider id) are written one at a time: one is recorded, and the other stays leased
    (sent again after its lease) without holding back a third message's outcome."""
    teacher, sro, staff = lockdown["people"]
    for user in (teacher, sro):
        await enqueue(db, lockdown, user, channel="push")
    other = await enqueue(db, lockdown, staff)
    push, sms = SameReceipt(), Gate()

    async def three_sent() -> bool:
        return len(push.started) + len(sms.started) == 3

    async def settled() -> list[str]:
        found = sorted((await states(db)).values())
        return found if found.count("sent") == 2 else []

    async with Dispatcher(pool, database_url, {"push": push, "sms": sms}, clock, poll_s=3600,
                          links=LINKS):
        await eventually(three_sent)
        push.release.set()
        sms.release.set()
        assert await eventually(settled) == ["sending", "sent", "sent"]
    assert (await states(db))[other] == "sent"
    assert await db.fetchval("select count(*) from deliveries") == 2
    assert any("recording outbox message" in r.getMessage() for r in caplog.records)
