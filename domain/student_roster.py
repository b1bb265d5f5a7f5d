"""A school's students as a roster gives them, and what importing it changes.

Two rosters give students: a OneRoster export (domain/oneroster.py) and the plain students
CSV read here. Both become a `RosterIn` for one school, and `plan_roster` compares it with
what the school has (`StoredRoster`): students and guardians are found again by their
source id (the SIS's id), keep their Muster id and take the file's facts; students of the
school the roster leaves out become inactive, never deleted (past reports and releases
name them). A plan that changes nothing is empty, and importing it writes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

import msgspec

from domain.language import Language
from domain.roster import (
    CODE_MAX,
    NAME_MAX,
    Column,
    InvalidRows,
    RowError,
    email,
    language,
    read_table,
    repeats,
    text,
)
from domain.schools import Room
from domain.students import Guardian, Restriction, RestrictionKind, Student, same_person
from domain.values import Value

W = TypeVar("W", "GuardianIn", "ClassIn")
S = TypeVar("S", Guardian, "SchoolClass")

# The database's limits (db/migrations/0020_students.sql).
SOURCE_ID_MAX, PERSON_NAME_MAX, GRADE_MAX, RELATIONSHIP_MAX, NOTE_MAX = 255, 100, 20, 40, 500


class GuardianIn(Value, kw_only=True):
    """An adult on students' records as the roster gives them; `source_id` finds them
    again at the next import."""

    source_id: str
    name: str
    phone: str | None = None
    email: str | None = None
    language: Language = Language.EN


class RestrictionIn(Value, kw_only=True):
    kind: RestrictionKind
    adult_name: str
    note: str | None = None


class EnrollmentIn(Value):
    """A student in a class (its source id) as the roster gives it: it counts from the
    day it `begins` to the day it `ends`, both included; None: an open end. A student
    who changes section mid-term has the old class's enrollment ending and the new one's
    beginning, so that each day they are expected in one class."""

    class_id: str
    begins: date | None = None
    ends: date | None = None


# A student's enrollment as planned and stored: (class id, begins, ends).
Enrolled = tuple[uuid.UUID, date | None, date | None]


class StudentIn(Value, kw_only=True):
    """A student as the roster gives them: `guardians` as (guardian source id,
    relationship); `restrictions` and `classes` (their enrollments) None when the roster
    says nothing of them, so that the school's stay as they are."""

    source_id: str
    given_name: str
    family_name: str
    grade: str | None = None
    homeroom_id: uuid.UUID | None = None
    active: bool = True
    guardians: tuple[tuple[str, str], ...] = ()
    restrictions: tuple[RestrictionIn, ...] | None = None
    classes: tuple[EnrollmentIn, ...] | None = None


class Term(Value):
    """Days a class meets: from `starts` to `ends`, both included."""

    starts: date
    ends: date


def merged_terms(terms: Iterable[Term]) -> tuple[Term, ...]:
    """The same days as `terms`, in order, overlapping or touching terms made one: the
    form the database keeps them in (a multirange), so that a class read back compares
    equal to the one planned and a re-import of the same terms changes nothing."""
    merged: list[Term] = []
    for term in sorted(terms, key=lambda t: t.starts):
        if merged and term.starts <= merged[-1].ends + timedelta(days=1):
            merged[-1] = Term(merged[-1].starts, max(merged[-1].ends, term.ends))
        else:
            merged.append(term)
    return tuple(merged)


class ClassIn(Value, kw_only=True):
    """A class as the roster gives it: where it meets (None: in no known room) and when:
    its periods, on the days of its `terms` (merged_terms; None: every day, () none)."""

    source_id: str
    title: str
    room_id: uuid.UUID | None = None
    periods: tuple[str, ...] = ()
    homeroom: bool = False
    active: bool = True
    terms: tuple[Term, ...] | None = None


class SchoolClass(ClassIn, kw_only=True):
    """A class of the school."""

    id: uuid.UUID


class RosterIn(Value, kw_only=True):
    """One school's roster as a file gives it; `classes` None: the file has none, and the
    school's classes and enrollments stay as they are."""

    students: list[StudentIn]
    guardians: list[GuardianIn]
    classes: list[ClassIn] | None = None


class StoredRoster(Value, kw_only=True):
    """What the school has: its students, guardians and classes, and who is linked to
    whom (student id, guardian id, relationship), restricted, enrolled (student id, class
    id, begins, ends)."""

    students: list[Student]
    guardians: list[Guardian]
    classes: list[SchoolClass]
    links: list[tuple[uuid.UUID, uuid.UUID, str]]
    restrictions: list[Restriction]
    enrollments: list[tuple[uuid.UUID, uuid.UUID, date | None, date | None]]


class RosterPlan(Value, kw_only=True):
    """What importing a roster writes: students, guardians and classes to insert or
    update (by id), and for some students their whole list of guardians (guardian id,
    relationship), restrictions or enrollments, replaced."""

    students: list[Student]
    guardians: list[Guardian]
    classes: list[SchoolClass]
    links: dict[uuid.UUID, list[tuple[uuid.UUID, str]]]
    restrictions: dict[uuid.UUID, list[Restriction]]
    enrollments: dict[uuid.UUID, list[Enrolled]]
    added: int
    updated: int
    deactivated: int
    unchanged: int

    @property
    def changes_anything(self) -> bool:
        return bool(self.students or self.guardians or self.classes or self.links
                    or self.restrictions or self.enrollments)


def _grouped(pairs: Iterable[tuple[uuid.UUID, Any]]) -> dict[uuid.UUID, set[Any]]:
    groups: dict[uuid.UUID, set[Any]] = defaultdict(set)
    for key, value in pairs:
        groups[key].add(value)
    return groups


def _restriction_facts(r: Restriction) -> tuple[object, ...]:
    return (r.kind, r.adult_name, r.guardian_id, r.note)


def plan_roster(school_id: uuid.UUID, stored: StoredRoster, wanted: RosterIn,
                mint: Callable[[], uuid.UUID]) -> RosterPlan:
    """Upsert by source id: a known one keeps its id and takes the roster's facts, a new
    one gets an id. Students (and, when the roster has classes, classes) of the school it
    leaves out become inactive; guardians it leaves out stay (a reunification may name
    them) but are linked to no one it lists."""
    guardians, guardian_ids = _upsert(
        {g.source_id: g for g in stored.guardians}, wanted.guardians, mint,
        lambda g, id_: Guardian(id=id_, school_id=school_id, **msgspec.structs.asdict(g)))
    classes: list[SchoolClass] = []
    class_ids: dict[str, uuid.UUID] = {}
    if wanted.classes is not None:
        classes, class_ids = _upsert(
            {c.source_id: c for c in stored.classes}, wanted.classes, mint,
            lambda c, id_: SchoolClass(id=id_, **msgspec.structs.asdict(c)))
        classes += [msgspec.structs.replace(c, active=False) for c in stored.classes
                    if c.active and c.source_id not in class_ids]
    names = {g.source_id: g.name for g in wanted.guardians}
    links_of = _grouped((s, (g, r)) for s, g, r in stored.links)
    restrictions_of = _grouped((r.student_id, _restriction_facts(r))
                               for r in stored.restrictions)
    enrollments_of = _grouped((s, (c, begins, ends))
                              for s, c, begins, ends in stored.enrollments)
    known = {s.source_id: s for s in stored.students}
    plan = RosterPlan(students=[], guardians=guardians, classes=classes, links={},
                      restrictions={}, enrollments={}, added=0, updated=0, deactivated=0,
                      unchanged=0)
    counts = {"added": 0, "updated": 0, "deactivated": 0, "unchanged": 0}
    for w in wanted.students:
        was = known.get(w.source_id)
        student = Student(id=was.id if was else mint(), school_id=school_id,
                          source_id=w.source_id, given_name=w.given_name,
                          family_name=w.family_name, grade=w.grade,
                          homeroom_id=w.homeroom_id, active=w.active)
        changed = student != was
        if changed:
            plan.students.append(student)
        links = {guardian_ids[g]: r for g, r in w.guardians}
        if set(links.items()) != links_of.get(student.id, set()):
            plan.links[student.id] = sorted(links.items())
            changed = True
        if w.restrictions is not None:
            restrictions = [Restriction(
                id=mint(), student_id=student.id, kind=r.kind, adult_name=r.adult_name,
                note=r.note, guardian_id=next((guardian_ids[g] for g, _ in w.guardians
                                               if same_person(names[g], r.adult_name)), None))
                for r in w.restrictions]
            if {_restriction_facts(r) for r in restrictions} != restrictions_of.get(
                    student.id, set()):
                plan.restrictions[student.id] = restrictions
                changed = True
        if w.classes is not None:  # their dates compared too: a new endDate is a change
            enrolled = {(class_ids[e.class_id], e.begins, e.ends) for e in w.classes}
            if enrolled != enrollments_of.get(student.id, set()):
                plan.enrollments[student.id] = sorted(enrolled, key=lambda e: e[0])
                changed = True
        counts[_outcome(was, student, changed)] += 1
    listed = {w.source_id for w in wanted.students}
    for s in stored.students:
        if s.active and s.source_id not in listed:
            plan.students.append(msgspec.structs.replace(s, active=False))
            counts["deactivated"] += 1
    return msgspec.structs.replace(plan, **counts)


def _outcome(was: Student | None, now: Student, changed: bool) -> str:
    if was is None:
        return "added"
    if was.active and not now.active:
        return "deactivated"
    return "updated" if changed else "unchanged"


def _upsert(stored: Mapping[str, S], wanted: Sequence[W], mint: Callable[[], uuid.UUID],
            build: Callable[[W, uuid.UUID], S]) -> tuple[list[S], dict[str, uuid.UUID]]:
    """The wanted rows that are new or changed, and every wanted row's id by source id."""
    changed, ids = [], {}
    for w in wanted:
        was = stored.get(w.source_id)
        row = build(w, was.id if was else mint())
        ids[w.source_id] = row.id
        if row != was:
            changed.append(row)
    return changed, ids


# -- the plain students CSV -------------------------------------------------------------

GUARDIAN_COLUMNS = 2  # guardian1_..., guardian2_...
GUARDIAN_FIELDS = ("name", "phone", "relationship", "language", "email")


def restriction_kind(cell: str) -> RestrictionKind:
    try:
        return RestrictionKind(cell.lower())
    except ValueError:
        raise ValueError(f"{cell!r} is not a restriction; one of "
                         f"{', '.join(RestrictionKind)}") from None


def student_columns(phone: Callable[[str], str]) -> tuple[Column, ...]:
    """The plain students CSV's columns; `phone` normalises a typed number."""
    guardians = [column for n in range(1, GUARDIAN_COLUMNS + 1) for column in (
        Column(f"guardian{n}_name", text(NAME_MAX)),
        Column(f"guardian{n}_phone", phone),
        Column(f"guardian{n}_relationship", text(RELATIONSHIP_MAX)),
        Column(f"guardian{n}_language", language),
        Column(f"guardian{n}_email", email))]
    return (Column("student_id", text(SOURCE_ID_MAX), required=True),
            Column("given_name", text(PERSON_NAME_MAX), required=True),
            Column("family_name", text(PERSON_NAME_MAX), required=True),
            Column("grade", text(GRADE_MAX)),
            Column("homeroom", text(CODE_MAX)),
            *guardians,
            Column("restricted_adult", text(10 * NAME_MAX)),
            Column("restriction_kind", restriction_kind),
            Column("restriction_note", text(NOTE_MAX)))


def room_key(name: str) -> str:
    """How a room's code or name is matched: case aside, spaces collapsed."""
    return " ".join(name.casefold().split())


def plain_roster(content: str, columns: Sequence[Column], rooms: Sequence[Room]) -> RosterIn:
    """A plain students CSV as one school's roster (no classes); InvalidRows naming every
    problem. A guardian with a phone is found by it (siblings share one guardian); one
    without, by the student id and their column number."""
    table = read_table(content, columns)
    errors = [RowError(row=table[i][0], column="student_id",
                       message=f"{table[i][1]['student_id']} is also in row {table[j][0]}")
              for i, j in repeats(v["student_id"] for _, v in table).items()]
    by_code = {room_key(r.code): r.id for r in rooms}
    guardians: dict[str, tuple[int, GuardianIn]] = {}
    students = []
    for number, v in table:
        homeroom = None
        if v["homeroom"] is not None:
            homeroom = by_code.get(room_key(str(v["homeroom"])))
            if homeroom is None:
                errors.append(RowError(row=number, column="homeroom", message=f"no room has "
                                       f"the code {v['homeroom']!r}; add it to the rooms"))
        links = []
        for n in range(1, GUARDIAN_COLUMNS + 1):
            guardian = _guardian(number, v, n, errors)
            if guardian is None:
                continue
            first = guardians.setdefault(guardian.source_id, (number, guardian))
            if first[1] != guardian:
                errors.append(RowError(row=number, column=f"guardian{n}_name", message=(
                    f"the phone {guardian.phone} is a guardian in row {first[0]} too, "
                    "described otherwise there; one phone is one person")))
            links.append((guardian.source_id,
                          str(v[f"guardian{n}_relationship"] or "guardian")))
        if len({g for g, _ in links}) < len(links):
            errors.append(RowError(row=number, column="guardian2_phone",
                                   message="the same guardian twice"))
        students.append(StudentIn(
            source_id=str(v["student_id"]), given_name=str(v["given_name"]),
            family_name=str(v["family_name"]), grade=v["grade"],  # type: ignore[arg-type]
            homeroom_id=homeroom, guardians=tuple(links),
            restrictions=_restrictions(number, v, errors)))
    if errors:
        raise InvalidRows(sorted(errors, key=lambda e: e.row))
    return RosterIn(students=students, guardians=[g for _, g in guardians.values()])


def _guardian(number: int, v: Mapping[str, object], n: int,
              errors: list[RowError]) -> GuardianIn | None:
    given = {f: v[f"guardian{n}_{f}"] for f in GUARDIAN_FIELDS}
    if given["name"] is None:
        if any(x is not None for x in given.values()):
            errors.append(RowError(row=number, column=f"guardian{n}_name", message=(
                f"required when another guardian{n} column is filled")))
        return None
    phone = given["phone"]
    source = f"phone:{phone}" if phone else f"student:{v['student_id']}:{n}"
    return GuardianIn(source_id=source, name=str(given["name"]),
                      phone=phone, email=given["email"],  # type: ignore[arg-type]
                      language=given["language"] or Language.EN)  # type: ignore[arg-type]


def _restrictions(number: int, v: Mapping[str, object],
                  errors: list[RowError]) -> tuple[RestrictionIn, ...]:
    names = [n.strip() for n in str(v["restricted_adult"] or "").split(";") if n.strip()]
    kind = v["restriction_kind"]
    if not names:
        for column in ("restriction_kind", "restriction_note"):
            if v[column] is not None:
                errors.append(RowError(row=number, column=column,
                                       message="given without a restricted_adult"))
        return ()
    if kind is None:
        errors.append(RowError(row=number, column="restriction_kind", message=(
            "required with a restricted_adult: no_contact or custody")))
        return ()
    for name in names:
        if len(name) > NAME_MAX:
            errors.append(RowError(row=number, column="restricted_adult",
                                   message=f"a name longer than {NAME_MAX} characters"))
            return ()
    return tuple(RestrictionIn(kind=kind, adult_name=name,  # type: ignore[arg-type]
                               note=v["restriction_note"])  # type: ignore[arg-type]
                 for name in names)
