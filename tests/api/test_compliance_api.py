"""Drill log, compliance, school-year dates and rule packs over HTTP: what each role sees,
what another tenant cannot, and that refused requests store nothing."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.conftest import bearer

YEAR = "2026-2027"


async def event(db, school_id: uuid.UUID, by: uuid.UUID, at: datetime, action: str = "lockdown",
                *, drill: bool = True, status: str = "all_clear", purpose: str | None = None,
                hazard: str | None = None, location: str | None = None) -> uuid.UUID:
    """An event straight into the database, ended 10 minutes after it started."""
    event_id = uuid.uuid4()
    location = location or ("Football field" if action == "evacuate" else None)
    await db.execute(
        """insert into events (id, school_id, action, drill, status, directive, location,
                               hazard, purpose, started_at, started_by, ended_at, ended_by)
           values ($1, $2, $3, $4, $5, 'Do it.', $6, $7, $8, $9, $10, $11, $10)""",
        event_id, school_id, action, drill, status, location, hazard, purpose, at, by,
        None if status == "active" else at + timedelta(minutes=10))
    return event_id


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
async def w(db):
    """A Texas district with two schools (America/Chicago, school year from Aug 1), people
    in every role at the first, a principal at the second, and another district."""
    d, other_d = await factories.district(db), await factories.district(db, "Other ISD")
    s, sibling = await factories.school(db, d), await factories.school(db, d, "Sibling High")
    other_s = await factories.school(db, other_d, "Other High")
    people = {role: await factories.person(db, d, s, role)
              for role in ("teacher", "staff", "sro", "principal")}
    return {"district": d, "school": s, "sibling": sibling, "other_district": other_d,
            "other_school": other_s, **people,
            "admin": await factories.person(db, d, None, "district_admin"),
            "sibling_principal": await factories.person(db, d, sibling, "principal"),
            "outsider": await factories.person(db, other_d, None, "district_admin")}


# ---------------------------------------------------------------- school years

def year_path(w, school="school", year=YEAR) -> str:
    return f"/v1/schools/{w[school]}/school-years/{year}"


async def test_a_school_without_dates_gets_the_default(client, w):
    """The default year runs from the school's start (Aug 1) to Jul 31, semester 2 halfway."""
    r = await client.get(year_path(w), headers=bearer(w["sro"]))
    assert r.status_code == 200, r.text
    assert r.json() == {"school_id": str(w["school"]), "school_year": YEAR,
                        "first_day": "2026-08-01", "last_day": "2027-07-31",
                        "second_semester_start": "2027-01-30", "grade_band": None,
                        "source": "default"}


@pytest.mark.parametrize("who", ["principal", "admin"])
async def test_an_administrator_sets_the_dates(client, w, who):
    """A principal or district admin sets the year's dates; later reads return them."""
    body = {"first_day": "2026-08-17", "last_day": "2027-05-28", "grade_band": "secondary"}
    r = await client.put(year_path(w), json=body, headers=bearer(w[who]))
    assert r.status_code == 200, r.text
    expected = {"school_id": str(w["school"]), "school_year": YEAR, "first_day": "2026-08-17",
                "last_day": "2027-05-28", "second_semester_start": "2027-01-06",
                "grade_band": "secondary", "source": "school"}
    assert r.json() == expected
    assert (await client.get(year_path(w), headers=bearer(w["sro"]))).json() == expected
    r = await client.put(year_path(w), json={}, headers=bearer(w[who]))  # back to the dates
    assert r.json()["first_day"] == "2026-08-01" and r.json()["grade_band"] is None


@pytest.mark.parametrize(("who", "status"), [("teacher", 403), ("staff", 403), ("sro", 403),
                                             ("sibling_principal", 404), ("outsider", 404)])
async def test_who_may_not_set_the_dates(client, w, db, who, status):
    """Only administrators of the school set its dates; others of another school get 404."""
    r = await client.put(year_path(w), json={"first_day": "2026-08-17"}, headers=bearer(w[who]))
    assert r.status_code == status, r.text
    assert await db.fetchval("select count(*) from school_years") == 0


@pytest.mark.parametrize(("year", "body", "field"), [
    ("2026", {}, "school_year"),
    ("2026-2028", {}, "school_year"),
    ("abc", {}, "school_year"),
    (YEAR, {"first_day": "2027-08-17"}, "first_day"),
    (YEAR, {"first_day": "2026-08-17", "last_day": "2026-08-10"}, "last_day"),
    (YEAR, {"second_semester_start": "2026-08-02"}, "second_semester_start"),
    (YEAR, {"first_day": "17/08/2026"}, "first_day"),
    (YEAR, {"grade_band": "college"}, "grade_band"),
    (YEAR, {"holidays": []}, "holidays"),
])
async def test_bad_dates_are_400_naming_the_field(client, w, db, year, body, field):
    """A malformed school year, impossible or malformed dates and unknown fields are 400s
    naming the field; nothing is stored."""
    r = await client.put(year_path(w, year=year), json=body, headers=bearer(w["principal"]))
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await db.fetchval("select count(*) from school_years") == 0


@pytest.mark.parametrize(("who", "status"), [("teacher", 403), ("outsider", 404)])
async def test_reading_the_dates_needs_read_reports(client, w, who, status):
    """Teachers may not read the compliance dates; another district's admin gets 404."""
    r = await client.get(year_path(w), headers=bearer(w[who]))
    assert r.status_code == status


# ---------------------------------------------------------------- drill log

@pytest.fixture
async def log(w, db):
    """Events of 2026-2027 at the school (and one each side of it), one at the sibling."""
    by, s = w["sro"], w["school"]
    ids = {
        "before": await event(db, s, by, utc(2026, 7, 31, 16)),  # 2025-2026
        "fire": await event(db, s, by, utc(2026, 9, 1, 15), "evacuate", purpose="fire",
                            location="=HYPERLINK(\"http://x\")"),
        "real": await event(db, s, by, utc(2026, 10, 5, 15), drill=False),
        "cancelled": await event(db, s, by, utc(2026, 10, 6, 15), status="cancelled"),
        # 23:30 on Jul 31 in Chicago is Aug 1 in UTC: still 2026-2027 there
        "last_night": await event(db, s, by, utc(2027, 8, 1, 4, 30), "secure"),
        "after": await event(db, s, by, utc(2027, 8, 1, 15)),  # 2027-2028
        "sibling": await event(db, w["sibling"], w["sibling_principal"], utc(2026, 9, 2, 15)),
    }
    return {k: str(v) for k, v in ids.items()}


def log_path(w, scope="school") -> str:
    kind = "schools" if scope == "school" else "districts"
    return f"/v1/{kind}/{w[scope]}/drill-log"


async def test_drill_log_is_the_school_years_events_oldest_first(client, w, log):
    """Drills and real events of every status, started in the year at the school's clock."""
    r = await client.get(log_path(w), params={"school_year": YEAR}, headers=bearer(w["sro"]))
    assert r.status_code == 200, r.text
    page = r.json()
    assert [e["id"] for e in page["items"]] == [log["fire"], log["real"], log["cancelled"],
                                                log["last_night"]]
    assert page["school_year"] == YEAR and page["next_cursor"] is None
    fire = page["items"][0]
    assert fire | {"started_by": None} == {
        "id": log["fire"], "school_id": str(w["school"]), "school_name": "Test High",
        "date": "2026-09-01", "started_at": "2026-09-01T15:00:00Z",
        "ended_at": "2026-09-01T15:10:00Z", "duration_s": 600, "action": "evacuate",
        "hazard": None, "purpose": "fire", "drill": True, "status": "all_clear",
        "location": "=HYPERLINK(\"http://x\")", "started_by": None,
        "started_by_name": fire["started_by_name"], "end_reason": None}
    assert page["items"][3]["date"] == "2027-07-31"


async def test_drill_log_pages_follow_the_cursor(client, w, log):
    """Following next_cursor visits every event of the year once, in order."""
    seen, cursor = [], None
    while True:
        params = {"school_year": YEAR, "limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(log_path(w), params=params, headers=bearer(w["sro"]))).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [log["fire"], log["real"], log["cancelled"], log["last_night"]]


async def test_drill_log_as_csv(client, w, log):
    """CSV: a header, one row per event, and no cell a spreadsheet would run."""
    r = await client.get(log_path(w), params={"school_year": YEAR, "format": "csv"},
                         headers=bearer(w["principal"]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert f"drill-log-{w['school']}-{YEAR}.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in rows] == [log["fire"], log["real"], log["cancelled"],
                                           log["last_night"]]
    assert rows[0]["location"] == "'=HYPERLINK(\"http://x\")"
    assert (rows[0]["drill"], rows[1]["drill"], rows[0]["hazard"]) == ("true", "false", "")
    assert rows[0]["date"] == "2026-09-01" and rows[0]["duration_s"] == "600"


async def test_district_drill_log_merges_its_schools(client, w, log):
    """A district admin sees every school's events, oldest first, and no other district's."""
    r = await client.get(log_path(w, "district"), params={"school_year": YEAR},
                         headers=bearer(w["admin"]))
    assert r.status_code == 200, r.text
    assert [e["id"] for e in r.json()["items"]] == [log["fire"], log["sibling"], log["real"],
                                                    log["cancelled"], log["last_night"]]


@pytest.mark.parametrize("scope", ["school", "district"])
@pytest.mark.parametrize("params", [{"school_year": "2026"}, {"school_year": "2026-2028"},
                                    {"school_year": "abc"}, {},
                                    {"school_year": YEAR, "format": "xml"},
                                    {"school_year": YEAR, "limit": 0},
                                    {"school_year": YEAR, "cursor": "bm90LWEtY3Vyc29y"}])
async def test_bad_log_parameters_are_400_naming_the_field(client, w, scope, params):
    """A malformed or missing school year, an unknown format, a bad page: 400 naming it."""
    r = await client.get(log_path(w, scope), params=params, headers=bearer(w["admin"]))
    assert r.status_code == 400, r.text
    fields = [e["field"] for e in r.json()["errors"]]
    bad = next((k for k in params if k != "school_year"), "school_year")
    assert fields == [bad]


@pytest.mark.parametrize(("scope", "who", "status"), [
    ("school", "teacher", 403), ("school", "staff", 403), ("school", "outsider", 404),
    ("school", "sibling_principal", 404), ("district", "principal", 403),
    ("district", "teacher", 403), ("district", "outsider", 404),
])
@pytest.mark.parametrize("what", ["drill-log", "compliance"])
async def test_who_may_not_read_the_log_or_compliance(client, w, log, scope, who, status, what):
    """Teachers are refused (403); another tenant's school or district is a 404 that says
    nothing of it; district routes are for that district's admins only."""
    kind = "schools" if scope == "school" else "districts"
    r = await client.get(f"/v1/{kind}/{w[scope]}/{what}", params={"school_year": YEAR},
                         headers=bearer(w[who]))
    assert r.status_code == status, r.text
    assert "Test High" not in r.text and "Sibling" not in r.text


@pytest.mark.parametrize("what", ["drill-log", "compliance"])
async def test_unknown_school_or_district_is_404(client, w, what):
    """An id that does not exist answers like another tenant's."""
    for kind in ("schools", "districts"):
        r = await client.get(f"/v1/{kind}/{uuid.uuid4()}/{what}", params={"school_year": YEAR},
                             headers=bearer(w["admin"]))
        assert r.status_code == 404


# ---------------------------------------------------------------- compliance

@pytest.fixture
async def drills(w, db):
    """A Texas autumn: two fire drills, a lockdown, a secure, a tornado shelter; a real
    and a cancelled lockdown that do not count; the sibling school did nothing."""
    by, s = w["sro"], w["school"]
    return {
        "fire1": await event(db, s, by, utc(2026, 9, 1, 15), "evacuate", purpose="fire"),
        "fire2": await event(db, s, by, utc(2026, 10, 1, 15), "evacuate", purpose="fire"),
        "lockdown": await event(db, s, by, utc(2026, 9, 15, 15)),
        "secure": await event(db, s, by, utc(2026, 10, 10, 15), "secure"),
        "tornado": await event(db, s, by, utc(2026, 11, 2, 15), "shelter", hazard="tornado"),
        "real": await event(db, s, by, utc(2026, 11, 3, 15), drill=False),
        "cancelled": await event(db, s, by, utc(2026, 11, 4, 15), status="cancelled"),
    }


def compliance_path(w, scope="school") -> str:
    kind = "schools" if scope == "school" else "districts"
    return f"/v1/{kind}/{w[scope]}/compliance"


async def test_school_compliance_against_the_texas_pack(client, w, drills, db):
    """As of Nov 29 (default dates: S1 ends Jan 29), each Texas requirement counts the
    right drills and says where it stands."""
    r = await client.get(compliance_path(w), params={"school_year": YEAR},
                         headers=bearer(w["principal"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["today"], body["status"], body["dates"]["source"]) == ("2026-11-29",
                                                                        "on_track", "default")
    assert [p["id"] for p in body["packs"]] == ["tx"]
    found = {q["id"]: (q["conducted"], q["required"], q["status"], q["next_due"])
             for q in body["requirements"]}
    assert found == {
        "tx/secure": (1, 1, "met", None),
        "tx/lockdown": (1, 2, "on_track", "2027-07-31"),
        "tx/evacuation": (0, 1, "on_track", "2027-07-31"),
        "tx/shelter_hazmat": (0, 1, "on_track", "2027-07-31"),
        "tx/severe_weather": (1, 1, "met", None),
        "tx/fire": (2, 4, "on_track", "2027-07-31"),
    }
    fire = next(q for q in body["requirements"] if q["id"] == "tx/fire")
    assert fire["periods"][0]["event_ids"] == [str(drills["fire1"]), str(drills["fire2"])]
    assert (fire["periods"][0]["label"], fire["periods"][0]["due"]) == ("S1", "2027-01-29")


async def test_compliance_follows_the_schools_dates_and_the_clock(client, w, drills, clock):
    """With its own dates (S1 ending Jan 4), the lockdown of S1 is met and tx/shelter_hazmat
    is overdue once the year is over."""
    await client.put(year_path(w), json={"first_day": "2026-08-17", "last_day": "2027-05-28",
                                         "second_semester_start": "2027-01-05"},
                     headers=bearer(w["principal"]))
    clock.now = utc(2027, 6, 1, 12)
    body = (await client.get(compliance_path(w), params={"school_year": YEAR},
                             headers=bearer(w["sro"]))).json()
    found = {q["id"]: q["status"] for q in body["requirements"]}
    assert found["tx/shelter_hazmat"] == "overdue" and body["status"] == "overdue"
    assert body["today"] == "2027-06-01" and body["dates"]["last_day"] == "2027-05-28"


async def test_district_compliance_rolls_up_every_school(client, w, drills):
    """Per school: worst status, counts by status, what needs attention; and totals."""
    r = await client.get(compliance_path(w, "district"), params={"school_year": YEAR},
                         headers=bearer(w["admin"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["school_name"] for s in body["schools"]] == ["Sibling High", "Test High"]
    sibling, school = body["schools"]
    assert school["requirements"] == {"met": 2, "on_track": 4, "due_soon": 0, "overdue": 0}
    assert sibling["requirements"] == {"met": 0, "on_track": 6, "due_soon": 0, "overdue": 0}
    assert body["requirements"] == {"met": 2, "on_track": 10, "due_soon": 0, "overdue": 0}
    assert body["status"] == "on_track" and school["attention"] == []


# ---------------------------------------------------------------- rule packs

MONTHLY_FIRE = {
    "id": "district", "title": "Riverbend ISD board policy", "jurisdiction": "Riverbend ISD",
    "replaces": ["tx/fire"],
    "rules": [{"id": "fire_monthly", "title": "A fire drill each month",
               "citation": "Board policy CKC(LOCAL); fire marshal letter of 2026-07-01",
               "period": "month", "required": 1,
               "counts": {"actions": ["evacuate"], "purposes": ["fire"]}}],
}


def pack_path(w, district="district") -> str:
    return f"/v1/districts/{w[district]}/rule-pack"


async def test_a_district_sets_its_own_rule_pack(client, w, drills, db):
    """The district's pack is stored, read back, and applied to its schools' compliance:
    its rule replaces tx/fire."""
    headers = bearer(w["admin"])
    assert (await client.get(pack_path(w), headers=headers)).status_code == 404
    r = await client.put(pack_path(w), json=MONTHLY_FIRE, headers=headers)
    assert r.status_code == 200, r.text
    got = (await client.get(pack_path(w), headers=headers)).json()
    assert got["rules"][0]["id"] == "fire_monthly" and got["replaces"] == ["tx/fire"]
    body = (await client.get(compliance_path(w), params={"school_year": YEAR},
                             headers=bearer(w["sro"]))).json()
    ids = [q["id"] for q in body["requirements"]]
    assert "tx/fire" not in ids and "district/fire_monthly" in ids
    monthly = next(q for q in body["requirements"] if q["id"] == "district/fire_monthly")
    assert monthly["status"] == "overdue"  # August had no fire drill
    assert [p["id"] for p in body["packs"]] == ["tx", "district"]


@pytest.mark.parametrize(("change", "field"), [
    ({"id": "tx"}, "id"),
    ({"replaces": ["tx/nothing"]}, "replaces[0]"),
    ({"rules": [MONTHLY_FIRE["rules"][0] | {"required": 0}]}, "rules[0].required"),
    ({"rules": [MONTHLY_FIRE["rules"][0] | {"deadline": "12-31"}]}, "rules[0].deadline"),
    ({"rules": [MONTHLY_FIRE["rules"][0] | {"when": "always"}]}, "rules[0].when"),
    ({"rules": "all of them"}, "rules"),
])
async def test_a_broken_rule_pack_is_400_and_not_stored(client, w, db, change, field):
    """A pack that is malformed or contradicts itself is refused naming where; nothing is
    stored."""
    r = await client.put(pack_path(w), json=MONTHLY_FIRE | change, headers=bearer(w["admin"]))
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await db.fetchval("select count(*) from district_rule_packs") == 0


@pytest.mark.parametrize(("who", "status"), [("principal", 403), ("sro", 403),
                                             ("teacher", 403), ("outsider", 404)])
async def test_only_the_districts_admins_set_its_rule_pack(client, w, db, who, status):
    """School staff are refused (403); another district's admin gets 404; nothing stored."""
    r = await client.put(pack_path(w), json=MONTHLY_FIRE, headers=bearer(w[who]))
    assert r.status_code == status, r.text
    r = await client.get(pack_path(w), headers=bearer(w[who]))
    assert r.status_code == status
    assert await db.fetchval("select count(*) from district_rule_packs") == 0


async def test_built_in_packs_are_listed_for_anyone_signed_in(client, w):
    """Every signed-in user can read the built-in packs and their sources, page by page."""
    r = await client.get("/v1/rule-packs", params={"limit": 3}, headers=bearer(w["teacher"]))
    assert r.status_code == 200, r.text
    first = r.json()
    assert [p["id"] for p in first["items"]] == ["ca", "il", "ny"]
    r = await client.get("/v1/rule-packs", params={"cursor": first["next_cursor"]},
                         headers=bearer(w["teacher"]))
    assert [p["id"] for p in r.json()["items"]] == ["oh", "tx"]
    assert all(p["verified"] and p["not_verified"] for p in r.json()["items"])
    assert (await client.get("/v1/rule-packs")).status_code == 401


# ---------------------------------------------------------------- the schema's own rules

async def test_only_an_evacuation_has_a_purpose(db, w):
    """The database refuses a purpose on any other action, and an unknown purpose."""
    import asyncpg

    with pytest.raises(asyncpg.CheckViolationError, match="events_purpose_only_on_evacuate"):
        await event(db, w["school"], w["sro"], utc(2026, 9, 1), "lockdown", purpose="fire")
    with pytest.raises(asyncpg.CheckViolationError):
        await event(db, w["school"], w["sro"], utc(2026, 9, 1), "evacuate", purpose="flood")
