"""The bad-input matrix of the drill record endpoints: every refusal is a problem that
names its cause, and no refused request stores (or computes and keeps) anything."""

from __future__ import annotations

import uuid

import pytest

from tests import factories
from tests.api.test_bad_input import NUL, assert_problem
from tests.conftest import bearer

REPORT = "/v1/events/{event}/report"
PAGE = "/v1/events/{event}/report.html"
AFTER_ACTION = "/v1/events/{event}/after-action"
ENDPOINTS = [pytest.param("GET", REPORT, None, id="report"),
             pytest.param("GET", PAGE, None, id="page"),
             pytest.param("PUT", AFTER_ACTION, {"during": "lunch"}, id="after-action")]
TABLES = ("event_reports", "after_action_revisions")


@pytest.fixture
async def w(db, client, clock):
    """A school's drill that has ended and whose kept record was then removed, so that a
    request wrongly let through would compute and store it again; an outsider's school."""
    d, other_d = await factories.district(db), await factories.district(db, "Other ISD")
    s = await factories.school(db, d)
    people = {role: await factories.person(db, d, s, role)
              for role in ("teacher", "staff", "principal")}
    people["outsider"] = await factories.person(
        db, other_d, await factories.school(db, other_d, "Other High"), "principal")
    await factories.rooms(db, s, 2)
    r = await client.post(f"/v1/schools/{s}/events", json={"action": "hold", "drill": True},
                          headers=bearer(people["principal"]))
    event = r.json()["id"]
    clock.advance(minutes=4)
    await client.post(f"/v1/events/{event}/all-clear", json={},
                      headers=bearer(people["principal"]))
    await db.execute("delete from event_reports")
    return {**people, "event": event, "school": str(s)}


async def snapshot(db) -> dict[str, int]:
    return {t: await db.fetchval(f"select count(*) from {t}") for t in TABLES}


async def send(client, db, w, method, path, body=None, *, who="principal", event=None,
               **kw):
    """Send one request and assert that it stored nothing."""
    before = await snapshot(db)
    r = await client.request(method, path.format(event=event or w["event"]), json=body,
                             headers=bearer(w[who]) if who else {}, **kw)
    assert await snapshot(db) == before, f"answered {r.status_code}, yet stored: {r.text}"
    return r


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
async def test_an_unknown_event_is_404(client, db, w, method, path, body):
    """An event id that does not exist is a 404 naming it."""
    ghost = str(uuid.uuid4())
    p = assert_problem(await send(client, db, w, method, path, body, event=ghost), 404)
    assert ghost in p["detail"]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
async def test_another_tenants_event_is_the_same_404(client, db, w, method, path, body):
    """Another district's principal gets exactly the 404 of a missing event, and nothing of
    the school."""
    theirs = await send(client, db, w, method, path, body, who="outsider")
    p = assert_problem(theirs, 404)
    ghost = str(uuid.uuid4())
    nothing = assert_problem(await send(client, db, w, method, path, body, who="outsider",
                                        event=ghost), 404)
    assert p["detail"].replace(w["event"], "ID") == nothing["detail"].replace(ghost, "ID")
    assert w["school"] not in theirs.text and "Test High" not in theirs.text


@pytest.mark.parametrize("who", ["teacher", "staff"])
@pytest.mark.parametrize("method, path, body, doing", [
    ("GET", REPORT, None, "see drill reports"),
    ("GET", PAGE, None, "see drill reports"),
    ("PUT", AFTER_ACTION, {"during": "lunch"}, "edit after-action notes"),
])
async def test_teachers_and_staff_are_403(client, db, w, who, method, path, body, doing):
    """Reports and after-action notes are for safety leads; the refusal says so."""
    p = assert_problem(await send(client, db, w, method, path, body, who=who), 403)
    assert who in p["detail"] and doing in p["detail"], p["detail"]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
async def test_without_a_token_is_401(client, db, w, method, path, body):
    """No token, no record."""
    assert_problem(await send(client, db, w, method, path, body, who=None), 401)


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
async def test_a_non_uuid_event_id_is_404(client, db, w, method, path, body):
    """A path id that is not a UUID names no event."""
    assert_problem(await send(client, db, w, method, path, body, event="abc"), 404)


@pytest.mark.parametrize("fmt", ["pdf", "CSV", "", "json,csv"])
async def test_an_unknown_format_is_400_naming_it(client, db, w, fmt):
    """?format= takes json or csv only."""
    assert_problem(await send(client, db, w, "GET", REPORT, params={"format": fmt}), 400,
                   "format")


OBSERVER = {"name": "Maria Ruiz", "agency": "Fire Dept", "role": "Marshal",
            "certification": "TCFP 4471"}
BAD_NOTES = [
    ({"during": "recess"}, "during"),
    ({"during": 1}, "during"),
    ({"scheduled_at": "tomorrow"}, "scheduled_at"),
    ({"scheduled_at": "2026-11-29T07:55:00"}, "scheduled_at"),
    ({"scheduled_at": "0001-01-01T00:00:00+01:00"}, "scheduled_at"),
    ({"participants": {"students": -1}}, "participants.students"),
    ({"participants": {"staff": 100001}}, "participants.staff"),
    ({"participants": {"visitors": "3"}}, "participants.visitors"),
    ({"participants": {"teachers": 3}}, "participants.teachers"),
    ({"observers": [OBSERVER | {"badge": 7}]}, "observers[0].badge"),
    ({"observers": [{"agency": "Fire Dept"}]}, "observers[0].name"),
    ({"observers": [OBSERVER | {"name": "   "}]}, "observers[0].name"),
    ({"observers": [OBSERVER | {"name": "x" * 201}]}, "observers[0].name"),
    ({"observers": [OBSERVER | {"certification": "x" * 201}]}, "observers[0].certification"),
    ({"observers": [OBSERVER | {"agency": NUL}]}, "observers[0].agency"),
    ({"observers": [OBSERVER] * 21}, "observers"),
    ({"observers": OBSERVER}, "observers"),
    ({"problems": [{"kind": "fire"}]}, "problems[0].kind"),
    ({"problems": [{"kind": "other"}]}, "problems[0].detail"),
    ({"problems": [{"kind": "door_would_not_lock", "detail": "x" * 1001}]},
     "problems[0].detail"),
    ({"problems": ["alarm_not_heard"]}, "problems[0]"),
    ({"problems": [{"kind": "alarm_not_heard"}] * 51}, "problems"),
    ({"notification_method": "x" * 201}, "notification_method"),
    ({"lessons_learned": "x" * 4001}, "lessons_learned"),
    ({"report": "x" * 20001}, "report"),
    ({"report": NUL}, "report"),
    ({"revision": 5}, "revision"),
    ({"edited_by": str(uuid.uuid4())}, "edited_by"),
]


@pytest.mark.parametrize("body, field", BAD_NOTES,
                         ids=[f"{f}-{n}" for n, (_, f) in enumerate(BAD_NOTES)])
async def test_malformed_after_action_is_400_naming_the_field(client, db, w, body, field):
    """A wrong type, unknown value or field, a blank or too long text, too many items: 400
    naming the field, and no revision stored."""
    r = await send(client, db, w, "PUT", AFTER_ACTION, body)
    assert r.status_code == 400, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


@pytest.mark.parametrize("content", [b"", b"null", b"[]", b'{"during": '])
async def test_an_after_action_body_that_is_not_an_object_is_400(client, db, w, content):
    """Empty, null, an array or cut-off JSON: 400 about the body."""
    before = await snapshot(db)
    r = await client.put(AFTER_ACTION.format(event=w["event"]), content=content,
                         headers=bearer(w["principal"]) | {"content-type": "application/json"})
    assert_problem(r, 400, "body")
    assert await snapshot(db) == before
