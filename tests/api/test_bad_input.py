"""The bad-input matrix of the events and check-ins endpoints: every refusal is a problem
that names its cause, and no refused request stores anything."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import msgspec
import pytest

from api.http.auth import issue_access_token
from tests import factories
from tests.conftest import SECRET, bearer

START = LIST = "/v1/schools/{school}/events"
EVENT = "/v1/events/{event}"
ACTIONS, ALL_CLEAR, CANCEL = f"{EVENT}/actions", f"{EVENT}/all-clear", f"{EVENT}/cancel"
ACK, CHECKINS, ACCOUNTABILITY = f"{EVENT}/ack", f"{EVENT}/checkins", f"{EVENT}/accountability"
CHECKIN = {"client_id": "{new}", "room_id": "{room}", "status": "ok", "students_present": 20}
REAL = {"action": "lockdown", "drill": False}
# One well-formed request per endpoint, so that only the thing under test is wrong.
ENDPOINTS = [
    pytest.param("POST", START, REAL, id="start"),
    pytest.param("GET", LIST, None, id="list"),
    pytest.param("GET", EVENT, None, id="get"),
    pytest.param("POST", ACTIONS, {"action": "evacuate", "location": "Field"}, id="actions"),
    pytest.param("POST", ALL_CLEAR, {}, id="all-clear"),
    pytest.param("POST", CANCEL, {"reason": "pocket dial"}, id="cancel"),
    pytest.param("POST", ACK, None, id="ack"),
    pytest.param("POST", CHECKINS, CHECKIN, id="checkin"),
    pytest.param("GET", ACCOUNTABILITY, None, id="accountability"),
]
TABLES = ("events", "event_timeline", "checkins", "room_reports", "idempotency_keys",
          "acknowledgements")


@pytest.fixture
async def w(db, client):
    """A school with rooms, a teacher, staff and an SRO, and an active lockdown drill (so a
    real start wrongly accepted shows as a 201 superseding it); a sibling school's room;
    another district's school with its own SRO and room."""
    d, other_d = await factories.district(db), await factories.district(db, "Other ISD")
    s = await factories.school(db, d)
    sibling, other_s = await factories.school(db, d, "Sibling"), await factories.school(
        db, other_d, "Other High")
    people = {role: await factories.person(db, d, s, role) for role in ("teacher", "staff", "sro")}
    outsider = await factories.person(db, other_d, other_s, "sro")
    rooms = await factories.rooms(db, s, 3)
    r = await client.post(START.format(school=s), json=REAL | {"drill": True},
                          headers=bearer(people["sro"]))
    ids = {"school": s, "district": d, "event": r.json()["id"], "room": rooms[0],
           "sibling_room": (await factories.rooms(db, sibling, 1))[0],
           "other_room": (await factories.rooms(db, other_s, 1))[0]}
    return {**people, "outsider": outsider, "ids": {k: str(v) for k, v in ids.items()}}


def fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


async def snapshot(db) -> dict[str, str]:
    """Every row of the tables a write touches, so an update shows as well as an insert."""
    return {t: await db.fetchval(f"select count(*) || ':' || md5(coalesce(string_agg("
                                 f"x::text, '|' order by x::text), '')) from {t} x")
            for t in TABLES}


async def send(client, db, w, method, path, body=None, *, who="sro", headers=None, params=None,
               **ids):
    """Send one request and assert that it stored nothing."""
    ids = w["ids"] | {"new": str(uuid.uuid4())} | ids
    h = bearer(w[who]) if who else {}
    if method == "POST" and path == START:
        h["Idempotency-Key"] = str(uuid.uuid4())
    kw = {"json": fill(body, ids)} if body is not None else {}
    if isinstance(body, bytes):
        kw, h = {"content": body}, h | {"content-type": "application/json"}
    before = await snapshot(db)
    r = await client.request(method, path.format(**ids), headers=h | (headers or {}),
                             params=params, **kw)
    assert await snapshot(db) == before, f"answered {r.status_code}, yet stored: {r.text}"
    return r


def assert_problem(r, status: int, field: str | None = None) -> dict:
    """A problem+json of `status`; for a 400, `field` is named in errors and in detail."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    p = r.json()
    assert {"type", "title", "status", "detail"} <= p.keys() and p["status"] == status
    assert p["detail"].strip()
    if field:
        assert field in [e["field"].lower().replace("-", "_") for e in p.get("errors") or []], p
        assert field.split("_")[0] in p["detail"].lower(), p["detail"]
    return p


def cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


NUL = "a\u0000b"  # PostgreSQL text cannot hold it
BAD_BODIES = [
    # start an event
    (START, REAL | {"siren": True}, "siren"),
    (START, {"action": "panic", "drill": False}, "action"),
    (START, {"action": 5, "drill": False}, "action"),
    (START, {"action": "lockdown", "drill": "yes"}, "drill"),
    (START, {"action": "lockdown", "drill": "false"}, "drill"),
    (START, {"action": "lockdown", "drill": 0}, "drill"),
    (START, {"action": "shelter", "drill": False, "hazard": "zombies"}, "hazard"),
    (START, {"action": "evacuate", "drill": False}, "location"),
    (START, {"action": "shelter", "drill": False}, "hazard"),
    (START, {"action": "evacuate", "drill": False, "location": "x" * 201}, "location"),
    (START, {"action": "shelter", "drill": False, "hazard": "tornado", "strategy": "x" * 501},
     "strategy"),
    (START, REAL | {"message": "x" * 1001}, "message"),
    (START, REAL | {"directive": "x" * 1001}, "directive"),
    (START, REAL | {"message": 5}, "message"),
    (START, REAL | {"message": "Drill: stay in your rooms"}, "message"),
    (START, REAL | {"message": NUL}, "message"),
    (START, {"action": "lockdown"}, "drill"),
    (START, {"drill": False}, "action"),
    # change the action
    (ACTIONS, {"action": "hold", "siren": True}, "siren"),
    (ACTIONS, {"action": "hold", "drill": True}, "drill"),
    (ACTIONS, {"action": "panic"}, "action"),
    (ACTIONS, {}, "action"),
    (ACTIONS, {"action": "evacuate"}, "location"),
    (ACTIONS, {"action": "evacuate", "location": "   "}, "location"),
    (ACTIONS, {"action": "shelter"}, "hazard"),
    (ACTIONS, {"action": "shelter", "hazard": "zombies"}, "hazard"),
    (ACTIONS, {"action": "hold", "location": "Gym"}, "location"),
    (ACTIONS, {"action": "hold", "message": "x" * 1001}, "message"),
    (ACTIONS, {"action": "hold", "message": NUL}, "message"),
    # all-clear and cancel
    (ALL_CLEAR, {"reason": "done"}, "reason"),
    (ALL_CLEAR, {"message": 5}, "message"),
    (ALL_CLEAR, {"message": "x" * 1001}, "message"),
    (ALL_CLEAR, {"message": NUL}, "message"),
    (CANCEL, {}, "reason"),
    (CANCEL, {"reason": ""}, "reason"),
    (CANCEL, {"reason": "   "}, "reason"),
    (CANCEL, {"reason": 5}, "reason"),
    (CANCEL, {"reason": "x" * 1001}, "reason"),
    (CANCEL, {"reason": NUL}, "reason"),
    (CANCEL, {"reason": "oops", "drill": True}, "drill"),
    # check in
    (CHECKINS, CHECKIN | {"temperature": 20}, "temperature"),
    (CHECKINS, CHECKIN | {"students_present": -1}, "students_present"),
    (CHECKINS, CHECKIN | {"students_present": 2.5}, "students_present"),
    (CHECKINS, CHECKIN | {"students_present": 10001}, "students_present"),
    (CHECKINS, CHECKIN | {"students_present": "24"}, "students_present"),
    (CHECKINS, CHECKIN | {"students_present": True}, "students_present"),
    (CHECKINS, CHECKIN | {"students_present": None}, "students_present"),
    (CHECKINS, CHECKIN | {"students_missing": -1}, "students_missing"),
    (CHECKINS, CHECKIN | {"students_extra": 10001}, "students_extra"),
    (CHECKINS, CHECKIN | {"injured": 2.5}, "injured"),
    (CHECKINS, CHECKIN | {"status": "fine"}, "status"),
    (CHECKINS, CHECKIN | {"client_id": "abc"}, "client_id"),
    (CHECKINS, CHECKIN | {"client_id": 7}, "client_id"),
    (CHECKINS, CHECKIN | {"room_id": 42}, "room_id"),
    (CHECKINS, CHECKIN | {"room_id": "abc"}, "room_id"),
    (CHECKINS, CHECKIN | {"room_id": str(uuid.UUID(int=1))}, "room_id"),
    (CHECKINS, CHECKIN | {"room_id": "{sibling_room}"}, "room_id"),
    (CHECKINS, CHECKIN | {"room_id": "{other_room}"}, "room_id"),
    (CHECKINS, without(CHECKIN, "students_present"), "students_present"),
    (CHECKINS, without(CHECKIN, "client_id"), "client_id"),
    (CHECKINS, without(CHECKIN, "room_id"), "room_id"),
    (CHECKINS, CHECKIN | {"note": "x" * 1001}, "note"),
    (CHECKINS, CHECKIN | {"location": "x" * 201}, "location"),
    (CHECKINS, CHECKIN | {"note": NUL}, "note"),
    (CHECKINS, CHECKIN | {"observed_at": "nope"}, "observed_at"),
    (CHECKINS, CHECKIN | {"observed_at": "2026-11-29T08:00:00"}, "observed_at"),
    (CHECKINS, CHECKIN | {"observed_at": 5}, "observed_at"),
]


@pytest.mark.parametrize("path, body, field", BAD_BODIES, ids=[
    f"{path.rsplit('/', 1)[-1].replace('events', 'start')}-{field}-{n}"
    for n, (path, _, field) in enumerate(BAD_BODIES)])
async def test_bad_body_is_400_naming_the_field(client, db, w, path, body, field):
    """A wrongly typed, out-of-range, unknown, missing or inconsistent field is a 400 naming it."""
    assert_problem(await send(client, db, w, "POST", path, body), 400, field)


@pytest.mark.parametrize("path", [START, ACTIONS, ALL_CLEAR, CANCEL, CHECKINS],
                         ids=["start", "actions", "all-clear", "cancel", "checkin"])
@pytest.mark.parametrize("content, says", [
    (b"", r"empty|missing|required|no body|object"),
    (b"null", r"empty|missing|required|no body|object"),
    (b'{"action": "lockdown",', r"json|malformed|truncated"),
    (b"\xff\xfe{}", r"json|malformed|utf"),
    (b'["lockdown"]', r"object"),
], ids=["empty", "null", "truncated", "not-utf8", "array"])
async def test_a_body_that_is_not_a_json_object_is_400(client, db, w, path, content, says):
    """An empty, null, malformed or non-object body is a 400 about the body that says why."""
    p = assert_problem(await send(client, db, w, "POST", path, content), 400, "body")
    assert re.search(says, p["detail"], re.IGNORECASE), p["detail"]


def json_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route that takes a JSON body, its path ids made up: the
    body is judged before the handler looks for what they name."""
    return [(method, re.sub(r"\{\w+:uuid\}", str(uuid.uuid4()), route.path)
             .replace("{school_year:str}", "2026-2027").replace("{token:str}", "A" * 22))
            for route in app.routes for handler in getattr(route, "route_handlers", [])
            if "data" in handler.parsed_fn_signature.parameters
            for method in sorted(handler.http_methods)]


DEEP = [b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b'{"action": "lockdown", "message": ' + b"[" * 5000 + b"]" * 5000 + b"}"]
TWICE = [(b'{"action": "hold", "drill": true, "drill": false}', "drill"),
         (b'{"drill": true, "dri\\u006cl": false}', "drill"),
         (b'{"rules": [{"id": "a"}, {"id": "a", "id": "b"}], "x": {}}', "rules[1].id"),
         (b'[{"code": "A", "name": "x"}, {"code": "B", "name": "y", "code": "C"}]', "[1].code")]


async def test_a_body_nested_too_deeply_is_400_on_every_json_route(client, db, w):
    """JSON nested 1,000 deep made the decoder give up (RecursionError, a 500): it is a
    400 about the body, signed in or not; nothing stored."""
    wrong = []
    for method, path in json_routes(client.app):
        for content in DEEP:
            for who in ("sro", None):
                r = await send(client, db, w, method, path, content, who=who)
                if who is None and r.status_code == 401:
                    continue  # a route for members: not signed in is said first
                if r.status_code != 400 or "nested too deeply" not in r.text:
                    wrong.append((method, path, who, r.status_code, r.text[:200]))
    assert not wrong, wrong


@pytest.mark.parametrize("content, field", TWICE, ids=[f for _, f in TWICE])
async def test_a_key_given_twice_is_400_naming_it_on_every_json_route(client, db, w, content,
                                                                      field):
    """A decoder keeps the last of a repeated key: `"drill": true, "drill": false` would
    be a real event. Anywhere in a body, on every JSON route, it is a 400 naming it."""
    wrong = []
    for method, path in json_routes(client.app):
        r = await send(client, db, w, method, path, content)
        p = r.json()
        if r.status_code != 400 or {"field": field, "message": "given twice: an ambiguous "
                                    "body is refused"} not in p.get("errors", []):
            wrong.append((method, path, r.status_code, p))
    assert not wrong, wrong


async def test_a_repeated_drill_flag_starts_nothing(client, db, w):
    """The issue's case: over an active drill, `"drill": true, "drill": false` started a
    real event and superseded the drill."""
    body = b'{"action": "lockdown", "drill": true, "drill": false}'
    assert_problem(await send(client, db, w, "POST", START, body), 400, "drill")


async def test_colons_and_escapes_inside_strings_are_not_keys(client, db, w):
    """The fast check counts `:` outside strings only: a note full of them is fine."""
    note = 'at 8:15 "room: 12" \\: {"a": 1, "a": 2} \u00e9:'
    r = await client.post(CHECKINS.format(**w["ids"]), headers=bearer(w["teacher"]),
                          json=fill(CHECKIN, w["ids"] | {"new": str(uuid.uuid4())})
                          | {"note": note})
    assert r.status_code == 201, r.text
    assert r.json()["note"] == note
    escaped = msgspec.json.encode(fill(CHECKIN, w["ids"] | {"new": str(uuid.uuid4())}))
    escaped = escaped.replace(b'"ok"', b'"ok","note":"8\\u003a15 \\u0022:"')
    r = await client.post(CHECKINS.format(**w["ids"]), headers=bearer(w["teacher"])
                          | {"content-type": "application/json"}, content=escaped)
    assert r.status_code == 201, r.text
    assert r.json()["note"] == '8:15 ":'


EVERY = [
    (CHECKINS, CHECKIN | {"client_id": "abc", "room_id": "R-001", "status": "safe"},
     {"client_id", "room_id", "status"}),
    (CHECKINS, without(CHECKIN, "students_present") | {"temperature": 20, "injured": -1,
                                                       "note": 5},
     {"students_present", "temperature", "injured", "note"}),
    (START, {"action": "panic", "drill": "no", "siren": True, "message": "x" * 1001},
     {"action", "drill", "siren", "message"}),
    (START, {}, {"action", "drill"}),
    (CANCEL, {"reason": 5, "drill": True}, {"reason", "drill"}),
]


@pytest.mark.parametrize("path, body, fields", EVERY,
                         ids=[f"{p.rsplit('/', 1)[-1]}-{'-'.join(sorted(f))}"
                              for p, _, f in EVERY])
async def test_a_400_names_every_bad_field_of_a_body(client, db, w, path, body, fields):
    """Wrongly typed, out of range, unknown and missing fields are all named at once, so a
    client fixes its body in one go, not one field per request."""
    p = assert_problem(await send(client, db, w, "POST", path, body), 400)
    assert {e["field"] for e in p["errors"]} == fields, p
    assert all(f in p["detail"] for f in fields), p["detail"]


@pytest.mark.parametrize("params, field", [
    ({"status": "fine"}, "status"),
    ({"drill": "maybe"}, "drill"),
    ({"since": "yesterday"}, "since"),
    ({"until": "2026-13-01T00:00:00Z"}, "until"),
    ({"since": "2026-11-29T08:00:00"}, "since"),
    ({"since": "0001-01-01T00:00:00+01:00"}, "since"),
    ({"until": "9999-12-31T23:59:59-23:59"}, "until"),
    ({"limit": "0"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"limit": "501"}, "limit"),
    ({"limit": "2.5"}, "limit"),
    ({"limit": "abc"}, "limit"),
    ({"cursor": "!!!"}, "cursor"),
    ({"cursor": "x" * 1201}, "cursor"),
    ({"cursor": cursor(b"[1, 2]")}, "cursor"),
    ({"cursor": cursor(b'["2026-11-29T08:00:00Z", "abc"]')}, "cursor"),
    ({"cursor": cursor(f'["0001-01-01T00:00:00+01:00", "{uuid.uuid4()}"]'.encode())}, "cursor"),
], ids=lambda v: "-".join(f"{k}={x[:26]}" for k, x in v.items()) if isinstance(v, dict) else v)
async def test_bad_list_query_is_400_naming_the_parameter(client, db, w, params, field):
    """An unknown status, a non-boolean drill, a bad time, limit or cursor is a 400 naming it."""
    assert_problem(await send(client, db, w, "GET", LIST, params=params), 400, field)


@pytest.mark.parametrize("bad_id", ["abc", "42"])
@pytest.mark.parametrize("method, path, body", ENDPOINTS)
async def test_non_uuid_id_in_the_path_is_404(client, db, w, method, path, body, bad_id):
    """A path id that is not a UUID names no resource: a 404 problem naming the path."""
    r = await send(client, db, w, method, path, body, school=bad_id, event=bad_id)
    assert bad_id in assert_problem(r, 404)["detail"]


def _expired(user_id) -> str:
    issued = datetime.now(UTC) - timedelta(hours=2)
    return jwt.encode({"sub": str(user_id), "typ": "access", "iat": issued,
                       "exp": issued + timedelta(hours=1)}, SECRET, algorithm="HS256")


TOKENS = {
    "none": lambda user: {"Authorization": ""},
    "garbage": lambda user: {"Authorization": "Bearer not.a.jwt"},
    "forged": lambda user: {"Authorization": "Bearer " + issue_access_token(
        user, "another-secret-" + "y" * 32, datetime.now(UTC), 3600)},
    "expired": lambda user: {"Authorization": f"Bearer {_expired(user)}"},
    "unknown-user": lambda user: bearer(uuid.uuid4()),
}


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("method, path, body", ENDPOINTS)
async def test_missing_or_invalid_token_is_401(client, db, w, method, path, body, token):
    """Without a valid access token every endpoint answers 401 and does nothing."""
    r = await send(client, db, w, method, path, body, who=None, headers=TOKENS[token](w["sro"]))
    assert_problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("who", ["teacher", "staff"])
@pytest.mark.parametrize("path, body, doing", [
    (START, {"action": "lockdown", "drill": True}, "start a drill"),
    (ACTIONS, {"action": "evacuate", "location": "Field"}, "change an event's action"),
    (ALL_CLEAR, {}, "give the all-clear"),
    (CANCEL, {"reason": "pocket dial"}, "cancel an event"),
])
async def test_only_safety_leads_may_drill_or_change_an_event(client, db, w, who, path, body,
                                                              doing):
    """A teacher or staff member starting a drill, changing, clearing or cancelling is 403."""
    p = assert_problem(await send(client, db, w, "POST", path, body, who=who), 403)
    assert who in p["detail"] and doing in p["detail"], p["detail"]


@pytest.mark.parametrize("ending", [("all-clear", {}), ("cancel", {"reason": "pocket dial"})],
                         ids=["all-clear", "cancel"])
@pytest.mark.parametrize("path, body, says", [
    (ACTIONS, {"action": "evacuate", "location": "Field"}, "already ended"),
    (ALL_CLEAR, {}, "already ended"),
    (CANCEL, {"reason": "pocket dial"}, "already ended"),
    (CHECKINS, CHECKIN, "too late"),
    (CHECKINS, CHECKIN | {"observed_at": "2026-11-29T08:10:00Z"}, "too late"),
], ids=["actions", "all-clear", "cancel", "checkin-now", "checkin-at-the-end"])
async def test_a_closed_event_is_409(client, db, w, clock, ending, path, body, says):
    """After the event ended at 08:10, changing it or a check-in observed since is a 409."""
    clock.advance(minutes=10)
    end = await client.post(f"/v1/events/{w['ids']['event']}/{ending[0]}", json=ending[1],
                            headers=bearer(w["sro"]))
    assert end.status_code == 200, end.text
    clock.advance(minutes=1)
    p = assert_problem(await send(client, db, w, "POST", path, body), 409)
    assert says in p["detail"], p["detail"]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
async def test_another_tenants_school_or_event_is_404_and_reveals_nothing(client, db, w, method,
                                                                        path, body):
    """Another district's SRO gets the same 404 as for an id that does not exist, with none of
    the school's data (its id, name, rooms, or active event)."""
    target = "school" if "{school}" in path else "event"
    mine, ghost = w["ids"][target], str(uuid.uuid4())
    room = w["ids"]["other_room"]  # the outsider's own room: the 404 is not about the room
    theirs = await send(client, db, w, method, path, body, who="outsider", room=room)
    p = assert_problem(theirs, 404)
    nothing = assert_problem(await send(client, db, w, method, path, body, who="outsider",
                                        room=room, **{target: ghost}), 404)
    assert (p["type"], p["detail"].replace(mine, "ID")) == (
        nothing["type"], nothing["detail"].replace(ghost, "ID"))
    private = [w["ids"][k] for k in ("district", "room", "school", "event") if k != target]
    assert not [v for v in [*private, "Test High", "Test ISD"] if v in theirs.text], theirs.text
