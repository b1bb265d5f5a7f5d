"""schemathesis against the app's own OpenAPI document: no 5xx, and every answer (status,
content type, body) as documented, for requests made with a real district admin's token.

One test per operation (schemathesis' pytest integration), on the demo district seeded
once for the module: path ids that parse as UUIDs are replaced by ids that exist, so the
fuzzed bodies and queries reach the handlers' rules, not only the 404 of an unknown id.
Generation is derandomized with a fixed seed, so CI runs the same cases every time.
"""

from __future__ import annotations

import json
import uuid

import pytest
import schemathesis
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.cli.openapi import render_openapi
from api.settings import Settings
from db.demo import seed_demo
from tests import factories
from tests.conftest import LINKS, SECRET, Clock, bearer, empty_tables

CONFIG = schemathesis.Config.from_dict({
    "seed": 20261129,
    "generation": {
        "deterministic": True, "database": "none", "max-examples": 100,
        # Unknown query parameters are ignored, as HTTP APIs commonly do (OpenAPI has no
        # way to say otherwise); unknown body fields are refused, and the document says so.
        "allow-extra-parameters": False,
    },
    # Each operation on its own; sequences of calls are the feature tests' business.
    "phases": {"stateful": {"enabled": False}},
    # The live stream never ends: its first message (or five seconds of nothing, for a
    # Last-Event-ID past the end) is what is checked, as schemathesis cuts streams. The
    # timeout also bounds the answer's headers: two seconds were too little for a 401 on
    # a machine at load 10; a stream's few parameters need fewer examples than a body's,
    # which keeps the silent ones' waits to about a minute.
    "operations": [*({"include-path": path, "request-timeout": 5, "max-stream-events": 1,
                      "generation": {"max-examples": 25}}
                     for path in ("/v1/events/{event_id}/stream",
                                  "/v1/assists/{assist_id}/stream")),
                   # any body is a request for help: a generated Idempotency-Key met again
                   # with another body is the documented 422
                   {"include-path": "/v1/schools/{school_id}/assists", "include-method": "POST",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [
                        "2xx", "400", "401", "403", "404", "409", "422", "429"]}}}],
    "checks": {
        # Litestar 2 answers OPTIONS on a path served by two handlers (GET and PUT) with
        # an Allow header naming only the first one's methods (litestar-org/litestar#4169,
        # fixed in litestar 3 only); nothing of ours relies on OPTIONS.
        "allow_header_conformance": {"enabled": False},
        # A request the schema allows may still be refused with a 400 problem naming the
        # field: what JSON Schema cannot say (a real phone number, a time zone name, a
        # strategy only for the actions that take one, a room of this school, a cursor
        # this API handed out, a date in the future, 1634.0 for an integer) and what
        # Litestar 2 leaves out of the document (`ge=0` on an optional field, constraints
        # on list items).
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]},
    },
})


@schemathesis.serializer("application/zip")
def _zip_bytes(ctx: schemathesis.SerializationContext, value: object) -> bytes:
    """A OneRoster upload's generated body (binary: bytes, or text) sent as it is."""
    return value if isinstance(value, bytes) else str(value).encode()


class PluggedApp:
    """The ASGI app schemathesis calls, known when the module loads; the `world` fixture
    plugs in the real one, on the test database."""

    app: Litestar | None = None

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        assert self.app is not None, "the world fixture plugs the app in"
        await self.app(scope, receive, send)


PLUGGED = PluggedApp()
schema = schemathesis.openapi.from_dict(json.loads(render_openapi()), config=CONFIG)
schema.app = PLUGGED


@pytest.fixture(scope="module")
async def world(pool, database_url, tmp_path_factory):
    """The demo district, a drill under way at Riverbend High, a request for help and a
    reunification open there, and the app plugged in;
    what the fuzzed requests change stays changed for the next operations."""
    settings = Settings(data_dir=str(tmp_path_factory.mktemp("fuzz")), jwt_secret=SECRET)
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=Clock(),
                     dispatch=False)
    async with pool.acquire() as conn:
        await empty_tables(conn)
        demo = await seed_demo(conn)
        [student] = await factories.students(conn, demo.schools[0].id, 1)
    high, admin = demo.schools[0], demo.district_admin
    async with AsyncTestClient(app) as client:
        r = await client.post(f"/v1/schools/{high.id}/events",
                              json={"action": "hold", "drill": True}, headers=bearer(admin.id))
        assert r.status_code == 201, r.text
        asked = await client.post(f"/v1/schools/{high.id}/assists", json={"kind": "other"},
                                  headers=bearer(admin.id))
        assert asked.status_code == 201, asked.text
        site = await client.post(f"/v1/schools/{high.id}/reunifications", json={"site": "Gym"},
                                 headers=bearer(admin.id))
        assert site.status_code == 201, site.text
    teacher = next(u for u in high.users if u.role == "teacher")
    PLUGGED.app = app
    token = LINKS.token(uuid.UUID(r.json()["id"]), teacher.id)  # the drill's alert's link
    yield {"ids": {"school_id": str(high.id), "event_id": r.json()["id"],
                   "district_id": str(demo.district_id), "user_id": str(teacher.id),
                   "token": token, "assist_id": asked.json()["id"],
                   "room_id": str(high.rooms[0].id),
                   "reunification_id": site.json()["id"], "student_id": str(student)},
           "headers": bearer(admin.id)}
    PLUGGED.app = None


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@schema.parametrize()
def test_api(case, world):
    """Whatever schemathesis sends, the answer is no 5xx and matches the document (a link's
    token is always a real one: garbled tokens are tests/api/test_links_api.py's)."""
    for name, value in (case.path_parameters or {}).items():
        if name in world["ids"] and (_is_uuid(value) or name == "token"):
            case.path_parameters[name] = world["ids"][name]
    case.call_and_validate(headers=world["headers"])



# -- what the fuzzer found, pinned -------------------------------------------------------

DOCUMENT = json.loads(render_openapi())


def test_ready_documents_the_body_it_answers():
    """/ready's 200 is the Health object (it was `oneOf: [Health, {}]`, which a ready
    answer matched twice, so no client could validate it)."""
    ok = DOCUMENT["paths"]["/ready"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}


def test_request_bodies_say_they_refuse_unknown_fields():
    """A body Struct that forbids unknown fields has `additionalProperties: false` (the
    document allowed any extra field, which the API answers with 400)."""
    schemas = DOCUMENT["components"]["schemas"]
    for name in ("EventIn", "ActionIn", "CheckInIn", "StaffIn", "RoomIn", "TokenRequest",
                 "AssistIn", "RespondersIn", "ResolveIn"):
        assert schemas[name]["additionalProperties"] is False, name


@pytest.fixture
async def school(db):
    school = await factories.staffed_school(db, "sro")
    school["admin"] = await factories.person(db, school["district"], None, "district_admin")
    return school


async def test_csv_answers_are_documented_and_say_their_charset_once(client, school):
    """`?format=csv` answers `text/csv; charset=utf-8` (it said the charset twice) and the
    document lists text/csv beside JSON for those routes."""
    headers = bearer(school["sro"])
    event = (await client.post(f"/v1/schools/{school['id']}/events", headers=headers,
                               json={"action": "hold", "drill": True})).json()["id"]
    await client.post(f"/v1/events/{event}/all-clear", headers=headers, json={})
    year = {"format": "csv", "school_year": "2026-2027"}
    for url, who, params in (
            (f"/v1/events/{event}/report", school["sro"], {"format": "csv"}),
            (f"/v1/schools/{school['id']}/drill-log", school["sro"], year),
            (f"/v1/districts/{school['district']}/drill-log", school["admin"], year)):
        r = await client.get(url, params=params, headers=bearer(who))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
    for path in ("/v1/events/{event_id}/report", "/v1/schools/{school_id}/drill-log",
                 "/v1/districts/{district_id}/drill-log"):
        content = DOCUMENT["paths"][path]["get"]["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv"}, path


@pytest.mark.parametrize("value", ["0.5", "1764403200", "2026-11-29", "yesterday"])
async def test_a_time_in_a_query_is_rfc3339_or_400(client, school, value):
    """`?until=0.5` was read as a Unix time (1970) and answered 200; now, as for bodies,
    anything but RFC 3339 is a 400 naming the parameter."""
    url = f"/v1/schools/{school['id']}/events"
    r = await client.get(url, params={"until": value}, headers=bearer(school["sro"]))
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["until"]
    r = await client.get(url, params={"since": "2026-11-29T08:00:00-06:00"},
                         headers=bearer(school["sro"]))
    assert r.status_code == 200, r.text


async def test_a_last_event_id_beyond_any_seq_is_400(client, school):
    """`Last-Event-ID: 2147483648` overflowed the query's integer after the stream had
    started (the stream broke); it is a 400 naming the header before anything is sent."""
    event = (await client.post(f"/v1/schools/{school['id']}/events",
                               headers=bearer(school["sro"]),
                               json={"action": "hold", "drill": True})).json()["id"]
    r = await client.get(f"/v1/events/{event}/stream",
                         headers=bearer(school["sro"]) | {"Last-Event-ID": "2147483648"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
