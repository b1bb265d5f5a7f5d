"""Every paginated list refuses a cursor it did not hand out with a 400 naming `cursor`:
a NUL where a name goes, a number out of its column's range, the wrong type or arity,
text that is not base64, or one too long. A real cursor always works, long names too."""

from __future__ import annotations

import base64
import uuid
from urllib.parse import parse_qsl

import pytest

from tests import factories
from tests.api.test_bad_input import assert_problem
from tests.conftest import T0, bearer


def cursor(raw: bytes | str) -> str:
    raw = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


U = str(uuid.uuid4())
# Hostile keys by the kind of key a list is ordered by.
BY_NAME = [f'["\\u0000", "{U}"]', f'["a\\u0000b", "{U}"]', '["a", "not-a-uuid"]',
           f'[5, "{U}"]', f'["{"x" * 201}", "{U}"]', '["a"]', f'["a", "{U}", 1]']
BY_TIME = [f'["\\u0000", "{U}"]', f'["0001-01-01T00:00:00+01:00", "{U}"]',
           f'["9999-12-31T23:59:59-23:59", "{U}"]', f'["2026-11-29T08:00:00", "{U}"]',
           f'[1764403200, "{U}"]', '["2026-11-29T08:00:00Z"]']
NUMBERS = ['[0]', '[-1]', '["1"]', '[1.5]', '[true]', '[null]', '[1, 2]', f'["\\u0000", "{U}"]',
           '[1e400]', f'[{"9" * 300}]']
BY_SEQ = ['[2147483648]', *NUMBERS]
BY_ID = [f'[{2**63}]', *NUMBERS]
BY_SLUG = ['["\\u0000"]', '[5]', f'["{"x" * 201}"]', '["tx", "ca"]']
ANY = ["!!!", "A" * 1201, cursor("[" * 800), cursor("{}"), cursor("[]"), cursor("null"),
       cursor('"x"'), cursor(b"\xff\xfe"), cursor(b"[1"), "%00"]

LISTS = [
    pytest.param("/v1/schools", BY_NAME, id="schools"),
    pytest.param("/v1/schools/{school}/rooms", BY_NAME, id="rooms"),
    pytest.param("/v1/schools/{school}/staff", BY_NAME, id="staff"),
    pytest.param("/v1/schools/{school}/events", BY_TIME, id="events"),
    pytest.param("/v1/schools/{school}/drill-log?school_year=2026-2027", BY_TIME,
                 id="school-drill-log"),
    pytest.param("/v1/districts/{district}/drill-log?school_year=2026-2027", BY_TIME,
                 id="district-drill-log"),
    pytest.param("/v1/events/{event}/timeline", BY_SEQ, id="timeline"),
    pytest.param("/v1/events/{event}/deliveries", BY_ID, id="deliveries"),
    pytest.param("/v1/schools/{school}/audit", BY_ID, id="audit"),
    pytest.param("/v1/rule-packs", BY_SLUG, id="rule-packs"),
]


@pytest.fixture
async def district_admin(db):
    """A district admin of a school with a room and an active lockdown."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    await factories.rooms(db, s, 1)
    admin = await factories.person(db, d, None, "district_admin")
    event = await factories.lockdown(db, s, admin, T0)
    return admin, {"district": d, "school": s, "event": event}


@pytest.mark.parametrize("path, hostile", LISTS)
async def test_a_forged_cursor_is_400_naming_the_cursor(client, district_admin, path, hostile):
    """Each list decodes its cursor against its own key: nothing forged reaches SQL."""
    admin, ids = district_admin
    url, _, query = path.format(**ids).partition("?")
    params = dict(parse_qsl(query))
    assert (await client.get(url, params=params, headers=bearer(admin))).status_code == 200
    for c in [cursor(raw) for raw in hostile] + ANY:
        r = await client.get(url, params=params | {"cursor": c}, headers=bearer(admin))
        assert_problem(r, 400, "cursor")


async def test_a_cursor_after_a_long_name_in_any_script_is_accepted(client, db):
    """A page that ends on a 200-character name in Chinese (600 bytes) hands out a cursor
    of ~850 characters; it is accepted back and leads to the next page."""
    d = await factories.district(db)
    names = ["漢" * 199 + "a", "漢" * 199 + "b"]
    for name in names:
        await factories.school(db, d, name)
    admin = await factories.person(db, d, None, "district_admin")
    first = (await client.get("/v1/schools", params={"limit": 1}, headers=bearer(admin))).json()
    r = await client.get("/v1/schools", params={"limit": 1, "cursor": first["next_cursor"]},
                         headers=bearer(admin))
    assert r.status_code == 200, r.text
    assert [s["name"] for s in first["items"] + r.json()["items"]] == names
