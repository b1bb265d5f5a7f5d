"""Updates and staff reports sent at the same moment as the all-clear, or as each other:
each is taken before the end or refused, never after it, and nothing is half-stored."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from api.settings import Settings
from tests import factories
from tests.asgi import first_answer
from tests.conftest import SECRET, bearer

AT_ONCE = 12


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A connection for every request, so that all of them meet in the database."""
    return Settings(data_dir=str(tmp_path), jwt_secret=SECRET, db_pool_size=AT_ONCE + 1)


def at_once(client, calls: list[tuple[str, object, dict]]) -> list[tuple[int, dict]]:
    """(url, caller, body) posted together; their (status, body)."""
    async def together() -> list[tuple[int, bytes]]:
        return await asyncio.gather(*(
            first_answer(client.app, "POST", url,
                         bearer(who) | {"content-type": "application/json"},
                         json.dumps(body).encode())
            for url, who, body in calls))

    return [(status, json.loads(raw) if raw else {})
            for status, raw in client.blocking_portal.call(together)]


async def test_updates_and_reports_racing_the_all_clear_land_before_it_or_are_409(client, db):
    school = await factories.staffed_school(db, *factories.STAFF)
    event = await factories.start(client, school)
    base = f"/v1/events/{event}"
    calls = [(f"{base}/updates", school["sro"], {"text": f"Update {n}"})
             for n in range(AT_ONCE // 2)]
    calls += [(f"{base}/status", school["teacher"], {"status": "safe", "note": f"n{n}"})
              for n in range(AT_ONCE // 2)]
    calls.insert(AT_ONCE // 3, (f"{base}/all-clear", school["principal"], {}))
    answers = at_once(client, calls)
    assert set(Counter(status for status, _ in answers)) <= {200, 201, 409}, answers
    kinds = [r["kind"] for r in await db.fetch(
        "select kind from event_timeline where event_id = $1::uuid order by seq", event)]
    ended = kinds.index("status")
    assert "update" not in kinds[ended:] and "staff_status" not in kinds[ended:]
    taken = Counter("update" if "text" in body else "staff_status"
                    for status, body in answers if status == 201)
    assert Counter(kinds) - Counter({"started": 1, "status": 1}) == taken
    assert await db.fetchval("select count(*) from event_updates") == taken["update"]
    alerted = await db.fetchval("select count(*) from notification_outbox where kind = 'alert'")
    assert await db.fetchval("select count(*) from notification_outbox where kind = 'update'") \
        == taken["update"] * alerted


async def test_one_persons_reports_at_once_keep_one_newest(client, db):
    school = await factories.staffed_school(db, "teacher", "sro")
    event = await factories.start(client, school)
    answers = at_once(client, [(f"/v1/events/{event}/status", school["teacher"],
                                {"status": status})
                               for status in ("safe", "need_help", "off_site") * 4])
    assert {status for status, _ in answers} == {201}
    assert await db.fetchval("select count(*) from staff_statuses") == 1
    assert await db.fetchval("select count(*) from event_timeline where kind = 'staff_status'") \
        == len(answers)
