"""The API shell: health, readiness, problem+json for every kind of error."""

from __future__ import annotations

import logging
import uuid

import msgspec
import pytest
from litestar import post
from litestar.params import JSONBody

from tests import factories
from tests.conftest import bearer

PROBLEM = "application/problem+json"


async def test_health_answers_without_a_token(client):
    """/health says the process is up, no token needed."""
    r = await client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_ready_when_database_reachable_and_migrated(client):
    """/ready is 200 once migrations are applied."""
    r = await client.get("/ready")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


async def test_ready_is_503_when_a_migration_is_pending(client, db):
    """/ready names the migration the database lacks."""
    await db.execute("delete from schema_migrations where version = '0001_schema'")
    try:
        r = await client.get("/ready")
    finally:
        await db.execute("insert into schema_migrations (version, checksum) "
                         "select '0001_schema', $1", _checksum())
    assert r.status_code == 503
    assert r.headers["content-type"] == PROBLEM
    assert "0001_schema" in r.json()["detail"]


def _checksum() -> str:
    from db.migrate import available

    return next(m.checksum for m in available() if m.version == "0001_schema")


async def test_unknown_path_is_a_404_problem(client):
    """An unknown path is a problem+json 404 that names the path."""
    r = await client.get("/v1/nowhere")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert "/v1/nowhere" in r.json()["detail"]


async def test_wrong_method_is_a_405_problem(client, db):
    """A known path with a wrong method is a problem+json 405."""
    d = await factories.district(db)
    user = await factories.person(db, d, await factories.school(db, d), "teacher")
    r = await client.delete("/v1/schools", headers=bearer(user))
    assert r.status_code == 405
    assert r.headers["content-type"] == PROBLEM
    assert "DELETE" in r.json()["detail"]


class Body(msgspec.Struct, forbid_unknown_fields=True):
    count: int


@post("/test/boom", exclude_from_auth=True)
async def boom(data: JSONBody[Body]) -> None:
    raise RuntimeError("secret internals: password=hunter2")


@pytest.fixture
async def client_with_boom(client):
    client.app.register(boom)
    return client


async def test_unhandled_error_is_a_generic_500_with_request_id(client_with_boom, caplog):
    """A bug answers a 500 problem without internals, logged under the same request id."""
    with caplog.at_level(logging.ERROR, logger="muster.api"):
        r = await client_with_boom.post("/test/boom", json={"count": 1},
                                        headers={"X-Request-ID": "req-42"})
    assert r.status_code == 500
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert "hunter2" not in r.text and "RuntimeError" not in r.text
    assert body["request_id"] == "req-42" and r.headers["x-request-id"] == "req-42"
    assert any("req-42" in rec.getMessage() and rec.exc_info for rec in caplog.records)


@pytest.mark.parametrize(("raw", "field"), [
    (b'{"count": ', "body"),
    (b'{"count": 1, "extra": true}', "extra"),
    (b'{"count": "three"}', "count"),
    (b"[]", "body"),
])
async def test_bad_json_bodies_are_400_naming_the_field(client_with_boom, raw, field):
    """Malformed JSON, unknown fields and wrong types are 400 problems naming the field."""
    r = await client_with_boom.post("/test/boom", content=raw,
                                    headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == PROBLEM
    assert field in {e["field"] for e in r.json()["errors"]}
    assert r.json()["detail"].startswith(f"{field}: ")


@pytest.mark.parametrize("signed_in", [False, True])
async def test_an_oversized_body_is_413_problem(client, db, signed_in):
    """Bodies over 2 MiB are refused with 413, on public and signed-in routes alike."""
    headers = {"content-type": "application/json"}
    path = "/v1/auth/otp"
    if signed_in:
        d = await factories.district(db)
        headers |= bearer(await factories.person(db, d, None, "district_admin"))
        path = f"/v1/events/{uuid.uuid4()}/checkins"
    r = await client.post(path, content=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers=headers)
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
