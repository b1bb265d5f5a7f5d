"""Reading a OneRoster 1.1 CSV export: what is sound is accepted however messily written,
each contradiction is named by file, row and column, orgs map to schools and class
locations to rooms by the stated rules (docs/roster.md)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from domain.errors import Invalid
from domain.language import Language
from domain.oneroster import SchoolRef, match_orgs, read_export, school_roster
from domain.roster import InvalidRows
from domain.schools import Room
from domain.student_roster import EnrollmentIn, Term
from tests import oneroster_files as files

ROOMS = [Room(id=uuid.uuid4(), code="R-001", name="Room 1"),
         Room(id=uuid.uuid4(), code="R-002", name="Room  2"),
         Room(id=uuid.uuid4(), code="G-1", name="Gym"),
         Room(id=uuid.uuid4(), code="G-2", name="Gym")]


def phone(typed: str) -> str:
    """Ten digits of a US number, like api/usecases/phones.py for the numbers used here."""
    digits = "".join(c for c in typed if c.isdigit())
    if len(digits) != 10:
        raise Invalid(f"{typed!r} is not a valid phone number")
    return "+1" + digits


def problems(tables, **kwargs) -> list[tuple[str | None, int, str]]:
    with pytest.raises(InvalidRows) as refused:
        read_export(files.export(tables, **kwargs), phone)
    return [(e.file, e.row, e.column) for e in refused.value.errors]


def test_the_clean_export_reads_whole():
    export = read_export(files.export(files.clean()), phone)
    assert [u.sourced_id for u in export.users] == ["T1", "S1", "S2", "S3", "P1", "P2"]
    p2 = export.users[-1]
    assert (p2.phone, p2.agents, p2.language) == ("+15125550102", ("S2", "S3"), Language.EN)
    assert export.users[2].grade == "10"  # the first of its grades
    assert export.classes is not None and export.classes[1].periods == ("1", "2")


def test_a_messy_export_is_still_sound():
    """Every cell quoted, extension columns, headers in other cases, statuses filled or
    empty, an `absent` file simply not there."""
    tables = files.clean()
    tables["users"][1]["status"] = "active"
    tables["users"][4]["metadata.language"] = "es"
    del tables["academicSessions"]
    body = files.export(tables, quote_all=True, extra={
        "users": ["metadata.language", "metadata.sis.homeroom"],
        "classes": ["metadata.room.building"]})
    body["users.csv"] = body["users.csv"].replace(b'"givenName"', b'"GIVENNAME"')
    export = read_export(body, phone)
    assert export.users[4].language == Language.ES


@pytest.mark.parametrize(("change", "where"), [
    (lambda t: t["enrollments"][1].update(role="teacher"),
     ("enrollments.csv", 3, "role")),  # a student enrolled as a teacher
    (lambda t: t["enrollments"][3].update(role="student"),
     ("enrollments.csv", 5, "role")),  # a teacher enrolled as a student
    (lambda t: t["enrollments"][0].update(classSourcedId="NOPE"),
     ("enrollments.csv", 2, "classSourcedId")),
    (lambda t: t["enrollments"][0].update(userSourcedId="NOPE"),
     ("enrollments.csv", 2, "userSourcedId")),
    (lambda t: t["users"][4].update(agentSourcedIds="S1,NOPE"),
     ("users.csv", 6, "agentSourcedIds")),
    (lambda t: t["users"][2].update(sourcedId="S1"), ("users.csv", 4, "sourcedId")),
    (lambda t: t["users"][2].update(givenName=""), ("users.csv", 4, "givenName")),
    (lambda t: t["users"][2].update(orgSourcedIds=""), ("users.csv", 4, "orgSourcedIds")),
    (lambda t: t["users"][2].update(orgSourcedIds="O-GONE"), ("users.csv", 4, "orgSourcedIds")),
    (lambda t: t["users"][2].update(role="pupil"), ("users.csv", 4, "role")),
    (lambda t: t["users"][2].update(enabledUser="maybe"), ("users.csv", 4, "enabledUser")),
    (lambda t: t["users"][2].update(status="gone"), ("users.csv", 4, "status")),
    (lambda t: t["users"][4].update(phone="555"), ("users.csv", 6, "phone")),
    (lambda t: t["users"][4].update(email="pat at home"), ("users.csv", 6, "email")),
    (lambda t: t["classes"][0].update(classType="lab"), ("classes.csv", 2, "classType")),
    (lambda t: t["classes"][0].update(schoolSourcedId="O-GONE"),
     ("classes.csv", 2, "schoolSourcedId")),
    (lambda t: t["orgs"][1].update(type="campus"), ("orgs.csv", 3, "type")),
    (lambda t: t["academicSessions"][0].update(sourcedId=""),
     ("academicSessions.csv", 2, "sourcedId")),
    (lambda t: t["academicSessions"][0].update(startDate=""),
     ("academicSessions.csv", 2, "startDate")),
    (lambda t: t["academicSessions"][0].update(endDate="06/01/2027"),
     ("academicSessions.csv", 2, "endDate")),
    (lambda t: t["academicSessions"][0].update(startDate="20260801"),
     ("academicSessions.csv", 2, "startDate")),  # ISO, but not the binding's form
    (lambda t: t["academicSessions"][0].update(endDate="2027-02-30"),
     ("academicSessions.csv", 2, "endDate")),
    (lambda t: t["academicSessions"][0].update(endDate="2026-07-31"),
     ("academicSessions.csv", 2, "endDate")),  # before it starts
    (lambda t: t["classes"][1].update(termSourcedIds="Y1,NOPE"),
     ("classes.csv", 3, "termSourcedIds")),
    (lambda t: t["enrollments"][2].update(beginDate="10/16/2026"),
     ("enrollments.csv", 4, "beginDate")),
    (lambda t: t["enrollments"][2].update(endDate="2026-02-30"),
     ("enrollments.csv", 4, "endDate")),
    (lambda t: t["enrollments"][2].update(beginDate="2026-10-16", endDate="2026-10-15"),
     ("enrollments.csv", 4, "endDate")),  # ends before it begins
])
def test_each_contradiction_is_named(change, where):
    tables = files.clean()
    change(tables)
    assert problems(tables) == [where]


def test_a_required_column_missing_is_named():
    body = files.export(files.clean())
    body["users.csv"] = body["users.csv"].replace(b"givenName", b"firstName")
    with pytest.raises(InvalidRows) as refused:
        read_export(body, phone)
    assert [(e.file, e.row, e.column) for e in refused.value.errors] == [
        ("users.csv", 1, "givenName")]


def test_the_manifest_decides_what_is_read():
    assert problems(files.clean(), manifest={"file.users": "delta"}) == [
        ("manifest.csv", 16, "value")]  # bulk only
    read_export(files.export(files.clean(), manifest={"file.results": "delta"}), phone)
    assert problems(files.clean(), manifest={"file.orgs": "absent"}) == [
        ("manifest.csv", 1, "file.orgs")]  # needed
    tables = files.clean()
    del tables["classes"]
    assert problems(tables, manifest={"file.classes": "bulk"}) == [
        ("manifest.csv", 6, "value")]  # said bulk, not there
    body = files.export(files.clean())
    del body["manifest.csv"]
    with pytest.raises(InvalidRows):
        read_export(body, phone)


def test_absent_classes_leave_classes_alone_and_refuse_enrollments():
    tables = files.clean()
    del tables["classes"], tables["enrollments"]
    export = read_export(files.export(tables), phone)
    assert export.classes is None and export.enrollments is None
    roster = school_roster(export, "O-HIGH", ROOMS).roster
    assert roster.classes is None and roster.students[0].classes is None
    tables = files.clean()
    del tables["classes"]
    assert {w[2] for w in problems(tables)} == {"classSourcedId"}


def test_orgs_match_by_stored_sourced_id_then_by_name():
    export = read_export(files.export(files.clean()), phone)
    high = SchoolRef(id=uuid.uuid4(), name="Alpha High")
    renamed = SchoolRef(id=uuid.uuid4(), name="Beta Elem (renamed)", source_id="O-ELEM")
    matched, missed = match_orgs(export.orgs, [high, renamed])
    assert matched == {"O-HIGH": high, "O-ELEM": renamed}
    assert [m.sourced_id for m in missed] == ["O-MID"]  # a district org is no school


def test_a_name_two_schools_share_matches_neither():
    export = read_export(files.export(files.clean()), phone)
    twins = [SchoolRef(id=uuid.uuid4(), name="Alpha High"),
             SchoolRef(id=uuid.uuid4(), name="alpha high")]
    matched, missed = match_orgs(export.orgs, twins)
    assert "O-HIGH" not in matched
    assert {m.sourced_id: m.why for m in missed}["O-HIGH"].startswith("several schools")


def test_two_orgs_for_one_school_contradict():
    tables = files.clean()
    tables["orgs"].append({"sourcedId": "O-HIGH2", "name": "ALPHA HIGH", "type": "school"})
    export = read_export(files.export(tables), phone)
    with pytest.raises(InvalidRows) as refused:
        match_orgs(export.orgs, [SchoolRef(id=uuid.uuid4(), name="Alpha High")])
    assert [(e.file, e.row, e.column) for e in refused.value.errors] == [
        ("orgs.csv", 6, "name")]


def test_a_school_roster_maps_locations_homerooms_and_guardians():
    """r-001 is a room's code, "Room 2" a room's name (spacing aside), "Gym" two rooms'
    names (no room); students get their homeroom class's room; guardians are linked
    either way round, the relationship their role."""
    tables = files.clean()
    tables["classes"].append({"sourcedId": "C-PE", "title": "PE", "classType": "scheduled",
                              "location": "Gym", "schoolSourcedId": "O-HIGH"})
    tables["users"][5]["sms"] = ""
    tables["users"][2]["enabledUser"] = "false"
    found = school_roster(read_export(files.export(tables), phone), "O-HIGH", ROOMS)
    classes = {c.source_id: c.room_id for c in found.roster.classes or ()}
    assert classes == {"C-HR": ROOMS[0].id, "C-ALG": ROOMS[1].id, "C-PE": None}
    assert [u.location for u in found.unmapped_locations] == ["Gym"]
    ana, ben = found.roster.students
    assert (ana.homeroom_id, ana.guardians, ana.classes) == (
        ROOMS[0].id, (("P1", "parent"),), (EnrollmentIn("C-ALG"), EnrollmentIn("C-HR")))
    assert (ben.active, ben.guardians) == (False, (("P2", "guardian"),))
    assert [g.name for g in found.guardians_without_phone] == ["Gil Brown"]
    assert all(u.source_id not in ("T1", "S3") for u in found.roster.students)


def test_a_class_in_an_unknown_room_keeps_its_students_homeroom():
    tables = files.clean()
    tables["classes"][1]["location"] = "Annex 4"
    found = school_roster(read_export(files.export(tables), phone), "O-HIGH", ROOMS)
    assert [(u.class_sourced_id, u.location) for u in found.unmapped_locations] == [
        ("C-ALG", "Annex 4")]
    assert found.roster.students[0].homeroom_id == ROOMS[0].id


def with_semesters() -> files.Tables:
    """The clean export with a fall and a spring semester (and a spring one withdrawn)."""
    tables = files.clean()
    tables["academicSessions"] += [
        {"sourcedId": "FALL", "type": "semester", "startDate": "2026-08-01",
         "endDate": "2026-12-18", "parentSourcedId": "Y1"},
        {"sourcedId": "SPRING", "type": "semester", "startDate": "2027-01-04",
         "endDate": "2027-05-28", "parentSourcedId": "Y1"},
        {"sourcedId": "OLD", "status": "tobedeleted", "type": "semester",
         "startDate": "2026-01-05", "endDate": "2026-05-29"}]
    return tables


def class_terms(tables: files.Tables) -> dict[str, tuple[Term, ...] | None]:
    roster = school_roster(read_export(files.export(tables), phone), "O-HIGH", ROOMS).roster
    return {c.source_id: c.terms for c in roster.classes or ()}


def test_a_class_meets_on_the_days_of_the_sessions_it_names():
    """The sessions' dates, both included, merged where they touch; a withdrawn session
    is no day; a class naming no session meets every day."""
    tables = with_semesters()
    tables["classes"][1]["termSourcedIds"] = "SPRING, FALL,OLD"
    tables["classes"].append({"sourcedId": "C-GONE", "title": "Gone", "classType":
                              "scheduled", "schoolSourcedId": "O-HIGH",
                              "termSourcedIds": "OLD"})
    tables["classes"].append({"sourcedId": "C-YEAR", "title": "Choir", "classType":
                              "scheduled", "schoolSourcedId": "O-HIGH",
                              "termSourcedIds": "FALL,Y1"})
    assert class_terms(tables) == {
        "C-HR": None,
        "C-ALG": (Term(date(2026, 8, 1), date(2026, 12, 18)),
                  Term(date(2027, 1, 4), date(2027, 5, 28))),
        "C-GONE": (),
        "C-YEAR": (Term(date(2026, 8, 1), date(2027, 6, 1)),)}


def test_without_academic_sessions_every_class_meets_every_day():
    """Terms named with no academicSessions.csv to date them are no contradiction."""
    tables = with_semesters()
    tables["classes"][1]["termSourcedIds"] = "FALL"
    del tables["academicSessions"]
    assert class_terms(tables) == {"C-HR": None, "C-ALG": None}


def test_an_enrollment_counts_between_its_dates():
    """Ana left Algebra on 15 October and joined Biology the next day, both dates kept;
    without dates an enrollment counts every day (the homeroom); a day alone is enough."""
    tables = files.clean()
    tables["enrollments"][2]["endDate"] = "2026-10-15"
    tables["classes"].append({"sourcedId": "C-BIO", "title": "Biology", "classType":
                              "scheduled", "location": "Room 2", "schoolSourcedId": "O-HIGH",
                              "periods": "1"})
    tables["enrollments"].append({"sourcedId": "E6", "classSourcedId": "C-BIO",
                                  "userSourcedId": "S1", "role": "student",
                                  "beginDate": "2026-10-16"})
    export = read_export(files.export(tables), phone)
    assert export.enrollments is not None
    assert (export.enrollments[2].begins, export.enrollments[2].ends) == (
        None, date(2026, 10, 15))
    ana = school_roster(export, "O-HIGH", ROOMS).roster.students[0]
    assert ana.classes == (EnrollmentIn("C-ALG", None, date(2026, 10, 15)),
                           EnrollmentIn("C-BIO", date(2026, 10, 16), None),
                           EnrollmentIn("C-HR"))


def test_two_enrollments_in_one_class_span_both():
    """Left in October and back in January: one enrollment from the first beginning to
    the last end; an open end stays open."""
    tables = files.clean()
    tables["enrollments"][2].update(beginDate="2026-08-17", endDate="2026-10-15")
    tables["enrollments"].append({"sourcedId": "E6", "classSourcedId": "C-ALG",
                                  "userSourcedId": "S1", "role": "student",
                                  "beginDate": "2027-01-05", "endDate": "2027-05-28"})
    tables["enrollments"].append({"sourcedId": "E7", "classSourcedId": "C-HR",
                                  "userSourcedId": "S1", "role": "student",
                                  "beginDate": "2026-08-17"})
    ana = school_roster(read_export(files.export(tables), phone), "O-HIGH",
                        ROOMS).roster.students[0]
    assert ana.classes == (EnrollmentIn("C-ALG", date(2026, 8, 17), date(2027, 5, 28)),
                           EnrollmentIn("C-HR"))
