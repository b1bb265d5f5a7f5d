"""What importing a roster changes (plan_roster), and the plain students CSV."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

import msgspec
import pytest

from domain.errors import Invalid
from domain.language import Language
from domain.roster import InvalidRows
from domain.schools import Room
from domain.student_roster import (
    ClassIn,
    EnrollmentIn,
    GuardianIn,
    RestrictionIn,
    RosterIn,
    SchoolClass,
    StoredRoster,
    StudentIn,
    Term,
    merged_terms,
    plain_roster,
    plan_roster,
    student_columns,
)
from domain.students import Guardian, Restriction, RestrictionKind, Student

SCHOOL = uuid.uuid4()
ROOM = Room(id=uuid.uuid4(), code="R-1", name="Room 1")
EMPTY = StoredRoster(students=[], guardians=[], classes=[], links=[], restrictions=[],
                     enrollments=[])


def mint():
    ids = (uuid.UUID(int=n) for n in itertools.count(1))
    return lambda: next(ids)


def stored_after(plan, before: StoredRoster = EMPTY) -> StoredRoster:
    """The roster as the plan leaves it, as the database would store it."""
    by_id = {s.id: s for s in before.students} | {s.id: s for s in plan.students}
    guardians = {g.id: g for g in before.guardians} | {g.id: g for g in plan.guardians}
    classes = {c.id: c for c in before.classes} | {c.id: c for c in plan.classes}
    links = [x for x in before.links if x[0] not in plan.links] + [
        (s, g, r) for s, pairs in plan.links.items() for g, r in pairs]
    restrictions = [r for r in before.restrictions if r.student_id not in plan.restrictions] + [
        r for rs in plan.restrictions.values() for r in rs]
    enrollments = [x for x in before.enrollments if x[0] not in plan.enrollments] + [
        (s, *e) for s, es in plan.enrollments.items() for e in es]
    return StoredRoster(students=list(by_id.values()), guardians=list(guardians.values()),
                        classes=list(classes.values()), links=links,
                        restrictions=restrictions, enrollments=enrollments)


WANTED = RosterIn(
    students=[StudentIn(source_id="S1", given_name="Ana", family_name="Alvarez", grade="9",
                        guardians=(("P1", "parent"),), classes=(EnrollmentIn("C1"),),
                        restrictions=(RestrictionIn(kind=RestrictionKind.CUSTODY,
                                                    adult_name="pat  ALVAREZ"),)),
              StudentIn(source_id="S2", given_name="Ben", family_name="Brown", classes=())],
    guardians=[GuardianIn(source_id="P1", name="Pat Alvarez", phone="+15125550101",
                          language=Language.ES)],
    classes=[ClassIn(source_id="C1", title="Algebra", room_id=ROOM.id, periods=("1",))])


def test_a_first_import_adds_everything():
    plan = plan_roster(SCHOOL, EMPTY, WANTED, mint())
    assert (plan.added, plan.updated, plan.deactivated, plan.unchanged) == (2, 0, 0, 0)
    assert len(plan.guardians) == len(plan.classes) == 1
    ana = plan.students[0].id
    assert plan.links == {ana: [(plan.guardians[0].id, "parent")]}
    [restriction] = plan.restrictions[ana]
    assert restriction.guardian_id == plan.guardians[0].id  # the same person, by name
    assert plan.enrollments == {ana: [(plan.classes[0].id, None, None)]}


def test_the_same_roster_again_changes_nothing():
    stored = stored_after(plan_roster(SCHOOL, EMPTY, WANTED, mint()))
    again = plan_roster(SCHOOL, stored, WANTED, mint())
    assert not again.changes_anything
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


def test_a_change_of_an_enrollments_dates_alone_is_a_change():
    """Ana's Algebra now ends on 15 October: her enrollments are replaced, dates and all;
    the same dates again change nothing."""
    first = plan_roster(SCHOOL, EMPTY, WANTED, mint())
    ends = msgspec.structs.replace(WANTED, students=[
        msgspec.structs.replace(WANTED.students[0],
                                classes=(EnrollmentIn("C1", None, date(2026, 10, 15)),)),
        WANTED.students[1]])
    plan = plan_roster(SCHOOL, stored_after(first), ends, mint())
    assert (plan.updated, plan.unchanged) == (1, 1)
    assert plan.enrollments == {first.students[0].id: [
        (first.classes[0].id, None, date(2026, 10, 15))]}
    assert not plan_roster(SCHOOL, stored_after(plan, stored_after(first)), ends,
                           mint()).changes_anything


def test_changes_update_in_place_and_students_who_left_are_inactive():
    first = plan_roster(SCHOOL, EMPTY, WANTED, mint())
    stored = stored_after(first)
    wanted = msgspec.structs.replace(WANTED, students=[
        msgspec.structs.replace(WANTED.students[0], grade="10", classes=())], classes=[])
    plan = plan_roster(SCHOOL, stored, wanted, mint())
    assert (plan.added, plan.updated, plan.deactivated) == (0, 1, 1)
    assert {s.source_id: (s.id, s.active) for s in plan.students} == {
        "S1": (first.students[0].id, True), "S2": (first.students[1].id, False)}
    assert [c.active for c in plan.classes] == [False]  # left out of the roster
    assert plan.enrollments == {first.students[0].id: []}


def test_a_roster_without_classes_or_restrictions_keeps_the_schools():
    stored = stored_after(plan_roster(SCHOOL, EMPTY, WANTED, mint()))
    wanted = msgspec.structs.replace(WANTED, classes=None, students=[
        msgspec.structs.replace(s, classes=None, restrictions=None) for s in WANTED.students])
    plan = plan_roster(SCHOOL, stored, wanted, mint())
    assert not plan.changes_anything


def test_a_student_marked_inactive_in_the_roster_counts_as_deactivated():
    stored = stored_after(plan_roster(SCHOOL, EMPTY, WANTED, mint()))
    wanted = msgspec.structs.replace(WANTED, students=[
        WANTED.students[0], msgspec.structs.replace(WANTED.students[1], active=False)])
    plan = plan_roster(SCHOOL, stored, wanted, mint())
    assert (plan.deactivated, plan.unchanged) == (1, 1)


def test_stored_types_compare_as_the_database_gives_them():
    """A class's periods and a restriction read back equal what was planned."""
    cls = SchoolClass(id=uuid.uuid4(), source_id="C", title="T", periods=("1", "2"))
    assert msgspec.convert(msgspec.to_builtins(cls) | {"periods": ["1", "2"]},
                           SchoolClass) == cls
    assert Student and Guardian and Restriction  # the stored shapes are the domain's


def test_terms_merge_as_the_database_keeps_them():
    """In order, overlapping and touching terms as one, a term inside another gone."""
    day = date(2026, 8, 1)
    spring = Term(day + timedelta(days=160), day + timedelta(days=300))
    assert merged_terms([spring, Term(day, day + timedelta(days=100)),
                         Term(day + timedelta(days=101), day + timedelta(days=140)),
                         Term(day + timedelta(days=10), day + timedelta(days=20))]) == (
        Term(day, day + timedelta(days=140)), spring)
    assert merged_terms([]) == ()


# -- the plain students CSV ----------------------------------------------------------------

def phone(typed: str) -> str:
    digits = "".join(c for c in typed if c.isdigit())
    if len(digits) != 10:
        raise Invalid(f"{typed!r} is not a valid phone number")
    return "+1" + digits


COLUMNS = student_columns(phone)
HEADER = ("student_id,given_name,family_name,grade,homeroom,guardian1_name,guardian1_phone,"
          "guardian1_relationship,guardian2_name,restricted_adult,restriction_kind\n")


def test_siblings_share_a_guardian_by_phone():
    roster = plain_roster(HEADER + "1,Ana,A,9,r-1,Pat A,512 555 0101,mother,Nan A,,\n"
                          "2,Ben,A,3,,Pat A,(512) 555-0101,mother,,Ray A; Roy B,custody\n",
                          COLUMNS, [ROOM])
    assert [g.source_id for g in roster.guardians] == ["phone:+15125550101", "student:1:2"]
    ana, ben = roster.students
    assert ana.homeroom_id == ROOM.id and ana.classes is None
    assert ana.guardians == (("phone:+15125550101", "mother"), ("student:1:2", "guardian"))
    assert [r.adult_name for r in ben.restrictions or ()] == ["Ray A", "Roy B"]
    assert ana.restrictions == ()


@pytest.mark.parametrize(("row", "column"), [
    ("1,Ana,A,9,NOPE,,,,,,", "homeroom"),
    ("1,Ana,A,9,,,5125550101,,,,", "guardian1_name"),
    ("1,Ana,A,9,,,,,,Ray A,", "restriction_kind"),
    ("1,Ana,A,9,,,,,,,custody", "restriction_kind"),
    ("1,Ana,A,9,,,,,,Ray A,banned", "restriction_kind"),
    ("1,Ana,A,9,,Pat,555,,,,", "guardian1_phone"),
    ("1,,A,9,,,,,,,", "given_name"),
])
def test_each_bad_cell_is_named(row, column):
    with pytest.raises(InvalidRows) as refused:
        plain_roster(HEADER + row + "\n", COLUMNS, [ROOM])
    assert [(e.row, e.column) for e in refused.value.errors] == [(2, column)]


def test_one_phone_is_one_person():
    with pytest.raises(InvalidRows) as refused:
        plain_roster(HEADER + "1,Ana,A,,,Pat A,5125550101,,,,\n2,Ben,A,,,Pam A,5125550101,,,,\n",
                     COLUMNS, [ROOM])
    assert [(e.row, e.column) for e in refused.value.errors] == [(3, "guardian1_name")]


def test_a_repeated_student_id_is_named():
    with pytest.raises(InvalidRows) as refused:
        plain_roster(HEADER + "1,Ana,A,,,,,,,,\n1,Ben,B,,,,,,,,\n", COLUMNS, [ROOM])
    assert [(e.row, e.column) for e in refused.value.errors] == [(3, "student_id")]
