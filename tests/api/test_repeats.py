"""A real alert repeated until acknowledged: the rounds on their channels at their times,
and nobody alerted again once they have acknowledged, the action changed or the event ended."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from api.settings import Settings
from db.outbox import OutboxMessage
from notifications.dispatcher import Dispatcher
from notifications.senders import SendResult
from tests import factories
from tests.conftest import LINKS, SECRET, T0, app_for, bearer

MINUTE, TWO = timedelta(seconds=60), timedelta(seconds=120)


class Recorder:
    """A sender of any channel that records what it was given, and when."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, str, uuid.UUID | None]] = []

    async def send(self, message: OutboxMessage) -> SendResult:
        self.sent.append((self.clock(), message.channel, message.user_id))
        return SendResult(outcome="sent", provider_id=f"p-{message.id}")


@pytest.fixture
async def world(db, client):
    """A school: its SRO (a phone, no app), a teacher (a phone and the app), a staff member
    (a phone), a room; and a real lockdown the SRO started at T0."""
    school = await factories.staffed_school(db, "sro", "teacher", "staff", room_count=1)
    await db.execute("insert into devices (id, user_id, platform, push_token) "
                     "values ($1, $2, 'android', 'tok-teacher')", uuid.uuid4(), school["teacher"])
    return school | {"event": await factories.start(client, school)}


def dispatching(pool, database_url, clock) -> tuple[Dispatcher, Recorder]:
    recorder = Recorder(clock)
    senders = dict.fromkeys(("push", "sms", "voice"), recorder)
    return Dispatcher(pool, database_url, senders, clock, links=LINKS), recorder


async def dispatch_at(dispatcher: Dispatcher, clock, at: timedelta) -> None:
    """Move the clock to T0 + `at` and send whatever is due."""
    clock.now = T0 + at
    while await dispatcher.run_once():
        pass


async def queued(db, event_id: str, kind: str = "repeat") -> set[tuple]:
    rows = await db.fetch("select user_id, channel, not_before, state, unless_acknowledged "
                          "from notification_outbox where event_id = $1 and kind = $2",
                          uuid.UUID(event_id), kind)
    return {tuple(r) for r in rows}


async def test_the_rounds_go_on_the_next_channel_one_window_apart(world, db, pool, database_url,
                                                                   clock, client):
    """Push and SMS at once; a call one window later (60 s for the SRO, 120 s for the
    others), another two windows later; each round a row of the deliveries report."""
    sro, teacher, staff = world["sro"], world["teacher"], world["staff"]
    assert await queued(db, world["event"]) == {
        (who, "voice", T0 + n * window, "queued", True)
        for who, window in ((sro, MINUTE), (teacher, TWO), (staff, TWO)) for n in (1, 2)}
    dispatcher, recorder = dispatching(pool, database_url, clock)
    for at in (0, 59, 60, 119, 120, 240, 600):
        await dispatch_at(dispatcher, clock, timedelta(seconds=at))
    assert sorted(recorder.sent, key=lambda s: (s[0], s[1], str(s[2]))) == sorted([
        (T0, "sms", sro), (T0, "sms", teacher), (T0, "push", teacher), (T0, "sms", staff),
        (T0 + MINUTE, "voice", sro),
        (T0 + TWO, "voice", sro), (T0 + TWO, "voice", teacher), (T0 + TWO, "voice", staff),
        (T0 + 2 * TWO, "voice", teacher), (T0 + 2 * TWO, "voice", staff),
    ], key=lambda s: (s[0], s[1], str(s[2])))
    r = await client.get(f"/v1/events/{world['event']}/deliveries", headers=bearer(sro))
    assert r.json()["channels"]["voice"]["sent"] == 6
    assert {(i["kind"], i["channel"]) for i in r.json()["items"]} >= {("repeat", "voice")}


async def test_a_drill_keeps_its_reminder_and_is_not_repeated(db, client):
    school = await factories.staffed_school(db, "sro", "teacher")
    event_id = await factories.start(client, school, drill=True)
    kinds = await db.fetch("select distinct kind from notification_outbox where event_id = $1",
                           uuid.UUID(event_id))
    assert {k["kind"] for k in kinds} == {"alert"}  # no app: SMS at once, no reminder due
    assert await queued(db, event_id) == set()


async def _ack(client, world) -> None:
    r = await client.post(f"/v1/events/{world['event']}/ack", headers=bearer(world["teacher"]))
    assert r.status_code == 204, r.text


async def _link_ack(client, world) -> None:
    token = LINKS.token(uuid.UUID(world["event"]), world["teacher"])
    r = await client.post(f"/v1/links/{token}/ack")
    assert r.status_code == 204, r.text


async def _checkin(client, world) -> None:
    r = await client.post(f"/v1/events/{world['event']}/checkins",
                          json={"client_id": str(uuid.uuid4()), "room_id": str(world["rooms"][0]),
                                "status": "ok", "students_present": 22},
                          headers=bearer(world["teacher"]))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("acknowledge", [_ack, _link_ack, _checkin])
async def test_someone_who_acknowledged_is_not_alerted_again(world, db, pool, database_url,
                                                             clock, client, acknowledge):
    """By the app's ack, the link page's, or a room report of theirs: no more rounds for
    them, while those who have not acknowledged go on being called."""
    dispatcher, recorder = dispatching(pool, database_url, clock)
    await dispatch_at(dispatcher, clock, timedelta(0))
    clock.now = T0 + timedelta(seconds=30)
    await acknowledge(client, world)
    for at in (120, 240):
        await dispatch_at(dispatcher, clock, timedelta(seconds=at))
    called = [who for _, channel, who in recorder.sent if channel == "voice"]
    assert world["teacher"] not in called
    assert called.count(world["staff"]) == 2 and called.count(world["sro"]) == 2
    states = await db.fetch("select state from notification_outbox where kind = 'repeat' "
                            "and user_id = $1", world["teacher"])
    assert [s["state"] for s in states] == ["skipped", "skipped"]


async def test_a_confirmed_call_is_an_acknowledgement(world, db, pool, database_url, clock):
    """The SRO pressed 1 on the first call (its row is confirmed): no second call."""
    dispatcher, recorder = dispatching(pool, database_url, clock)
    await dispatch_at(dispatcher, clock, MINUTE)
    await db.execute("update notification_outbox set confirmed_at = $2 "
                     "where user_id = $1 and channel = 'voice' and state = 'sent'",
                     world["sro"], T0 + timedelta(seconds=70))
    await dispatch_at(dispatcher, clock, TWO)
    assert [t for t, channel, who in recorder.sent
            if channel == "voice" and who == world["sro"]] == [T0 + MINUTE]
    assert await db.fetchval("select count(*) from acknowledgements") == 0  # only the call


async def test_an_action_change_replans_the_repeats(world, db, client, clock):
    """The rounds still queued would say LOCKDOWN: they are skipped, and the change plans
    its own from its time, saying HOLD."""
    clock.now = T0 + timedelta(seconds=30)
    r = await client.post(f"/v1/events/{world['event']}/actions", json={"action": "hold"},
                          headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    rows = await db.fetch("select state, not_before, body from notification_outbox "
                          "where kind = 'repeat' and user_id = $1 order by id", world["sro"])
    assert [(r["state"], r["not_before"] - T0, "HOLD:" in r["body"]) for r in rows] == [
        ("skipped", MINUTE, False), ("skipped", TWO, False),
        ("queued", timedelta(seconds=90), True), ("queued", timedelta(seconds=150), True)]


async def test_the_end_of_the_event_skips_the_repeats(world, db, pool, database_url, clock,
                                                      client):
    """After the all-clear, nobody is called about the lockdown, nor about its end."""
    dispatcher, recorder = dispatching(pool, database_url, clock)
    await dispatch_at(dispatcher, clock, timedelta(0))
    clock.now = T0 + timedelta(seconds=30)
    r = await client.post(f"/v1/events/{world['event']}/all-clear", json={},
                          headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    await dispatch_at(dispatcher, clock, timedelta(minutes=10))
    assert "voice" not in {channel for _, channel, _ in recorder.sent}
    assert {s for *_, s, _ in await queued(db, world["event"])} == {"skipped"}
    assert await queued(db, world["event"], "all_clear") != set()


async def test_the_windows_are_the_operators(db, database_url, tmp_path, clock):
    """MUSTER_REPEAT_AFTER_LEADS and MUSTER_REPEAT_AFTER_OTHERS time the rounds."""
    settings = Settings(data_dir=str(tmp_path), jwt_secret=SECRET, repeat_after_leads=30,
                        repeat_after_others=90)
    school = await factories.staffed_school(db, "sro", "teacher")
    async with AsyncTestClient(app_for(settings, database_url, clock)) as client:
        event_id = await factories.start(client, school)
    times = {(who, not_before - T0) for who, _, not_before, *_ in await queued(db, event_id)}
    seconds = timedelta(seconds=1)
    assert times == {(school["sro"], 30 * seconds), (school["sro"], 60 * seconds),
                     (school["teacher"], 90 * seconds), (school["teacher"], 180 * seconds)}

