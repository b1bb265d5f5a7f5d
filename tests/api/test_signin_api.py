"""Signing in from a phone: code by SMS, tokens, rotation, theft detection, sign-out."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.app import create_app
from api.settings import Settings
from tests import factories
from tests.conftest import SECRET, bearer
from tests.fakes.twilio import FakeTwilio

OTP, TOKEN, LOGOUT = "/v1/auth/otp", "/v1/auth/token", "/v1/auth/logout"


@pytest.fixture
def clock(clock):
    """App time a few minutes behind wall time: the JWT library checks the tokens the app
    issues against the real clock (issued in the past, expiring in the future), and these
    tests move app time forward by a minute or two."""
    clock.now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    return clock


@pytest.fixture
def texts(caplog):
    """The SMS the console adapter 'sent': (phone, text) pairs."""
    caplog.set_level(logging.INFO, logger="muster.notifications")

    def sent() -> list[tuple[str, str]]:
        return [m.groups() for r in caplog.records
                if (m := re.fullmatch(r"SMS to (\+\d+): (.*)", r.getMessage()))]
    return sent


@pytest.fixture
async def school(db):
    school = await factories.staffed_school(db, "teacher")
    phone = "+15125550142"  # a real-looking US number (the factory's are not valid ones)
    await db.execute("update users set phone = $2 where id = $1", school["teacher"], phone)
    return school | {"phone": phone}


@pytest.fixture
async def proxied(db, database_url, settings, clock):
    """The app behind a proxy it trusts, with the middleware `muster serve` uses for
    MUSTER_TRUSTED_PROXIES: each request says in X-Forwarded-For which client address
    it comes from."""
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                     dispatch=False)
    async with AsyncTestClient(ProxyHeadersMiddleware(app, trusted_hosts="testclient")) as client:
        yield client


def sender(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


MEMBER, STRANGER = sender("198.51.100.7"), sender("203.0.113.66")


async def ask_code(client, phone: str, texts, headers: dict[str, str] | None = None) -> str:
    r = await client.post(OTP, json={"phone": phone}, headers=headers)
    assert r.status_code == 202, r.text
    return texts()[-1][1][:6]


async def sign_in(client, phone: str, texts) -> dict:
    code = await ask_code(client, phone, texts)
    r = await client.post(TOKEN, json={"phone": phone, "code": code})
    assert r.status_code == 200, r.text
    return r.json()


def auth(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def assert_problem(r, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    if field:
        assert field in [e["field"] for e in body["errors"]], body
    return body


async def test_a_teacher_signs_in_with_the_texted_code(client, school, texts):
    """The code arrives by SMS (the console line shows it); with it the phone gets an
    access token (about 15 min), a refresh token, and who the user is."""
    typed = "(" + school["phone"][2:5] + ") " + school["phone"][5:8] + "-" + school["phone"][8:]
    r = await client.post(OTP, json={"phone": typed})
    assert r.status_code == 202 and r.json() == {"expires_in": 300}
    [(to, text)] = texts()
    assert to == school["phone"]
    code = re.match(r"(\d{6}) is your Muster sign-in code", text).group(1)
    r = await client.post(TOKEN, json={"phone": typed, "code": code})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expires_in"] == 900 and body["token_type"] == "Bearer"
    assert body["user"] == {"id": str(school["teacher"]), "name": body["user"]["name"],
                            "phone": school["phone"], "email": None,
                            "memberships": [{"school_id": str(school["id"]),
                                             "role": "teacher"}], "language": "en"}
    me = await client.get("/v1/me", headers=auth(body))
    assert me.status_code == 200 and me.json()["memberships"] == body["user"]["memberships"]


async def test_the_code_is_stored_only_as_a_keyed_digest(client, db, school, texts):
    code = await ask_code(client, school["phone"], texts)
    stored = await db.fetchval("select code_hash from auth_codes")
    assert code not in stored and len(stored) == 64


async def test_an_unknown_phone_gets_the_same_answer_and_no_sms(client, db, texts):
    """No account probing: 202 with the same body, nothing texted, any code refused."""
    r = await client.post(OTP, json={"phone": "+1 512 555 0199"})
    assert r.status_code == 202 and r.json() == {"expires_in": 300}
    assert texts() == []
    r = await client.post(TOKEN, json={"phone": "+15125550199", "code": "123456"})
    assert assert_problem(r, 401)["detail"].startswith("that code is wrong")


async def test_a_former_member_gets_no_code(client, db, school, texts, clock):
    """An expired substitute is treated as unknown: no SMS."""
    sub = await factories.person(db, school["district"], school["id"], "teacher",
                                 expires_at=clock.now - timedelta(minutes=1))
    await db.execute("update users set phone = '+15125550143' where id = $1", sub)
    assert (await client.post(OTP, json={"phone": "+15125550143"})).status_code == 202
    assert texts() == []


async def test_a_code_works_once(client, school, texts):
    code = await ask_code(client, school["phone"], texts)
    first = await client.post(TOKEN, json={"phone": school["phone"], "code": code})
    assert first.status_code == 200
    again = await client.post(TOKEN, json={"phone": school["phone"], "code": code})
    assert_problem(again, 401)


async def test_a_code_expires_after_five_minutes(client, school, texts, clock):
    code = await ask_code(client, school["phone"], texts)
    clock.advance(minutes=5)
    assert_problem(await client.post(TOKEN, json={"phone": school["phone"], "code": code}), 401)


def wrong(code: str, n: int = 1) -> str:
    return f"{(int(code) + n) % 1_000_000:06d}"


async def test_a_stranger_asking_for_codes_holds_the_member_back_a_minute_at_most(
        proxied, db, school, texts, clock):
    """Someone asks for the member's phone again and again (most are 429, on their own
    limits); the member then gets a code within a minute, and signs in with it."""
    for _ in range(20):
        r = await proxied.post(OTP, json={"phone": school["phone"]}, headers=STRANGER)
        assert r.status_code in (202, 429), r.text
        clock.advance(seconds=15)
    assert await db.fetchval("select count(*) from auth_codes") == 5  # 5 an hour from there
    r = await proxied.post(OTP, json={"phone": school["phone"]}, headers=MEMBER)
    if r.status_code == 429:
        assert int(r.headers["retry-after"]) <= 60
        clock.advance(seconds=int(r.headers["retry-after"]))
        r = await proxied.post(OTP, json={"phone": school["phone"]}, headers=MEMBER)
    assert r.status_code == 202, r.text
    code = texts()[-1][1][:6]
    r = await proxied.post(TOKEN, json={"phone": school["phone"], "code": code}, headers=MEMBER)
    assert r.status_code == 200, r.text


async def test_a_code_asked_for_since_does_not_void_the_members(proxied, school, texts, clock):
    """A stranger's request a minute later sends another code; the member's still works."""
    code = await ask_code(proxied, school["phone"], texts, MEMBER)
    clock.advance(seconds=61)
    assert (await proxied.post(OTP, json={"phone": school["phone"]}, headers=STRANGER)
            ).status_code == 202
    r = await proxied.post(TOKEN, json={"phone": school["phone"], "code": code}, headers=MEMBER)
    assert r.status_code == 200, r.text


async def test_a_strangers_wrong_codes_do_not_use_up_the_members_code(proxied, db, school, texts):
    """Fifty wrong codes for the member's phone from another address (five counted, the
    rest 429) leave the member's code working."""
    code = await ask_code(proxied, school["phone"], texts, MEMBER)
    statuses = [(await proxied.post(TOKEN, json={"phone": school["phone"],
                                                 "code": wrong(code, n)}, headers=STRANGER)
                 ).status_code for n in range(1, 51)]
    assert statuses == [401] * 5 + [429] * 45
    r = await proxied.post(TOKEN, json={"phone": school["phone"], "code": code}, headers=MEMBER)
    assert r.status_code == 200, r.text


async def test_one_address_cannot_guess_beyond_its_budget(proxied, db, school, texts, clock):
    """Five wrong codes from an address in 15 minutes, then 429 with Retry-After even
    for the right code (nothing compared, nothing counted); the member, elsewhere, is
    not held back; the address may try again once the window has passed."""
    code = await ask_code(proxied, school["phone"], texts, MEMBER)
    for n in range(1, 6):
        r = await proxied.post(TOKEN, json={"phone": school["phone"], "code": wrong(code, n)},
                               headers=STRANGER)
        assert_problem(r, 401)
    clock.advance(minutes=1)
    r = await proxied.post(TOKEN, json={"phone": school["phone"], "code": code},
                           headers=STRANGER)
    assert "too many wrong codes tried; try again in 840 s" in assert_problem(r, 429)["detail"]
    assert r.headers["retry-after"] == "840"
    assert await db.fetchval("select count(*) from wrong_codes") == 5
    assert await db.fetchval("select count(*) from sessions") == 0
    r = await proxied.post(TOKEN, json={"phone": school["phone"], "code": code}, headers=MEMBER)
    assert r.status_code == 200, r.text
    clock.advance(minutes=14)
    r = await proxied.post(TOKEN, json={"phone": school["phone"], "code": wrong(code)},
                           headers=STRANGER)
    assert_problem(r, 401)  # a new try, compared and counted
    assert await db.fetchval("select count(*) from wrong_codes") == 6


async def test_an_ipv6_client_cannot_escape_its_budget_by_changing_address(
        proxied, db, school, texts):
    """Each wrong code from another address of one /64: still one client's five."""
    code = await ask_code(proxied, school["phone"], texts, MEMBER)
    statuses = [(await proxied.post(TOKEN, json={"phone": school["phone"],
                                                 "code": wrong(code, n)},
                                    headers=sender(f"2001:db8:1:2::{n:x}"))).status_code
                for n in range(1, 8)]
    assert statuses == [401] * 5 + [429] * 2
    assert await db.fetchval("select distinct client_address from wrong_codes") == (
        "2001:db8:1:2::/64")


async def test_only_live_codes_count(client, school, texts, clock):
    """An earlier code still works while it lives; a used one does not."""
    first = await ask_code(client, school["phone"], texts)
    clock.advance(seconds=61)
    second = await ask_code(client, school["phone"], texts)
    assert (await client.post(TOKEN, json={"phone": school["phone"], "code": first})
            ).status_code == 200
    if first != second:
        r = await client.post(TOKEN, json={"phone": school["phone"], "code": first})
        assert_problem(r, 401)
    r = await client.post(TOKEN, json={"phone": school["phone"], "code": second})
    assert r.status_code == 200


async def test_codes_per_phone_are_rate_limited(client, db, school, texts, clock):
    """A second code within a minute is 429 with Retry-After, and nothing is stored or sent."""
    await ask_code(client, school["phone"], texts)
    clock.advance(seconds=10)
    r = await client.post(OTP, json={"phone": school["phone"]})
    assert "try again in 50 s" in assert_problem(r, 429)["detail"]
    assert r.headers["retry-after"] == "50"
    assert await db.fetchval("select count(*) from auth_codes") == 1 and len(texts()) == 1
    clock.advance(seconds=50)
    assert (await client.post(OTP, json={"phone": school["phone"]})).status_code == 202


async def test_codes_per_client_address_are_rate_limited(client, db, texts, clock):
    """Sixty codes from one address in ten minutes (a school's Wi-Fi), then 429."""
    for n in range(60):
        r = await client.post(OTP, json={"phone": f"+1512555{n:04d}"})
        assert r.status_code == 202, (n, r.text)
        clock.advance(seconds=1)
    r = await client.post(OTP, json={"phone": "+15125559999"})
    assert_problem(r, 429)
    assert int(r.headers["retry-after"]) == 540


async def test_refresh_rotates_and_a_reused_token_ends_the_session(client, school, texts, clock):
    """Each refresh answers a new pair. Showing an exchanged refresh token again later
    means a copy is in other hands: the session ends, its tokens stop working."""
    tokens = await sign_in(client, school["phone"], texts)
    r = await client.post(TOKEN, json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200
    newer = r.json()
    assert newer["refresh_token"] != tokens["refresh_token"]
    assert (await client.get("/v1/me", headers=auth(newer))).status_code == 200
    clock.advance(seconds=11)
    stolen = await client.post(TOKEN, json={"refresh_token": tokens["refresh_token"]})
    assert_problem(stolen, 401)
    assert_problem(await client.post(TOKEN, json={"refresh_token": newer["refresh_token"]}), 401)
    assert_problem(await client.get("/v1/me", headers=auth(newer)), 401)


async def test_a_refresh_retried_at_once_is_not_theft(client, school, texts, clock):
    """A phone that lost the answer retries within seconds: it gets a working pair, and
    the pair it never received is void (shown later, it ends the session)."""
    tokens = await sign_in(client, school["phone"], texts)
    lost = (await client.post(TOKEN, json={"refresh_token": tokens["refresh_token"]})).json()
    clock.advance(seconds=3)
    retried = await client.post(TOKEN, json={"refresh_token": tokens["refresh_token"]})
    assert retried.status_code == 200
    kept = retried.json()
    clock.advance(seconds=30)
    assert (await client.post(TOKEN, json={"refresh_token": kept["refresh_token"]})
            ).status_code == 200
    assert_problem(await client.post(TOKEN, json={"refresh_token": lost["refresh_token"]}), 401)


async def test_a_refresh_token_expires(client, school, texts, clock, settings):
    tokens = await sign_in(client, school["phone"], texts)
    clock.advance(seconds=settings.refresh_token_ttl)
    assert_problem(await client.post(TOKEN, json={"refresh_token": tokens["refresh_token"]}),
                   401)


async def test_logout_ends_this_device_only(client, db, school, texts, clock):
    """Logout ends this sign-in, its access token and the phone it registered; another
    sign-in of the same person keeps working."""
    here = await sign_in(client, school["phone"], texts)
    clock.advance(seconds=61)
    there = await sign_in(client, school["phone"], texts)
    r = await client.post("/v1/me/devices", json={"platform": "ios", "push_token": "tok-here"},
                          headers=auth(here))
    assert r.status_code == 201
    assert (await client.post(LOGOUT, json={"refresh_token": here["refresh_token"]})
            ).status_code == 204
    assert_problem(await client.get("/v1/me", headers=auth(here)), 401)
    assert_problem(await client.post(TOKEN, json={"refresh_token": here["refresh_token"]}), 401)
    assert await db.fetchval("select count(*) from devices") == 0
    assert (await client.get("/v1/me", headers=auth(there))).status_code == 200


async def test_logout_everywhere_ends_every_sign_in(client, school, texts, clock):
    here = await sign_in(client, school["phone"], texts)
    clock.advance(seconds=61)
    there = await sign_in(client, school["phone"], texts)
    r = await client.post(LOGOUT, json={"refresh_token": here["refresh_token"],
                                        "everywhere": True})
    assert r.status_code == 204
    for tokens in (here, there):
        assert_problem(await client.get("/v1/me", headers=auth(tokens)), 401)
        assert_problem(await client.post(TOKEN, json={"refresh_token": tokens["refresh_token"]}),
                       401)


async def test_logout_with_an_unknown_token_says_nothing(client, db):
    r = await client.post(LOGOUT, json={"refresh_token": "not-a-token-we-issued"})
    assert r.status_code == 204


@pytest.mark.parametrize(("body", "field"), [
    ({}, "phone"),
    ({"phone": ""}, "phone"),
    ({"phone": "hello"}, "phone"),
    ({"phone": "+1 555"}, "phone"),
    ({"phone": 5125550100}, "phone"),
    ({"phone": "+15125550100", "email": "x@y.z"}, "email"),
], ids=["missing", "empty", "words", "too-short", "number", "unknown-field"])
async def test_a_bad_phone_is_400_and_nothing_is_sent(client, db, texts, body, field):
    assert_problem(await client.post(OTP, json=body), 400, field)
    assert await db.fetchval("select count(*) from auth_codes") == 0 and texts() == []


@pytest.mark.parametrize(("body", "field"), [
    ({}, "phone"),
    ({"phone": "+15125550100"}, "code"),
    ({"phone": "+15125550100", "code": "12345"}, "code"),
    ({"phone": "+15125550100", "code": "12345a"}, "code"),
    ({"phone": "+15125550100", "code": 123456}, "code"),
    ({"phone": "+15125550100", "code": "123456", "refresh_token": "abc"}, "refresh_token"),
    ({"refresh_token": ""}, "refresh_token"),
    ({"refresh_token": "has spaces"}, "refresh_token"),
    ({"refresh_token": "a" * 201}, "refresh_token"),
], ids=["empty", "no-code", "5-digits", "letter", "number", "both", "empty-refresh",
        "spaces", "long-refresh"])
async def test_a_malformed_token_request_is_400(client, db, body, field):
    assert_problem(await client.post(TOKEN, json=body), 400, field)
    assert await db.fetchval("select count(*) from sessions") == 0


async def test_sign_in_bodies_must_be_json_objects(client):
    for path in (OTP, TOKEN, LOGOUT):
        r = await client.post(path, content=b"phone=1", headers={"content-type": "text/plain"})
        assert_problem(r, 400)


async def test_codes_go_out_through_twilio_when_configured(db, database_url, clock, tmp_path,
                                                           school):
    """With Twilio credentials the code is an SMS through the real SDK (here, to a fake)."""
    with FakeTwilio() as fake:
        settings = Settings(data_dir=str(tmp_path), jwt_secret=SECRET,
                            twilio_account_sid=fake.account_sid,
                            twilio_auth_token=fake.auth_token, twilio_from="+15005550006",
                            twilio_api_url=fake.base_url)
        app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                         dispatch=False)
        async with AsyncTestClient(app) as client:
            assert (await client.post(OTP, json={"phone": school["phone"]})).status_code == 202
        [sms] = fake.messages
    assert sms.to == school["phone"] and re.match(r"\d{6} is your Muster", sms.body)


# -- browsers: the session in a cookie, CSRF on every change --

BROWSER = "/v1/auth/browser"


async def browser_sign_in(client, phone: str, texts) -> dict:
    code = await ask_code(client, phone, texts)
    r = await client.post(BROWSER, json={"phone": phone, "code": code})
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_browser_signs_in_into_a_cookie_scripts_cannot_read(client, school, texts):
    """The session is an HttpOnly, SameSite=Strict cookie (not Secure over http); the
    answer has the CSRF token and who signed in, and no token a script could steal."""
    body = await browser_sign_in(client, school["phone"], texts)
    assert set(body) == {"csrf_token", "expires_in", "user"}
    assert body["expires_in"] == 12 * 3600
    [cookie] = client.cookies.jar
    assert cookie.name == "muster_session" and not cookie.secure
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite").lower() == "strict"
    me = await client.get("/v1/me")
    assert me.status_code == 200 and me.json()["id"] == str(school["teacher"])


async def test_a_cookie_is_secure_when_muster_is_reached_over_https(db, database_url, clock,
                                                                    tmp_path, school, texts):
    settings = Settings(data_dir=str(tmp_path), jwt_secret=SECRET,
                        public_url="https://muster.example.org")
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                     dispatch=False)
    async with AsyncTestClient(app) as client:
        code = await ask_code(client, school["phone"], texts)
        r = await client.post(BROWSER, json={"phone": school["phone"], "code": code})
    assert r.status_code == 200, r.text
    assert "; secure" in r.headers["set-cookie"].lower()


async def test_a_change_with_the_cookie_alone_needs_the_csrf_token(client, db, school, texts):
    """Another site's form or script can make the browser send the cookie, but cannot read
    the CSRF token: without it (or with a wrong one) nothing changes; with it, it does."""
    csrf = (await browser_sign_in(client, school["phone"], texts))["csrf_token"]
    before = await db.fetchval("select name from users where id = $1", school["teacher"])
    for headers in ({}, {"X-CSRF-Token": "x" * len(csrf)}, {"X-CSRF-Token": ""}):
        r = await client.patch("/v1/me", json={"name": "Mallory"}, headers=headers)
        assert_problem(r, 403)
        assert "X-CSRF-Token" in r.json()["detail"]
    assert await db.fetchval("select name from users where id = $1", school["teacher"]) == before
    r = await client.patch("/v1/me", json={"name": "Ms. Ortiz"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text


async def test_a_bearer_token_needs_no_csrf_token_even_beside_a_cookie(client, school, texts):
    """Apps send the Authorization header, which no other site can set; a browser cookie
    of someone else beside it changes nothing."""
    await browser_sign_in(client, school["phone"], texts)
    r = await client.patch("/v1/me", json={"name": "Ms. Ortiz"}, headers=bearer(school["teacher"]))
    assert r.status_code == 200, r.text


async def test_an_operator_token_in_a_cookie_cannot_change_anything(client, school):
    """`muster token`'s tokens have no session, hence no CSRF token: in a cookie they are
    refused for changes (a browser never holds one)."""
    client.cookies.set("muster_session", bearer(school["teacher"])["Authorization"][7:])
    assert (await client.get("/v1/me")).status_code == 200
    assert_problem(await client.patch("/v1/me", json={"name": "X"},
                                      headers={"X-CSRF-Token": "anything"}), 401)


async def test_signing_a_browser_out_ends_its_session(client, school, texts, clock):
    csrf = (await browser_sign_in(client, school["phone"], texts))["csrf_token"]
    r = await client.delete("/v1/me/session", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert 'muster_session=""' in r.headers["set-cookie"] or "max-age=0" in r.headers[
        "set-cookie"].lower()
    client.cookies.clear()
    clock.advance(minutes=1)  # one code a minute
    code = await ask_code(client, school["phone"], texts)
    r = await client.post(BROWSER, json={"phone": school["phone"], "code": code})
    old = client.cookies["muster_session"]
    await client.delete("/v1/me/session", headers={"X-CSRF-Token": r.json()["csrf_token"]})
    client.cookies.set("muster_session", old)  # a copy kept from before the sign-out
    assert_problem(await client.get("/v1/me"), 401)


async def test_an_operator_token_has_no_session_to_end(client, school):
    """...and still works after a sign-out, until it expires."""
    headers = bearer(school["teacher"])
    assert (await client.delete("/v1/me/session", headers=headers)).status_code == 204
    assert (await client.get("/v1/me", headers=headers)).status_code == 200


async def test_another_sites_form_cannot_sign_a_browser_into_its_account(client, school, texts):
    """A form posts text/plain or urlencoded, never JSON: a body that is JSON all the same
    (the attacker's own phone and code) is refused, and no cookie is set."""
    code = await ask_code(client, school["phone"], texts)
    body = f'{{"phone": "{school["phone"]}", "code": "{code}"}}'.encode()
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        r = await client.post(BROWSER, content=body, headers={"content-type": kind})
        assert_problem(r, 400, "content-type")
        assert "set-cookie" not in r.headers
    r = await client.post(BROWSER, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text  # the code was not used up by the refusals
