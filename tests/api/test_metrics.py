"""GET /metrics: request latency by route template, the outbox's depth and lag read from
the database, delivery outcomes counted by the dispatcher, the optional token."""

from __future__ import annotations

import uuid

import httpx
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import Settings
from db.pool import create_pool
from notifications.dispatcher import Dispatcher
from notifications.senders import ConsoleSender
from tests import factories
from tests.conftest import LINKS, SECRET, bearer
from tests.metrics_samples import scrape, value
from tests.processes import serving
from tests.waiting import eventually


@pytest.fixture
async def lockdown(db, client):
    """A school of four people, two with a phone registered for push, and the real
    lockdown its SRO started over the API."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    people = {role: await factories.person(db, d, s, role)
              for role in ("teacher", "staff", "sro", "principal")}
    for role in ("teacher", "principal"):
        r = await client.post("/v1/me/devices", headers=bearer(people[role]),
                              json={"platform": "android", "push_token": f"token-{role}"})
        assert r.status_code == 201, r.text
        people[f"{role}_device"] = r.json()["id"]
    r = await client.post(f"/v1/schools/{s}/events", json={"action": "lockdown", "drill": False},
                          headers=bearer(people["sro"]))
    assert r.status_code == 201, r.text
    return {"event": r.json()["id"], "school": s, **people}


async def test_latency_is_by_method_route_template_and_status(client, lockdown):
    """Each request is observed under its route template, never its raw path: no id
    becomes a label. An unknown path counts as `unmatched`."""
    event = lockdown["event"]
    for _ in range(2):
        assert (await client.get(f"/v1/events/{event}", headers=bearer(lockdown["sro"]))
                ).status_code == 200
    assert (await client.get(f"/v1/events/{event}")).status_code == 401
    assert (await client.get(f"/v1/events/{uuid.uuid4()}/nowhere")).status_code == 404
    samples = await scrape(client)
    name = "muster_http_request_duration_seconds_count"
    route = "/v1/events/{event_id}"
    assert value(samples, name, method="GET", route=route, status="200") == 2
    assert value(samples, name, method="GET", route=route, status="401") == 1
    assert value(samples, name, method="GET", route="unmatched", status="404") == 1
    assert value(samples, name, method="POST", route="/v1/schools/{school_id}/events",
                 status="201") == 1
    assert not [key for key in samples if any(event in v or str(lockdown["school"]) in v
                                              for _, v in key[1])]


async def test_outbox_depth_and_lag_after_an_event_is_started(client, db, lockdown, clock):
    """The lockdown's queued messages show per channel as due, its repeat calls (a minute
    away at the soonest) as scheduled; 30 s later, with no dispatcher running, the oldest
    due message is 30 s late."""
    queued = dict(await db.fetch("select channel, count(*) from notification_outbox "
                                 "where state = 'queued' and kind <> 'repeat' group by channel"))
    assert set(queued) == {"push", "sms"}
    calls = await db.fetchval("select count(*) from notification_outbox where kind = 'repeat' "
                              "and channel = 'voice'")
    clock.advance(seconds=30)
    samples = await scrape(client)
    for channel, count in queued.items():
        assert value(samples, "muster_outbox_messages", channel=channel, state="due") == count
        assert value(samples, "muster_outbox_messages", channel=channel, state="scheduled") == 0
        assert value(samples, "muster_dispatcher_lag_seconds", channel=channel) == 30
    assert calls and value(samples, "muster_outbox_messages", channel="voice",
                           state="scheduled") == calls


async def test_delivery_outcomes_are_counted_by_channel_and_reason(client, pool, database_url,
                                                                   clock, lockdown):
    """After a dispatcher pass reporting to the app's metrics, each outcome is counted by
    channel and reason: four SMS and one push sent, one push failed for `no-device` (the
    principal removed the phone after the alert was queued); nothing is left or late."""
    r = await client.delete(f"/v1/me/devices/{lockdown['principal_device']}",
                            headers=bearer(lockdown["principal"]))
    assert r.status_code == 204
    dispatcher = Dispatcher(pool, database_url, {ch: ConsoleSender(ch) for ch in ("push", "sms")},
                            clock, on_outcome=client.app.state.metrics.count_delivery, links=LINKS)
    assert await dispatcher.run_once() == 6
    samples = await scrape(client)
    deliveries = "muster_deliveries_total"
    assert value(samples, deliveries, channel="sms", outcome="sent", reason="") == 4
    assert value(samples, deliveries, channel="push", outcome="sent", reason="") == 1
    assert value(samples, deliveries, channel="push", outcome="failed", reason="no-device") == 1
    for channel in ("push", "sms"):
        assert value(samples, "muster_outbox_messages", channel=channel, state="due") == 0
        assert value(samples, "muster_dispatcher_lag_seconds", channel=channel) == 0


async def test_metrics_answer_without_the_database(client, database_url):
    """With the database unreachable, /metrics still answers, without outbox figures
    (rather than stale ones)."""
    closed = await create_pool(database_url, max_size=2)
    await closed.close()
    working, client.app.state.pool = client.app.state.pool, closed
    try:
        samples = await scrape(client)
    finally:
        client.app.state.pool = working
    assert not [key for key in samples if key[0].startswith("muster_outbox")]
    assert any(name == "process_resident_memory_bytes" for name, _ in samples)


@pytest.fixture
async def guarded(db, database_url, tmp_path, clock):
    """The app with MUSTER_METRICS_TOKEN set."""
    settings = Settings(data_dir=str(tmp_path), jwt_secret=SECRET,
                        metrics_token="scrape-" + "t" * 20)
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                     dispatch=False)
    async with AsyncTestClient(app) as client:
        yield client


async def test_with_a_metrics_token_only_its_bearer_scrapes(guarded):
    """MUSTER_METRICS_TOKEN set: no token, another token or a user's access token is 401;
    the token itself gets the metrics."""
    for headers in ({}, {"Authorization": "Bearer scrape-" + "x" * 20},
                    bearer(uuid.uuid4())):
        r = await guarded.get("/metrics", headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert r.headers["content-type"] == "application/problem+json"
    samples = await scrape(guarded, Authorization="Bearer scrape-" + "t" * 20)
    assert value(samples, "muster_outbox_messages", channel="sms", state="due") == 0


async def test_open_timeline_streams_are_counted(db, database_url, settings, clock, lockdown):
    """A dashboard holding the event's stream open counts as one SSE client; when it
    goes, the count drops back (served for real: a stream never ends by itself)."""
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                     dispatch=False)

    async def clients(http: httpx.AsyncClient) -> float:
        return value(await scrape(http), "muster_sse_clients")

    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        assert await clients(http) == 0
        stream = f"/v1/events/{lockdown['event']}/stream"
        async with http.stream("GET", stream, headers=bearer(lockdown["sro"])) as r:
            assert r.status_code == 200
            # the first entry: the stream is open. Keep the iterator: a dropped one is
            # finalized, which closes the response and so the stream.
            lines = r.aiter_lines()
            await anext(lines)
            assert await clients(http) == 1

        async def no_clients() -> bool:  # once the server noticed the closed connection
            return await clients(http) == 0

        await eventually(no_clients)
        assert await clients(http) == 0
