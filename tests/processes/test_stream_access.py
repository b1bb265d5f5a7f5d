"""An open stream ends when its reader's access ends, and a person holds a bounded number.

Served for real (uvicorn in the test's loop, with the test clock): Litestar's test
client cannot read a stream that does not end by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

from api.app import create_app
from api.http.auth import issue_access_token
from db import signin
from domain.signin import refresh_token_digest
from domain.streams import MAX_STREAMS_PER_PERSON
from tests import factories
from tests.conftest import SECRET, bearer
from tests.processes import serving
from tests.waiting import eventually

PATIENCE_S = 60  # for what must happen within seconds; generous for a busy machine


@pytest.fixture
async def http(db, database_url, settings, clock) -> AsyncIterator[httpx.AsyncClient]:
    """The app served on a port of its own, and a client of it."""
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                     dispatch=False)
    async with serving(app) as base, httpx.AsyncClient(base_url=base,
                                                      timeout=PATIENCE_S) as client:
        yield client


@pytest.fixture
async def world(db, http, clock) -> dict:
    """A school with a substitute until noon, and the real lockdown its SRO started."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    people = {role: await factories.person(db, d, s, role)
              for role in ("sro", "principal", "teacher")}
    people["substitute"] = await factories.person(db, d, s, "teacher",
                                                  expires_at=clock.now + timedelta(hours=4))
    r = await http.post(f"/v1/schools/{s}/events", json={"action": "lockdown", "drill": False},
                        headers=bearer(people["sro"]))
    assert r.status_code == 201, r.text
    return {"school": s, "event": r.json()["id"], "room": (await factories.rooms(db, s, 1))[0],
            **people}


async def read_message(lines: AsyncIterator[str]) -> dict[str, str] | None:
    """The next SSE message (event, id, data), comments skipped; None once the stream ends."""
    message: dict[str, str] = {}
    async for line in lines:
        if not line:
            if message:
                return message
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            message[field] = value
    return None


async def post_checkin(http: httpx.AsyncClient, world: dict) -> str:
    """A check-in with a note, by the school's SRO (who keeps access); its client_id."""
    client_id = str(uuid.uuid4())
    r = await http.post(f"/v1/events/{world['event']}/checkins", headers=bearer(world["sro"]),
                        json={"client_id": client_id, "room_id": str(world["room"]),
                              "status": "needs_help", "students_present": 20, "injured": 1,
                              "note": "Jaden has an asthma attack"})
    assert r.status_code == 201, r.text
    return client_id


def checkin_ids(messages: list[dict[str, str]]) -> list[str]:
    return [msgspec.json.decode(m["data"])["client_id"] for m in messages
            if m.get("event") == "checkin"]


async def until_checkin(lines: AsyncIterator[str], client_id: str) -> list[dict[str, str]]:
    """Messages up to the check-in `client_id`, or to the end of the stream."""
    seen: list[dict[str, str]] = []
    while (message := await read_message(lines)) is not None:
        seen.append(message)
        if client_id in checkin_ids([message]):
            break
    return seen


async def access_ended(http: httpx.AsyncClient, world: dict, headers: dict[str, str],
                       end_access: Callable[[], Awaitable[object]]) -> tuple[list[dict], str]:
    """A reader's stream: a check-in reaches it; then `end_access()`, a check-in is posted,
    and the stream is read to its end. What came after, and that check-in's id."""
    async with asyncio.timeout(PATIENCE_S), http.stream(
            "GET", f"/v1/events/{world['event']}/stream", headers=headers) as r:
        assert r.status_code == 200
        lines = r.aiter_lines()
        before = await post_checkin(http, world)
        assert before in checkin_ids(await until_checkin(lines, before))
        await end_access()
        late = await post_checkin(http, world)
        after = []
        while (message := await read_message(lines)) is not None:
            after.append(message)
    return after, late


def ended_because(messages: list[dict[str, str]]) -> str:
    assert messages and messages[-1]["event"] == "end", messages
    return msgspec.json.decode(messages[-1]["data"])["reason"]


async def test_a_removed_member_s_stream_ends(http, world):
    """A teacher removed from the staff: the stream ends (`access_ended`) and the check-in
    posted after the removal never reaches them."""
    async def remove() -> None:
        r = await http.delete(f"/v1/schools/{world['school']}/staff/{world['teacher']}",
                              headers=bearer(world["principal"]))
        assert r.status_code == 204, r.text

    after, late = await access_ended(http, world, bearer(world["teacher"]), remove)
    assert ended_because(after) == "access_ended"
    assert late not in checkin_ids(after)


async def test_an_expired_substitute_s_stream_ends(http, world, clock):
    """The substitute's time is up (the clock passes noon): the stream ends, and the
    check-in posted after that, note and all, never reaches them."""
    async def time_passes() -> None:
        clock.advance(hours=4, seconds=1)

    after, late = await access_ended(http, world, bearer(world["substitute"]), time_passes)
    assert ended_because(after) == "access_ended"
    assert late not in checkin_ids(after)


async def test_a_signed_out_session_s_stream_ends(http, world, db, clock):
    """A phone signs out: the stream opened with that session's access token ends
    (`signed_out`) and gets no check-in after the logout."""
    session_id, refresh = uuid.uuid4(), secrets.token_urlsafe(32)
    await signin.open_session(db, session_id, world["principal"], clock.now)
    await signin.insert_refresh_token(db, uuid.uuid4(), world["principal"], session_id,
                                      refresh_token_digest(refresh), clock.now,
                                      clock.now + timedelta(days=30))
    access = issue_access_token(world["principal"], SECRET, datetime.now(UTC), 3600, session_id)

    async def sign_out() -> None:
        r = await http.post("/v1/auth/logout", json={"refresh_token": refresh})
        assert r.status_code == 204, r.text

    after, late = await access_ended(http, world, {"Authorization": f"Bearer {access}"},
                                     sign_out)
    assert ended_because(after) == "signed_out"
    assert late not in checkin_ids(after)


async def test_a_stream_ends_when_its_token_expires(http, world):
    """A token valid for a few seconds: the stream ends (`token_expired`) once it is, and
    every check-in it carried had been posted before then. Check-ins are posted one after
    another, each once the previous one arrived, until the stream ends."""
    issued = datetime.now(UTC)
    token = issue_access_token(world["principal"], SECRET, issued, 4)
    expires = datetime.fromtimestamp(int(issued.timestamp()) + 4, UTC)  # `exp` is in seconds
    posted: dict[str, datetime] = {}
    seen: list[dict[str, str]] = []
    async with asyncio.timeout(PATIENCE_S), http.stream(
            "GET", f"/v1/events/{world['event']}/stream",
            headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status_code == 200
        lines = r.aiter_lines()
        while not seen or seen[-1].get("event") != "end":
            posted_at = datetime.now(UTC)
            client_id = await post_checkin(http, world)
            posted[client_id] = posted_at
            seen += await until_checkin(lines, client_id)
        assert await read_message(lines) is None  # and then the stream is over
    assert ended_because(seen) == "token_expired"
    assert datetime.now(UTC) >= expires
    assert checkin_ids(seen) and all(posted[c] < expires for c in checkin_ids(seen))


async def test_a_person_holds_a_bounded_number_of_streams(http, world):
    """The principal's laptop, phone and tabs: up to the bound they all stream; one more
    is 429 with Retry-After, and once one closes another may open."""
    url = f"/v1/events/{world['event']}/stream"
    headers = bearer(world["principal"])
    async with contextlib.AsyncExitStack() as open_streams:
        for _ in range(MAX_STREAMS_PER_PERSON):
            r = await open_streams.enter_async_context(http.stream("GET", url, headers=headers))
            assert r.status_code == 200
        refused = await http.get(url, headers=headers)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) > 0
        assert str(MAX_STREAMS_PER_PERSON) in refused.json()["detail"]
        other = await open_streams.enter_async_context(  # someone else is not refused
            http.stream("GET", url, headers=bearer(world["sro"])))
        assert other.status_code == 200

    async def let_in_again() -> bool:  # once the closed ones are let go
        async with http.stream("GET", url, headers=headers) as again:
            return again.status_code == 200

    await eventually(let_in_again, timeout=PATIENCE_S)


async def test_a_page_starts_its_stream_after_what_it_shows(http, world):
    """`?after=N` starts after seq N (a page rendered up to it needs no replay, and
    EventSource cannot send Last-Event-ID at first); a reconnection's Last-Event-ID wins."""
    first, second = await post_checkin(http, world), await post_checkin(http, world)
    url, headers = f"/v1/events/{world['event']}/stream", bearer(world["sro"])

    async def first_message(**options) -> dict[str, str]:
        async with asyncio.timeout(PATIENCE_S), http.stream("GET", url, **options) as r:
            assert r.status_code == 200
            message = await read_message(r.aiter_lines())
        assert message is not None
        return message

    shown = await first_message(headers=headers)  # seq 1: the start
    assert (shown["event"], shown["id"]) == ("status", "1")
    # seq 2 the first report, 3 the help it asked for (docs/assists.md), 4 the second
    after_first = await first_message(headers=headers, params={"after": 3})
    assert checkin_ids([after_first]) == [second] and after_first["id"] == "4"
    resumed = await first_message(headers=headers | {"Last-Event-ID": "1"},
                                  params={"after": 3})
    assert checkin_ids([resumed]) == [first] and resumed["id"] == "2"
    r = await http.get(url, headers=headers, params={"after": -1})
    assert r.status_code == 400 and "after" in r.text
