"""Schools and rooms over HTTP: who may see what, tokens, pages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from litestar.security.jwt import Token

from tests import factories
from tests.conftest import SECRET, T0, bearer


@pytest.fixture
async def two_districts(db):
    """District 1 with two schools, district 2 with one; a person in every role."""
    d1, d2 = await factories.district(db, "One ISD"), await factories.district(db, "Two ISD")
    high = await factories.school(db, d1, "Alpha High")
    elem = await factories.school(db, d1, "Beta Elementary")
    other = await factories.school(db, d2, "Gamma High")
    for s in (high, elem, other):
        await factories.rooms(db, s, 5)
    return {
        "high": high, "elem": elem, "other": other,
        "teacher": await factories.person(db, d1, high, "teacher"),
        "admin": await factories.person(db, d1, None, "district_admin"),
        "other_admin": await factories.person(db, d2, None, "district_admin"),
    }


async def test_teacher_lists_only_their_school(client, two_districts):
    """A teacher sees their own school, with their role, and nothing else."""
    r = await client.get("/v1/schools", headers=bearer(two_districts["teacher"]))
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(s["id"], s["role"]) for s in items] == [(str(two_districts["high"]), "teacher")]
    assert r.json()["next_cursor"] is None


async def test_district_admin_lists_every_school_of_their_district(client, two_districts):
    """A district admin reaches all schools of their district, none of another."""
    r = await client.get("/v1/schools", headers=bearer(two_districts["admin"]))
    assert [s["name"] for s in r.json()["items"]] == ["Alpha High", "Beta Elementary"]
    assert {s["role"] for s in r.json()["items"]} == {"district_admin"}


@pytest.mark.parametrize("path", ["/v1/schools/{id}", "/v1/schools/{id}/rooms"])
@pytest.mark.parametrize("who", ["teacher", "other_admin"])
async def test_another_schools_data_is_404(client, two_districts, path, who):
    """Another school's resources answer 404 and carry none of its data."""
    target = two_districts["elem"] if who == "teacher" else two_districts["high"]
    r = await client.get(path.format(id=target), headers=bearer(two_districts[who]))
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert "Room" not in r.text and "Beta" not in r.text and "Alpha" not in r.text


async def test_unknown_school_is_404_like_another_tenants(client, two_districts):
    """A school id that does not exist answers exactly like one that is not yours."""
    headers = bearer(two_districts["teacher"])
    missing = await client.get(f"/v1/schools/{uuid.uuid4()}", headers=headers)
    foreign = await client.get(f"/v1/schools/{two_districts['other']}", headers=headers)
    assert missing.status_code == foreign.status_code == 404
    assert missing.json()["title"] == foreign.json()["title"]


async def test_school_detail(client, two_districts):
    """A member reads their school's details."""
    r = await client.get(f"/v1/schools/{two_districts['high']}",
                         headers=bearer(two_districts["teacher"]))
    assert r.status_code == 200
    assert r.json() | {"id": None, "district_id": None} == {
        "id": None, "district_id": None, "name": "Alpha High", "timezone": "America/Chicago",
        "state": "TX", "school_year_start": "08-01", "role": "teacher", "address": None}


async def test_rooms_page_through_all_rooms_once(client, two_districts):
    """Following next_cursor visits every room exactly once, in code order."""
    headers, seen, cursor = bearer(two_districts["teacher"]), [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = await client.get(f"/v1/schools/{two_districts['high']}/rooms", params=params,
                             headers=headers)
        assert r.status_code == 200
        seen += [room["code"] for room in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"R-{n:03d}" for n in range(1, 6)]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"limit": "ten"},
                                    {"cursor": "bm90LWEtY3Vyc29y"}, {"cursor": "%%%"}])
async def test_bad_page_parameters_are_400(client, two_districts, params):
    """Out-of-range limits and cursors we never issued are 400 problems naming the field."""
    r = await client.get(f"/v1/schools/{two_districts['high']}/rooms", params=params,
                         headers=bearer(two_districts["teacher"]))
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == [next(iter(params))]


async def test_expired_membership_no_longer_reaches_the_school(client, db, clock):
    """A substitute's membership stops working when it expires."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    sub = await factories.person(db, d, s, "teacher", expires_at=T0 + timedelta(hours=8))
    assert (await client.get(f"/v1/schools/{s}", headers=bearer(sub))).status_code == 200
    clock.advance(hours=9)
    r = await client.get(f"/v1/schools/{s}", headers=bearer(sub))
    assert r.status_code == 404


async def test_a_substitute_loses_access_on_the_dot_even_just_after_a_request(client, db,
                                                                             clock):
    """A request a second before the expiry does not keep access alive for the caller
    cache's two seconds."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    sub = await factories.person(db, d, s, "teacher", expires_at=T0 + timedelta(seconds=1))
    assert (await client.get(f"/v1/schools/{s}", headers=bearer(sub))).status_code == 200
    clock.advance(seconds=1)
    assert (await client.get(f"/v1/schools/{s}", headers=bearer(sub))).status_code == 404


def _token(user_id: uuid.UUID, **fields) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "exp": now + timedelta(hours=1), "iat": now,
              "extras": {"typ": "access"}} | fields
    secret = claims.pop("secret", SECRET)
    return Token(**claims).encode(secret, "HS256")


@pytest.mark.parametrize("authorization", [
    lambda user: None,
    lambda user: "Bearer",
    lambda user: "Bearer not.a.jwt",
    lambda user: "Basic dXNlcjpwYXNz",
    lambda user: f"Bearer {_token(user, secret='another-secret-' + 'y' * 32)}",
    lambda user: f"Bearer {_token(user, extras={'typ': 'refresh'})}",
    lambda user: f"Bearer {_token(user, extras={})}",
    lambda user: f"Bearer {_token(user, sub='not-a-uuid')}",
    lambda user: f"Bearer {_token(uuid.uuid4())}",  # well signed, but no such user
], ids=["none", "empty", "garbage", "basic", "forged", "refresh-kind", "no-kind",
        "bad-subject", "unknown-user"])
async def test_missing_or_invalid_tokens_are_401(client, two_districts, authorization):
    """No token, a malformed, forged, wrong-kind or orphaned token: 401 problem."""
    value = authorization(two_districts["teacher"])
    headers = {"Authorization": value} if value else {}
    r = await client.get("/v1/schools", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"


async def test_a_valid_token_is_accepted(client, two_districts):
    """The control for the 401 cases: the same construction, correctly signed, works."""
    token = _token(two_districts["teacher"])
    r = await client.get("/v1/schools", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200


async def test_expired_token_is_401(client, two_districts):
    """A token past its expiry is refused."""
    issued = datetime.now(UTC) - timedelta(hours=2)
    claims = {"sub": str(two_districts["teacher"]), "typ": "access", "iat": issued,
              "exp": issued + timedelta(hours=1)}
    stale = jwt.encode(claims, SECRET, algorithm="HS256")
    r = await client.get("/v1/schools", headers={"Authorization": f"Bearer {stale}"})
    assert r.status_code == 401


async def test_readiness_lists_who_an_alert_would_miss(client, db, two_districts):
    """A principal sees members without a device, with a disabled one, or whose last SMS
    or last call failed (an earlier failure since followed by a success is forgotten); a
    teacher may not read it; another district's school is 404."""
    d = await db.fetchval("select district_id from schools where id = $1", two_districts["high"])
    high = two_districts["high"]
    principal = await factories.person(db, d, high, "principal")
    ready = await factories.person(db, d, high, "sro")
    await db.executemany("insert into devices (id, user_id, platform, push_token, disabled_at) "
                         "values ($1, $2, 'ios', $3, $4)",
                         [(uuid.uuid4(), ready, "t-ok", None),
                          (uuid.uuid4(), principal, "t-ok-2", None),
                          (uuid.uuid4(), principal, "t-dead", T0)])
    event = uuid.uuid4()
    await db.execute("insert into events (id, school_id, action, drill, status, directive, "
                     "started_at, started_by) values ($1, $2, 'hold', true, 'active', 'x', $3, $4)",
                     event, high, T0, principal)
    for state, at in (("failed", T0), ("sent", T0 - timedelta(days=1))):
        await db.execute("insert into notification_outbox (event_id, user_id, channel, kind, "
                         "body, state, updated_at) values ($1, $2, 'sms', 'alert', 'x', $3, $4)",
                         event, two_districts["teacher"], state, at)
    for who, state, at in ((principal, "failed", T0), (ready, "failed", T0 - timedelta(days=1)),
                           (ready, "delivered", T0)):
        await db.execute("insert into notification_outbox (event_id, user_id, channel, kind, "
                         "body, state, updated_at) values ($1, $2, 'voice', 'repeat', 'x', $3, "
                         "$4)", event, who, state, at)
    r = await client.get(f"/v1/schools/{high}/readiness", headers=bearer(principal))
    assert r.status_code == 200
    body = r.json()
    problems = {u["user_id"]: u["problems"] for u in body["unreachable"]}
    assert body["members_total"] == 3
    assert problems == {str(two_districts["teacher"]): ["no_device", "sms_undeliverable"],
                        str(principal): ["device_disabled", "voice_undeliverable"]}
    teacher = await client.get(f"/v1/schools/{high}/readiness",
                               headers=bearer(two_districts["teacher"]))
    assert teacher.status_code == 403
    other = await client.get(f"/v1/schools/{two_districts['other']}/readiness",
                             headers=bearer(principal))
    assert other.status_code == 404
