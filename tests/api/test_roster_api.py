"""Loading students over HTTP: a OneRoster export for a school or a district, and a plain
students CSV; re-imports update in place, write nothing when nothing changed, and mark
students who left inactive."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests import admin_world
from tests import oneroster_files as files
from tests.conftest import bearer

world = admin_world.world

SCHOOL = "/v1/schools/{school}/roster/oneroster"
DISTRICT = "/v1/districts/{district}/roster/oneroster"
STUDENTS = "/v1/schools/{school}/students/import"
ZIP = {"content-type": "application/zip"}
CSV = {"content-type": "text/csv"}
ROSTER_TABLES = ("students", "guardians", "student_guardians", "student_restrictions",
                 "classes", "enrollments", "admin_audit")


async def roster_rows(db) -> list[list[tuple]]:
    return [[tuple(r) for r in await db.fetch(f"select * from {t} order by 1, 2")]
            for t in ROSTER_TABLES]


async def students_of(db, school) -> dict[str, tuple]:
    rows = await db.fetch(
        """select s.source_id, s.given_name, s.grade, r.code, s.active from students s
           left join rooms r on r.id = s.homeroom_id where s.school_id = $1""", school)
    return {r["source_id"]: tuple(r)[1:] for r in rows}


async def test_a_school_imports_its_org(client, db, world):
    """Alpha High's org (matched by name, spacing and case aside) brings its students, their
    guardians, classes and enrollments; its sourcedId is stored on the school."""
    r = await files.post_export(client, world, files.zipped(files.export(files.clean())))
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["changed"], done["added"], done["updated"], done["deactivated"]) == (
        True, 2, 0, 0)
    [high] = done["schools"]
    assert high["org_sourced_id"] == "O-HIGH" and high["classes_changed"] == 2
    assert high["unmapped_locations"] == []  # r-001 is R-001's code, Room 2 a room's name
    assert high["guardians_without_phone"] == []
    assert await students_of(db, world["high"]) == {
        "S1": ("Ana", "09", "R-001", True), "S2": ("Ben", "10", "R-001", True)}
    assert await db.fetchval("select source_id from schools where id = $1",
                             world["high"]) == "O-HIGH"
    assert await db.fetch("select g.name, g.phone, sg.relationship from guardians g "
                          "join student_guardians sg on sg.guardian_id = g.id "
                          "order by g.name") == [("Gil Brown", "+15125550102", "guardian"),
                                                 ("Pat Alvarez", "+15125550101", "parent")]
    algebra = await db.fetchrow("select c.periods, r.name from classes c "
                                "join rooms r on r.id = c.room_id where c.source_id = 'C-ALG'")
    assert tuple(algebra) == (["1", "2"], "Room 2")
    assert await db.fetchval("select count(*) from enrollments") == 3  # the teacher is not
    assert [tuple(a) for a in await db.fetch("select kind, detail->>'added' from admin_audit")
            ] == [("roster_imported", "2")]


async def test_reimporting_the_same_export_writes_nothing(client, db, world):
    body = files.zipped(files.export(files.clean()))
    assert (await files.post_export(client, world, body)).status_code == 200
    before = await roster_rows(db)
    r = await files.post_export(client, world, body)
    assert r.status_code == 200
    assert (r.json()["changed"], r.json()["unchanged"], r.json()["added"]) == (False, 2, 0)
    assert await roster_rows(db) == before


async def test_students_who_left_are_inactive_and_changes_update_in_place(client, db, world):
    assert (await files.post_export(client, world, files.zipped(files.export(files.clean())))
            ).status_code == 200
    ids = dict(await db.fetch("select source_id, id from students"))
    tables = files.clean()
    tables["users"] = [u for u in tables["users"] if u["sourcedId"] != "S2"]
    tables["users"][1]["givenName"] = "Anita"
    tables["users"][-1]["agentSourcedIds"] = "S3"
    tables["enrollments"] = [e for e in tables["enrollments"] if e["userSourcedId"] != "S2"]
    r = await files.post_export(client, world, files.zipped(files.export(tables)))
    assert r.status_code == 200, r.text
    assert (r.json()["updated"], r.json()["deactivated"]) == (1, 1)
    assert await students_of(db, world["high"]) == {
        "S1": ("Anita", "09", "R-001", True), "S2": ("Ben", "10", "R-001", False)}
    assert dict(await db.fetch("select source_id, id from students")) == ids


async def test_a_district_admin_imports_every_matched_school(client, db, world):
    """Both of One ISD's schools; Delta Middle matches none and is listed, not refused; a
    class in an unknown room is kept without one and listed."""
    r = await client.post(DISTRICT.format(district=world["district"]),
                          content=files.zipped(files.export(files.clean()), "export/"),
                          headers=bearer(world["admin"]) | ZIP)
    assert r.status_code == 200, r.text
    done = r.json()
    assert [s["school_name"] for s in done["schools"]] == ["Alpha High", "Beta Elementary"]
    assert done["not_imported_orgs"] == [
        {"sourced_id": "O-MID", "name": "Delta Middle",
         "why": "no school of the district has this name or sourcedId"}]
    assert done["schools"][1]["unmapped_locations"] == [
        {"class_sourced_id": "C-K3", "title": "Third grade", "location": "Portable 9"}]
    assert await students_of(db, world["elem"]) == {"S3": ("Cara", "03", None, True)}
    assert await db.fetchval("select count(*) from admin_audit") == 2


async def test_a_principal_may_not_import_the_district(client, world):
    r = await client.post(DISTRICT.format(district=world["district"]),
                          content=files.zipped(files.export(files.clean())),
                          headers=bearer(world["principal"]) | ZIP)
    assert r.status_code == 403


async def test_a_school_whose_org_is_not_in_the_export_is_refused(client, db, world):
    tables = files.clean()
    tables["orgs"] = [o for o in tables["orgs"] if o["sourcedId"] != "O-ELEM"]
    tables["users"] = [u for u in tables["users"] if u["sourcedId"] not in ("S3",)]
    tables["users"][-1]["agentSourcedIds"] = "S2"
    tables["classes"] = tables["classes"][:2]
    tables["enrollments"] = tables["enrollments"][:4]
    r = await files.post_export(client, world, files.zipped(files.export(tables)), "elem_principal",
                       "elem")
    assert r.status_code == 400, r.text
    assert [(e["file"], e["column"]) for e in r.json()["errors"]] == [("orgs.csv", "name")]
    assert await db.fetchval("select count(*) from students") == 0


async def test_the_messy_export_names_each_contradiction_and_stores_nothing(client, db,
                                                                            world):
    """Quoted cells, extension columns and empty statuses are fine; a student enrolled as
    a teacher and an enrollment in an unknown class are contradictions, named by file, row
    and column; a guardian without a phone is not one."""
    tables = files.clean()
    tables["users"][5]["sms"] = ""  # Gil Brown: no phone at all
    tables["enrollments"][1]["role"] = "teacher"  # Ben Brown, a student, as a teacher
    tables["enrollments"].append({"sourcedId": "E9", "classSourcedId": "C-GONE",
                                  "schoolSourcedId": "O-HIGH", "userSourcedId": "S1",
                                  "role": "student"})
    body = files.zipped(files.export(tables, quote_all=True, extra={
        "users": ["metadata.language", "metadata.district.homeroomTeacher"]}))
    r = await files.post_export(client, world, body)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [(e["file"], e["row"], e["column"]) for e in r.json()["errors"]] == [
        ("enrollments.csv", 3, "role"), ("enrollments.csv", 7, "classSourcedId")]
    assert "S2 is a student in users.csv (row 4) but enrolled as a teacher" in (
        r.json()["errors"][0]["message"])
    assert await db.fetchval("select count(*) from students") == 0
    assert await db.fetchval("select count(*) from admin_audit") == 0


async def test_a_delta_manifest_is_refused_naming_its_row(client, world):
    body = files.zipped(files.export(files.clean(), manifest={"file.users": "delta"}))
    r = await files.post_export(client, world, body)
    assert r.status_code == 400
    [error] = r.json()["errors"]
    assert (error["file"], error["column"]) == ("manifest.csv", "value")
    assert "delta" in error["message"] and "bulk" in error["message"]


@pytest.mark.parametrize(("body", "detail"), [
    (b"not a zip", "not a zip archive"),
    ("../users.csv", "points outside the zip"),
    ("bomb", "unpacks to more than"),
])
async def test_bad_archives_are_refused(client, world, body, detail):
    if body == "../users.csv":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("../users.csv", "sourcedId\n")
        body = out.getvalue()
    elif body == "bomb":  # 300 MB of zeros squeezed into a few hundred KB
        out = io.BytesIO()
        with (zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
              archive.open("users.csv", "w", force_zip64=True) as entry):
            for _ in range(300):
                entry.write(bytes(2**20))
        body = out.getvalue()
    r = await files.post_export(client, world, body)
    assert r.status_code == 400 and detail in r.json()["detail"]


async def test_a_zip_needs_its_content_type(client, world):
    r = await client.post(SCHOOL.format(school=world["high"]), content=b"PK",
                          headers=bearer(world["principal"]) | CSV)
    assert r.status_code == 415


async def test_another_schools_id_answers_404(client, db, world):
    body = files.zipped(files.export(files.clean()))
    r = await files.post_export(client, world, body, "other_admin")
    assert r.status_code == 404
    r = await client.post(DISTRICT.format(district=world["district"]), content=body,
                          headers=bearer(world["other_admin"]) | ZIP)
    assert r.status_code == 404
    assert await db.fetchval("select count(*) from students") == 0


# -- the plain students CSV --------------------------------------------------------------

PLAIN = (
    "student_id,given_name,family_name,grade,homeroom,guardian1_name,guardian1_phone,"
    "guardian1_relationship,guardian1_language,guardian2_name,guardian2_phone,"
    "restricted_adult,restriction_kind,restriction_note\n"
    "1001,Ana,Alvarez,9,R-001,Pat Alvarez,(512) 555-0101,mother,es,,,"
    "Ray Alvarez;Roy Doe,no_contact,court order 2026\n"
    "1002,Ben,Alvarez,10,r-002,Pat Alvarez,(512) 555-0101,mother,es,Nan Alvarez,,,,\n")


async def test_the_plain_csv_imports_students_guardians_and_restrictions(client, db, world):
    """Siblings share the guardian with one phone; a guardian without one is listed; the
    restricted adults are each a restriction."""
    r = await client.post(STUDENTS.format(school=world["high"]), content=PLAIN.encode(),
                          headers=bearer(world["principal"]) | CSV)
    assert r.status_code == 200, r.text
    assert r.json() == {"changed": True, "added": 2, "updated": 0, "deactivated": 0,
                        "unchanged": 0, "guardians_changed": 2, "guardians_without_phone": [
                            {"sourced_id": "student:1002:2", "name": "Nan Alvarez"}]}
    assert await students_of(db, world["high"]) == {"1001": ("Ana", "9", "R-001", True),
                                                    "1002": ("Ben", "10", "R-002", True)}
    assert await db.fetchval("select count(*) from student_guardians") == 3
    assert sorted(tuple(r) for r in await db.fetch(
        "select adult_name, kind, note from student_restrictions")) == [
        ("Ray Alvarez", "no_contact", "court order 2026"),
        ("Roy Doe", "no_contact", "court order 2026")]
    before = await roster_rows(db)
    again = await client.post(STUDENTS.format(school=world["high"]), content=PLAIN.encode(),
                              headers=bearer(world["principal"]) | CSV)
    assert again.json()["changed"] is False and await roster_rows(db) == before
    left = PLAIN.rsplit("1002,", 1)[0]
    r = await client.post(STUDENTS.format(school=world["high"]), content=left.encode(),
                          headers=bearer(world["principal"]) | CSV)
    assert r.json()["deactivated"] == 1
    assert (await students_of(db, world["high"]))["1002"][-1] is False


async def test_a_bad_students_csv_names_each_row(client, db, world):
    content = ("student_id,given_name,family_name,homeroom,guardian1_phone\n"
               "1,A,B,NOPE,\n2,C,D,,(512) 555-0101\n1,E,F,,\n")
    r = await client.post(STUDENTS.format(school=world["high"]), content=content.encode(),
                          headers=bearer(world["principal"]) | CSV)
    assert r.status_code == 400
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [
        (2, "homeroom"), (3, "guardian1_name"), (4, "student_id")]
    assert await db.fetchval("select count(*) from students") == 0


async def test_an_export_larger_than_other_bodies_is_accepted(client, world):
    """A district's export may pass the 2 MiB every other body is held to; its route
    takes up to 20 MiB (other files in the zip are not read)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in files.export(files.clean()).items():
            archive.writestr(name, data)
        archive.writestr("demographics.txt", bytes(3 * 2**20))
    assert len(out.getvalue()) > 3 * 2**20
    r = await files.post_export(client, world, out.getvalue())
    assert r.status_code == 200, r.text
