"""The browser pages' plumbing: signing in to see a page, the pages' headers, the
fingerprinted static files, and CORS (none unless configured)."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import Settings
from tests import factories
from tests.conftest import SECRET


async def test_a_page_without_a_session_sends_the_browser_to_sign_in(client):
    r = await client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/"
    r = await client.get("/signin")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'id="phone"' in r.text and "<label for=\"phone\">Phone</label>" in r.text


async def test_home_lists_the_schools_of_the_signed_in_person_only(client, db):
    mine = await factories.staffed_school(db, "principal")
    other = await factories.staffed_school(db, "principal")
    await db.execute("update schools set name = $2 where id = $1", mine["id"], "Cedar <Elem>")
    session = await factories.browser_session(db, mine["principal"])
    client.cookies.set("muster_session", session.cookie)
    r = await client.get("/")
    assert r.status_code == 200, r.text
    assert f'href="/schools/{mine["id"]}"' in r.text and "Cedar &lt;Elem&gt;" in r.text
    assert str(other["id"]) not in r.text
    assert f'<meta name="csrf-token" content="{session.csrf}">' in r.text


async def test_pages_allow_no_inline_script_no_other_origin_and_send_no_referrer(client):
    r = await client.get("/signin")
    policy = r.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text  # every script is a file of ours


async def test_static_files_are_fingerprinted_kept_a_year_and_gzipped(client):
    page = (await client.get("/signin")).text
    css = re.search(r'href="(/static/muster\.[0-9a-f]{8}\.css)"', page).group(1)
    r = await client.get(css, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-encoding"] == "gzip" and ":root" in r.text
    plain = await client.get(css, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content.startswith(b"/* Muster")  # the file as it is
    r = await client.get("/static/muster.00000000.css")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await client.get("/static/../api/app.py")).status_code == 404


async def test_no_other_origin_may_call_the_api_unless_configured(client, db, database_url,
                                                                  clock, tmp_path):
    preflight = {"Origin": "https://app.example.org", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    r = await client.options("/v1/me", headers=preflight)
    assert "access-control-allow-origin" not in r.headers
    settings = Settings(data_dir=str(tmp_path), jwt_secret=SECRET,
                        cors_origins="https://app.example.org")
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                     dispatch=False)
    async with AsyncTestClient(app) as other:
        r = await other.options("/v1/me", headers=preflight)
        assert r.status_code in (200, 204), r.text
        assert r.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "access-control-allow-credentials" not in r.headers
        r = await other.options("/v1/me", headers=preflight | {"Origin": "https://evil.example"})
        assert r.headers.get("access-control-allow-origin") != "https://evil.example"


async def test_pages_are_gzipped_and_the_api_is_not(client, db):
    school = await factories.staffed_school(db, "principal", room_count=30)
    session = await factories.browser_session(db, school["principal"])
    client.cookies.set("muster_session", session.cookie)
    page = await client.get("/signin", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "Sign in" in page.text
    api = await client.get(f"/v1/schools/{school['id']}/rooms",
                           headers={"Accept-Encoding": "gzip"})
    assert api.status_code == 200 and len(api.content) > 1000  # past gzip's minimum size
    assert "content-encoding" not in api.headers
