"""Reunification over HTTP: opening it (once; one open per school) and the guardians'
texts, students and adults at the site, every rule of a release (restriction, an adult not
listed, an ID not seen, a double release, a race, another school), approvals, the close,
the record, and the audit entry of every read and step."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from domain.alerts import SMS_SEGMENTS, sms_segments
from tests import factories
from tests.conftest import bearer

R = "/v1/reunifications"


async def _world(db) -> dict:
    """Riverbend High (an SRO, a principal, a teacher, a staff member): Ana Diaz with
    her mother Maria Diaz (Spanish, a phone) and a no-contact order against Jorge Diaz;
    Ben Cole with his father Sam Cole (English, a phone), who is also Cara Cole's; and
    another school of the district with its principal and a student."""
    school = await factories.staffed_school(db, "sro", "principal", "teacher", "staff")
    await db.execute("update schools set name = 'Riverbend High' where id = $1", school["id"])
    ana, ben, cara = await factories.students(db, school["id"], 3)
    await db.executemany("update students set given_name = $2, family_name = $3 where id = $1",
                         [(ana, "Ana", "Diaz"), (ben, "Ben", "Cole"), (cara, "Cara", "Cole")])
    maria = await factories.guardian(db, school["id"], ana, "Maria Diaz", phone="+15125550101",
                                     relationship="mother", language="es")
    sam = await factories.guardian(db, school["id"], ben, "Sam Cole", phone="+15125550102",
                                   relationship="father")
    await db.execute("insert into student_guardians (student_id, guardian_id, school_id, "
                     "relationship) values ($1, $2, $3, 'father')", cara, sam, school["id"])
    await db.execute(
        "insert into student_restrictions (id, student_id, school_id, kind, adult_name, note) "
        "values ($1, $2, $3, 'no_contact', 'Jorge Diaz', 'Court order 2025-114')",
        uuid.uuid4(), ana, school["id"])
    other = await factories.staffed_school(db, "principal", district_id=school["district"])
    [foreign] = await factories.students(db, other["id"], 1)
    return school | {"ana": ana, "ben": ben, "cara": cara, "maria": maria, "sam": sam,
                     "other": other, "foreign": foreign}


async def _open(client, w, who="sro", **body) -> dict:
    body = {"site": "Riverbend Middle School gym", "address": "12 Oak St"} | body
    r = await client.post(f"/v1/schools/{w['id']}/reunifications", json=body,
                          headers=bearer(w[who]))
    assert r.status_code == 201, r.text
    return r.json()


async def _arrive(client, w, rid, student, who="teacher"):
    return await client.post(f"{R}/{rid}/students", json={"student_id": str(student)},
                             headers=bearer(w[who]))


async def _adult(client, w, rid, students, who="staff", **body):
    body = {"name": "Maria Diaz", "id_seen": True,
            "student_ids": [str(s) for s in students]} | body
    return await client.post(f"{R}/{rid}/adults", json=body, headers=bearer(w[who]))


async def _release(client, w, rid, student, adult_id, who="staff", **body):
    return await client.post(f"{R}/{rid}/releases", headers=bearer(w[who]),
                             json={"student_id": str(student), "adult_id": adult_id} | body)


async def _audit(db, kind: str) -> list:
    return await db.fetch("select actor_id, detail from admin_audit where kind = $1 "
                          "order by id", kind)


async def _site(client, db, w) -> tuple[str, str]:
    """An open reunification with Ana at the site and her mother checked in."""
    rid = (await _open(client, w))["id"]
    assert (await _arrive(client, w, rid, w["ana"])).status_code == 201
    r = await _adult(client, w, rid, [w["ana"]], guardian_id=str(w["maria"]),
                     relationship="mother")
    assert r.status_code == 201, r.text
    return rid, r.json()["adult"]["id"]


def _refused(r, reason: str) -> dict:
    assert r.status_code == 409, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == f"urn:muster:problem:release-{reason}", problem
    return problem


async def test_opening_texts_each_guardian_once_in_their_language_naming_no_student(
        client, db):
    """One SMS per guardian with a phone (Sam once, for two children), in their language,
    at most two segments, naming the school, the site, its address and photo ID, and no
    student; no link."""
    w = await _world(db)
    opened = await _open(client, w)
    rows = await db.fetch("select guardian_id, phone, body, kind, channel, event_id, user_id "
                          "from notification_outbox where reunification_id = $1 order by phone",
                          uuid.UUID(opened["id"]))
    assert [(r["guardian_id"], r["phone"]) for r in rows] == [
        (w["maria"], "+15125550101"), (w["sam"], "+15125550102")]
    spanish, english = rows[0]["body"], rows[1]["body"]
    # GSM-7: the accents are dropped (an SMS of one accent is UCS-2, half the characters)
    assert "identificacion con foto" in spanish and "Riverbend Middle School gym" in spanish
    assert "photo ID" in english and "12 Oak St" in english and "Riverbend High" in english
    for row in rows:
        assert (row["kind"], row["channel"], row["event_id"], row["user_id"]) == (
            "reunification", "sms", None, None)
        assert sms_segments(row["body"]) <= SMS_SEGMENTS
        assert not any(name in row["body"] for name in ("Ana", "Ben", "Cara", "Diaz", "http"))


async def test_a_long_site_is_cut_to_two_segments(client, db):
    w = await _world(db)
    opened = await _open(client, w, site="Gymnasium " * 19 + "end", address="x" * 290)
    bodies = await db.fetch("select body from notification_outbox where reunification_id = $1",
                            uuid.UUID(opened["id"]))
    assert bodies and all(sms_segments(b["body"]) <= SMS_SEGMENTS for b in bodies)


async def test_one_open_per_school_and_once_per_event(client, db, clock):
    """A second opening while one is open is 409; an event opens its own once, ended or
    not; a teacher may not open one; after the close, another may be opened."""
    w = await _world(db)
    event = await factories.start(client, w)
    r = await client.post(f"/v1/events/{event}/reunification", json={"site": "Gym"},
                          headers=bearer(w["teacher"]))
    assert r.status_code == 403, r.text
    r = await client.post(f"/v1/events/{event}/reunification", json={"site": "Gym"},
                          headers=bearer(w["principal"]))
    assert r.status_code == 201 and r.json()["event_id"] == event, r.text
    rid = r.json()["id"]
    again = await client.post(f"/v1/schools/{w['id']}/reunifications", json={"site": "Field"},
                              headers=bearer(w["sro"]))
    assert again.status_code == 409 and rid in again.json()["detail"], again.text
    closed = await client.post(f"{R}/{rid}/close", headers=bearer(w["sro"]))
    assert closed.status_code == 200 and closed.json()["closed_at"], closed.text
    r = await client.post(f"/v1/events/{event}/reunification", json={"site": "Gym"},
                          headers=bearer(w["principal"]))
    assert r.status_code == 409 and "this event's" in r.json()["detail"], r.text
    clock.advance(minutes=30)
    await _open(client, w, site="Field")
    listed = await client.get(f"/v1/schools/{w['id']}/reunifications",
                              headers=bearer(w["teacher"]))
    assert [i["site"] for i in listed.json()["items"]] == ["Field", "Gym"]


async def test_a_listed_guardian_with_id_takes_her_child_once(client, db, clock):
    """Listed by the roster's guardian and ID seen: released as `listed`; a second
    release names the first."""
    w = await _world(db)
    rid, adult = await _site(client, db, w)
    clock.advance(minutes=12)
    r = await _release(client, w, rid, w["ana"], adult, note="Left by the north door")
    assert r.status_code == 201, r.text
    assert (r.json()["verification"], r.json()["approved_by"]) == ("listed", None)
    again = await _release(client, w, rid, w["ana"], adult)
    problem = _refused(again, "already-released")
    assert "Maria Diaz" in problem["detail"]


async def test_the_match_says_listed_restricted_and_what_is_needed(client, db):
    """By name too: 'maria  DIAZ' is Maria Diaz; the student's restrictions are shown to
    everyone; Jorge Diaz is named by one; a stranger needs an approval."""
    w = await _world(db)
    rid = (await _open(client, w))["id"]
    by_name = (await _adult(client, w, rid, [w["ana"]], name="maria  DIAZ")).json()
    [m] = by_name["students"]
    assert (m["student"], m["listed"], m["listed_as"], m["restricted"], m["needs"]) == (
        "Ana Diaz", True, "mother", False, "nothing")
    assert [(x["kind"], x["adult_name"], x["note"]) for x in m["restrictions"]] == [
        ("no_contact", "Jorge Diaz", "Court order 2025-114")]
    [m] = (await _adult(client, w, rid, [w["ana"]], name="Jorge Diaz")).json()["students"]
    assert (m["listed"], m["restricted"], m["needs"]) == (False, True, "refused")
    [m] = (await _adult(client, w, rid, [w["ana"]], name="A Neighbour")).json()["students"]
    assert (m["listed"], m["restricted"], m["needs"]) == (False, False, "approval")
    [m] = (await _adult(client, w, rid, [w["ana"]], id_seen=False)).json()["students"]
    assert (m["listed"], m["needs"]) == (True, "approval")


async def test_a_restricted_adult_is_refused_even_with_an_approval(client, db):
    """A no-contact order refuses the release and the approval; nothing is stored."""
    w = await _world(db)
    rid, _ = await _site(client, db, w)
    jorge = (await _adult(client, w, rid, [w["ana"]], name="Jorge Diaz")).json()["adult"]["id"]
    asked = {"student_id": str(w["ana"]), "adult_id": jorge}
    r = await client.post(f"{R}/{rid}/approvals", json=asked, headers=bearer(w["principal"]))
    assert "no-contact order" in _refused(r, "restricted")["detail"]
    _refused(await _release(client, w, rid, w["ana"], jorge), "restricted")
    assert await db.fetchval("select count(*) from release_approvals") == 0
    assert await db.fetchval("select count(*) from releases") == 0


async def test_a_restriction_by_guardian_names_them_whatever_name_they_give(client, db):
    """A custody note linked to the roster's guardian refuses them under another name."""
    w = await _world(db)
    await db.execute(
        "insert into student_restrictions (id, student_id, school_id, kind, adult_name, "
        "guardian_id) values ($1, $2, $3, 'custody', 'S. Cole', $4)",
        uuid.uuid4(), w["cara"], w["id"], w["sam"])
    rid = (await _open(client, w))["id"]
    await _arrive(client, w, rid, w["cara"])
    r = await _adult(client, w, rid, [w["cara"], w["ben"]], name="Samuel Cole",
                     guardian_id=str(w["sam"]))
    cara, ben = r.json()["students"]
    assert (cara["listed"], cara["restricted"], cara["needs"]) == (True, True, "refused")
    assert (ben["listed"], ben["restricted"], ben["needs"]) == (True, False, "nothing")
    _refused(await _release(client, w, rid, w["cara"], r.json()["adult"]["id"]), "restricted")


async def test_an_adult_not_listed_needs_a_principals_approval(client, db):
    """Refused as not listed; a teacher may not approve; the principal's approval makes
    the release `approved`, recorded with who approved."""
    w = await _world(db)
    rid, _ = await _site(client, db, w)
    aunt = (await _adult(client, w, rid, [w["ana"]], name="Lucia Ramos",
                         relationship="aunt")).json()["adult"]["id"]
    _refused(await _release(client, w, rid, w["ana"], aunt), "not-listed")
    asked = {"student_id": str(w["ana"]), "adult_id": aunt, "note": "Mother called"}
    r = await client.post(f"{R}/{rid}/approvals", json=asked, headers=bearer(w["teacher"]))
    assert r.status_code == 403, r.text
    r = await client.post(f"{R}/{rid}/approvals", json=asked, headers=bearer(w["principal"]))
    assert r.status_code == 201 and r.json()["new"], r.text
    r = await _release(client, w, rid, w["ana"], aunt)
    assert r.status_code == 201, r.text
    assert (r.json()["verification"], r.json()["approved_by"]) == (
        "approved", str(w["principal"]))


async def test_an_id_not_seen_needs_an_approval(client, db):
    w = await _world(db)
    rid = (await _open(client, w))["id"]
    await _arrive(client, w, rid, w["ana"])
    adult = (await _adult(client, w, rid, [w["ana"]], id_seen=False)).json()["adult"]["id"]
    _refused(await _release(client, w, rid, w["ana"], adult), "id-not-seen")


async def test_a_student_not_at_the_site_or_an_adult_not_checked_in_is_refused(client, db):
    w = await _world(db)
    rid, adult = await _site(client, db, w)
    sam = (await _adult(client, w, rid, [w["ben"]], name="Sam Cole")).json()["adult"]["id"]
    _refused(await _release(client, w, rid, w["ben"], sam), "not-arrived")
    _refused(await _release(client, w, rid, w["ana"], str(uuid.uuid4())),
             "adult-not-checked-in")
    await client.post(f"{R}/{rid}/close", headers=bearer(w["principal"]))
    _refused(await _release(client, w, rid, w["ana"], adult), "closed")
    assert await db.fetchval("select count(*) from releases") == 0


async def test_another_schools_reunification_and_students_are_out_of_reach(client, db):
    """Another school's principal gets 404 naming only the reunification; a student of
    another school is a 400 at ours, and nothing is stored."""
    w = await _world(db)
    rid, adult = await _site(client, db, w)
    outsider = bearer(w["other"]["principal"])
    for r in [await client.get(f"{R}/{rid}", headers=outsider),
              await client.get(f"{R}/{rid}/record", headers=outsider),
              await client.post(f"{R}/{rid}/students", json={"student_id": str(w["ana"])},
                                headers=outsider),
              await client.post(f"{R}/{rid}/releases", headers=outsider,
                                json={"student_id": str(w["ana"]), "adult_id": adult})]:
        assert r.status_code == 404 and r.json()["detail"] == f"no reunification {rid}", r.text
        assert "Diaz" not in r.text
    r = await _arrive(client, w, rid, w["foreign"])
    assert r.status_code == 400, r.text
    r = await _adult(client, w, rid, [w["ana"], w["foreign"]])
    assert r.status_code == 400, r.text
    assert await db.fetchval("select count(*) from reunification_students") == 1
    assert await db.fetchval("select count(*) from reunification_adults") == 1


async def test_two_releases_at_once_hand_the_student_over_once(client, db, other_server):
    """Two reunifiers release Ana at the same moment (two servers): one 201, one 409
    naming it; one row."""
    w = await _world(db)
    rid, adult = await _site(client, db, w)
    second = (await _adult(client, w, rid, [w["ana"]], name="Maria Diaz")).json()["adult"]["id"]
    answers = await asyncio.gather(
        _release(client, w, rid, w["ana"], adult),
        _release(other_server, w, rid, w["ana"], second, who="sro"))
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    _refused(next(r for r in answers if r.status_code == 409), "already-released")
    assert await db.fetchval("select count(*) from releases") == 1
    assert len(await _audit(db, "student_released")) == 1


async def test_a_student_checks_in_once(client, db):
    """201 the first time, 200 with the first time after."""
    w = await _world(db)
    rid = (await _open(client, w))["id"]
    first = await _arrive(client, w, rid, w["ben"])
    again = await _arrive(client, w, rid, w["ben"], who="staff")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["arrived_at"] == again.json()["arrived_at"]
    assert len(await _audit(db, "student_arrived")) == 1


async def test_the_live_view_counts_and_every_read_is_audited(client, db, clock):
    """Figures, students, adults waiting for whom, the time since opening; each read an
    audit entry naming the reader."""
    w = await _world(db)
    rid, adult = await _site(client, db, w)
    await _arrive(client, w, rid, w["ben"])
    await _adult(client, w, rid, [w["ben"], w["cara"]], name="Sam Cole")
    clock.advance(minutes=5)
    await _release(client, w, rid, w["ana"], adult)
    r = await client.get(f"{R}/{rid}", headers=bearer(w["teacher"]))
    view = r.json()
    assert view["counts"] == {"arrived": 2, "awaiting_pickup": 1, "released": 1,
                              "not_arrived": 1}
    assert view["open_for_s"] == 300
    assert [(s["name"], s["released_to"], s["restricted"]) for s in view["students"]] == [
        ("Ben Cole", None, False), ("Ana Diaz", "Maria Diaz", True)]
    assert [(a["name"], sorted(a["for_students"])) for a in view["adults_waiting"]] == [
        ("Sam Cole", sorted([str(w["ben"]), str(w["cara"])]))]
    roster = (await client.get(f"{R}/{rid}?roster=true", headers=bearer(w["staff"]))).json()
    assert [s["name"] for s in roster["students"] if s["arrived_at"] is None] == ["Cara Cole"]
    reads = await _audit(db, "reunification_read")
    assert [(a["actor_id"], a["detail"]["reunification_id"]) for a in reads] == [
        (w["teacher"], rid), (w["staff"], rid)]


async def test_every_step_is_audited(client, db):
    """Opening, arrivals, adults, approvals, releases and the close each write an entry
    naming who did it."""
    w = await _world(db)
    rid, _ = await _site(client, db, w)
    aunt = (await _adult(client, w, rid, [w["ana"]], name="Lucia Ramos")).json()["adult"]["id"]
    asked = {"student_id": str(w["ana"]), "adult_id": aunt}
    await client.post(f"{R}/{rid}/approvals", json=asked, headers=bearer(w["principal"]))
    assert (await _release(client, w, rid, w["ana"], aunt)).status_code == 201
    await client.post(f"{R}/{rid}/close", headers=bearer(w["sro"]))
    rows = await db.fetch("select kind, actor_id from admin_audit where school_id = $1 "
                          "order by id", w["id"])
    assert [(r["kind"], r["actor_id"]) for r in rows] == [
        ("reunification_opened", w["sro"]), ("student_arrived", w["teacher"]),
        ("adult_arrived", w["staff"]), ("adult_arrived", w["staff"]),
        ("release_approved", w["principal"]), ("student_released", w["staff"]),
        ("reunification_closed", w["sro"])]


async def test_the_record_lists_every_release_with_its_times(client, db, clock):
    """JSON, CSV and the printable page: who, when, verification and approval; the time
    to the first release, to half and to all."""
    w = await _world(db)
    rid, adult = await _site(client, db, w)
    await _arrive(client, w, rid, w["ben"])
    sam = (await _adult(client, w, rid, [w["ben"]], name="Sam Cole")).json()["adult"]["id"]
    clock.advance(minutes=10)
    await _release(client, w, rid, w["ana"], adult, note="=SUM(A1)")
    clock.advance(minutes=5)
    await _release(client, w, rid, w["ben"], sam)
    record = (await client.get(f"{R}/{rid}/record", headers=bearer(w["principal"]))).json()
    assert record["timings"] == {"first_release_s": 600.0, "half_released_s": 600.0,
                                 "all_released_s": 900.0}
    assert [(e["student"], e["adult"], e["verification"], e["relationship"])
            for e in record["releases"]] == [("Ana Diaz", "Maria Diaz", "listed", "mother"),
                                             ("Ben Cole", "Sam Cole", "listed", None)]
    csv = await client.get(f"{R}/{rid}/record?format=csv", headers=bearer(w["principal"]))
    assert csv.headers["content-type"].startswith("text/csv")
    assert "all_released_s,900.0" in csv.text and "'=SUM(A1)" in csv.text
    page = await client.get(f"{R}/{rid}/record.html", headers=bearer(w["principal"]))
    assert "Ana Diaz" in page.text and "15:00" in page.text
    assert len(await _audit(db, "reunification_read")) == 3


@pytest.mark.parametrize("body", [{"site": ""}, {"site": "x" * 201}, {"site": "Gym", "x": 1},
                                  {"site": "Gym", "address": "a\x00b"}])
async def test_a_bad_opening_stores_nothing(client, db, body):
    w = await _world(db)
    r = await client.post(f"/v1/schools/{w['id']}/reunifications", json=body,
                          headers=bearer(w["sro"]))
    assert r.status_code == 400, r.text
    assert await db.fetchval("select count(*) from reunifications") == 0


async def test_the_guardians_texts_go_out_through_the_sms_lane(client, db, pool, database_url,
                                                               clock):
    """The dispatcher sends the guardian rows to their numbers, and records them sent."""
    from notifications.dispatcher import Dispatcher
    from tests.conftest import LINKS
    from tests.db.test_dispatcher import Recorder

    w = await _world(db)
    await _open(client, w)
    sms, push = Recorder(), Recorder()
    await Dispatcher(pool, database_url, {"sms": sms, "push": push, "voice": push}, clock,
                     jitter=lambda: 0.5, links=LINKS).run_once()
    assert sorted((m.phone, m.guardian_id, m.user_id) for m in sms.sent) == [
        ("+15125550101", w["maria"], None), ("+15125550102", w["sam"], None)]
    assert {m.reunification_id for m in sms.sent} != {None}
    states = await db.fetch("select state from notification_outbox where guardian_id is not null")
    assert {r["state"] for r in states} == {"sent"}


async def test_the_pages_offer_and_link_the_reunification(client, db):
    """An event's dashboard offers a lead (not a teacher) to open one; once opened, it and
    the school page link to its site page, which renders no student's name."""
    w = await _world(db)
    event = await factories.start(client, w)
    lead = await client.get(f"/events/{event}", headers=bearer(w["sro"]))
    teacher = await client.get(f"/events/{event}", headers=bearer(w["teacher"]))
    assert 'id="reunification-form"' in lead.text
    assert 'id="reunification-form"' not in teacher.text
    r = await client.post(f"/v1/events/{event}/reunification", json={"site": "Field"},
                          headers=bearer(w["sro"]))
    rid = r.json()["id"]
    for path in (f"/events/{event}", f"/schools/{w['id']}"):
        page = await client.get(path, headers=bearer(w["teacher"]))
        assert f'href="/reunifications/{rid}"' in page.text, path
    site = await client.get(f"/reunifications/{rid}", headers=bearer(w["teacher"]))
    assert site.status_code == 200 and "Field" in site.text and "Diaz" not in site.text
    assert await _audit(db, "reunification_read") == []
