"""The signed-in user and their phones; and which access tokens are refused."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from tests import factories
from tests.conftest import SECRET, bearer


@pytest.fixture
async def people(db):
    d = await factories.district(db)
    s = await factories.school(db, d)
    return {"school": s, "teacher": await factories.person(db, d, s, "teacher"),
            "sro": await factories.person(db, d, s, "sro"),
            "admin": await factories.person(db, d, None, "district_admin")}


def register(client, user, token="fcm-token-1", platform="android"):
    return client.post("/v1/me/devices", json={"platform": platform, "push_token": token},
                       headers=bearer(user))


async def test_me_lists_memberships_and_devices(client, people):
    """A district admin reaches every school of the district, in that role."""
    await register(client, people["admin"])
    r = await client.get("/v1/me", headers=bearer(people["admin"]))
    assert r.status_code == 200
    body = r.json()
    assert body["memberships"] == [{"school_id": str(people["school"]),
                                    "role": "district_admin"}]
    [device] = body["devices"]
    assert device["platform"] == "android" and device["disabled_at"] is None
    assert "push_token" not in device


async def test_registering_again_is_200_and_marks_the_phone_seen(client, db, people, clock):
    first = await register(client, people["teacher"])
    assert first.status_code == 201
    clock.advance(hours=1)
    again = await register(client, people["teacher"])
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["last_seen_at"] == clock.now.isoformat().replace("+00:00", "Z")
    assert await db.fetchval("select count(*) from devices") == 1


async def test_a_push_token_belongs_to_one_person(client, db, people):
    """A phone handed to a colleague: registering its token moves it to them, so alerts
    for the first person stop going to the second's pocket."""
    await register(client, people["teacher"])
    moved = await register(client, people["sro"])
    assert moved.status_code == 201
    owner = await db.fetchval("select user_id from devices where push_token = 'fcm-token-1'")
    assert owner == people["sro"]
    r = await client.get("/v1/me", headers=bearer(people["teacher"]))
    assert r.json()["devices"] == []


async def test_registering_re_enables_a_token_fcm_had_rejected(client, db, people):
    await register(client, people["teacher"])
    await db.execute("update devices set disabled_at = now(), disabled_reason = 'unregistered'")
    assert (await register(client, people["teacher"])).json()["disabled_at"] is None


async def test_removing_a_device(client, db, people):
    device = (await register(client, people["teacher"])).json()["id"]
    other = await client.delete(f"/v1/me/devices/{device}", headers=bearer(people["sro"]))
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    r = await client.delete(f"/v1/me/devices/{device}", headers=bearer(people["teacher"]))
    assert r.status_code == 204
    assert await db.fetchval("select count(*) from devices") == 0
    again = await client.delete(f"/v1/me/devices/{device}", headers=bearer(people["teacher"]))
    assert again.status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"platform": "blackberry", "push_token": "t"}, "platform"),
    ({"platform": "ios"}, "push_token"),
    ({"platform": "ios", "push_token": ""}, "push_token"),
    ({"platform": "ios", "push_token": "a b"}, "push_token"),
    ({"platform": "ios", "push_token": "a\u0000b"}, "push_token"),
    ({"platform": "ios", "push_token": "t" * 4097}, "push_token"),
    ({"platform": "ios", "push_token": "t", "user_id": str(uuid.uuid4())}, "user_id"),
], ids=["platform", "missing-token", "empty", "space", "nul", "too-long", "unknown-field"])
async def test_a_bad_device_is_400_and_nothing_is_stored(client, db, people, body, field):
    r = await client.post("/v1/me/devices", json=body, headers=bearer(people["teacher"]))
    assert r.status_code == 400, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await db.fetchval("select count(*) from devices") == 0


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/me"), ("POST", "/v1/me/devices"), ("DELETE", f"/v1/me/devices/{uuid.uuid4()}")])
async def test_me_needs_a_token(client, method, path):
    r = await client.request(method, path, json={"platform": "ios", "push_token": "t"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def _b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _claims(user) -> dict:
    now = datetime.now(UTC)
    return {"sub": str(user), "typ": "access", "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=15)).timestamp())}


def _alg_none(user) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user))}."


def _tampered(user) -> str:
    """A valid token whose payload was swapped for another user's."""
    header, _, signature = jwt.encode(_claims(user), SECRET, algorithm="HS256").split(".")
    return f"{header}.{_b64(_claims(uuid.uuid4()))}.{signature}"


def _other_algorithm(user) -> str:
    """Signed with the right secret but HS512: only HS256 is accepted."""
    return jwt.encode(_claims(user), SECRET, algorithm="HS512")


def _not_an_access_token(user) -> str:
    return jwt.encode(_claims(user) | {"typ": "refresh"}, SECRET, algorithm="HS256")


def _unknown_session(user) -> str:
    return jwt.encode(_claims(user) | {"sid": str(uuid.uuid4())}, SECRET, algorithm="HS256")


def _bad_session(user) -> str:
    return jwt.encode(_claims(user) | {"sid": 42}, SECRET, algorithm="HS256")


@pytest.mark.filterwarnings("ignore:The HMAC key is .* below the minimum")  # HS512's, forged
@pytest.mark.parametrize("forge", [_alg_none, _tampered, _other_algorithm, _not_an_access_token,
                                   _unknown_session, _bad_session])
async def test_forged_or_misused_tokens_are_401(client, people, forge):
    r = await client.get("/v1/me", headers={"Authorization": f"Bearer {forge(people['sro'])}"})
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"


async def test_the_control_token_is_accepted(client, people):
    """The construction the forgeries start from works when signed correctly."""
    token = jwt.encode(_claims(people["sro"]), SECRET, algorithm="HS256")
    r = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
