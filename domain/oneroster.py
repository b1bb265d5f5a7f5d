"""A OneRoster 1.1 CSV export (the rostering files most student information systems
write), read into each school's roster (domain/student_roster.py).

The export is a set of CSV files named by its `manifest.csv` (`propertyName,value` rows:
`file.users` is `bulk`, `delta` or `absent`). Muster reads `orgs.csv` and `users.csv`
(both must be bulk), `classes.csv` and `enrollments.csv` (absent: the schools' classes
stay as they are; an enrollment counts from its `beginDate` to its `endDate`, each
optional) and `academicSessions.csv` when present: a class meets only on the days of the
sessions its `termSourcedIds` name (without them, every day); other files are not read.
Headers are matched case aside, extension columns (`metadata.*`, or any other) are
ignored except `metadata.language`, every cell may be quoted. Whatever contradicts itself
is named (file, row, column, why) and nothing is imported; docs/roster.md has the rules.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date

import msgspec

from domain.errors import DomainError
from domain.language import Language
from domain.roster import NAME_MAX, InvalidRows, RowError, _records, decode, email
from domain.schools import Room
from domain.student_roster import (
    GRADE_MAX,
    PERSON_NAME_MAX,
    SOURCE_ID_MAX,
    ClassIn,
    EnrollmentIn,
    GuardianIn,
    RosterIn,
    StudentIn,
    Term,
    merged_terms,
    room_key,
)
from domain.values import Value

MANIFEST = "manifest.csv"
READ = ("orgs", "users", "classes", "enrollments", "academicSessions")
NEEDED = ("orgs", "users")  # bulk, always
# The columns each file must have (others, and extension columns, may be there or not).
COLUMNS = {"orgs": ("sourcedId", "name", "type"),
           "users": ("sourcedId", "role", "givenName", "familyName"),
           "classes": ("sourcedId", "title", "classType", "schoolSourcedId"),
           "enrollments": ("sourcedId", "classSourcedId", "userSourcedId", "role"),
           "academicSessions": ("sourcedId", "startDate", "endDate")}
MAX_ROWS = 200_000  # in one file: a large district's users
GUARDIAN_ROLES = frozenset({"guardian", "parent", "relative"})
STAFF_ROLES = frozenset({"teacher", "administrator", "aide", "proctor"})
USER_ROLES = GUARDIAN_ROLES | STAFF_ROLES | {"student"}
ENROLLMENT_ROLES = frozenset({"student", "teacher", "administrator", "proctor", "aide"})
ORG_TYPES = frozenset({"department", "school", "district", "local", "state", "national"})
CLASS_TYPES = frozenset({"homeroom", "scheduled"})
TITLE_MAX = 200
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # the only date form OneRoster's CSV binding has

Row = tuple[int, dict[str, str]]


class Org(Value, kw_only=True):
    row: int
    sourced_id: str
    name: str
    type: str
    active: bool


class User(Value, kw_only=True):
    row: int
    sourced_id: str
    role: str
    given_name: str
    family_name: str
    active: bool
    orgs: tuple[str, ...]
    agents: tuple[str, ...]
    grade: str | None = None
    phone: str | None = None
    email: str | None = None
    language: Language = Language.EN


class Class(Value, kw_only=True):
    row: int
    sourced_id: str
    title: str
    homeroom: bool
    school: str
    location: str | None
    periods: tuple[str, ...]
    terms: tuple[str, ...]
    active: bool


class Session(Value, kw_only=True):
    """An academic session (a term, a semester, a school year): its days, both included."""

    row: int
    sourced_id: str
    starts: date
    ends: date
    active: bool


class Enrollment(Value, kw_only=True):
    """A user in a class, from `begins` to `ends` (both included; None: open)."""

    row: int
    class_id: str
    user_id: str
    role: str
    active: bool
    begins: date | None
    ends: date | None


class Export(Value, kw_only=True):
    """The export as read and checked; `classes`, `enrollments` and `sessions` None when
    absent."""

    orgs: list[Org]
    users: list[User]
    classes: list[Class] | None
    enrollments: list[Enrollment] | None
    sessions: list[Session] | None


class _Problems:
    """The problems found so far, each naming its file."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def add(self, file: str, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(file=file, row=row, column=column, message=message))

    def check(self) -> None:
        if self.errors:
            raise InvalidRows(self.errors)


def read_export(files: Mapping[str, bytes], phone: Callable[[str], str]) -> Export:
    """The export's files by name (as in the archive) read and checked together; `phone`
    normalises a typed number. InvalidRows naming every contradiction."""
    problems = _Problems()
    kinds = _manifest(files, problems)
    problems.check()
    tables = {name: _table(f"{name}.csv", files[f"{name}.csv"], problems, COLUMNS[name])
              for name in READ if kinds.get(name) == "bulk"}
    problems.check()
    orgs = _orgs(tables["orgs"], problems)
    users = _users(tables["users"], phone, problems)
    classes = _classes(tables["classes"], problems) if "classes" in tables else None
    enrollments = (_enrollments(tables["enrollments"], problems)
                   if "enrollments" in tables else None)
    sessions = (_sessions(tables["academicSessions"], problems)
                if "academicSessions" in tables else None)
    problems.check()
    export = Export(orgs=orgs, users=users, classes=classes, enrollments=enrollments,
                    sessions=sessions)
    _cross_check(export, problems)
    problems.check()
    return export


def _manifest(files: Mapping[str, bytes], problems: _Problems) -> dict[str, str]:
    """Each file's kind (bulk, absent) by its name without `.csv`."""
    if MANIFEST not in files:
        problems.add(MANIFEST, 1, "", "the export has no manifest.csv; a OneRoster CSV export "
                     "always has one, naming each file bulk, delta or absent")
        return {}
    rows = _table(MANIFEST, files[MANIFEST], problems, ("propertyName", "value"))
    kinds: dict[str, str] = {}
    for number, v in rows:
        name, value = v["propertyname"], v["value"].lower()
        if name == "oneroster.version" and value not in ("1.0", "1.1"):
            problems.add(MANIFEST, number, "value", f"OneRoster {v['value']}: Muster reads "
                         "the 1.1 CSV format (and 1.0)")
        kind = name.removeprefix("file.")
        if not name.startswith("file.") or kind not in READ:
            continue  # a file Muster does not read may be anything
        if value == "delta":
            problems.add(MANIFEST, number, "value", f"{kind}.csv is a delta (changes since "
                         "the last export): only bulk exports are imported; export in bulk")
        elif value not in ("bulk", "absent"):
            problems.add(MANIFEST, number, "value", f"{v['value']!r} is not bulk, delta or "
                         "absent")
        elif value == "bulk" and f"{kind}.csv" not in files:
            problems.add(MANIFEST, number, "value", f"{kind}.csv is marked bulk but is not "
                         "in the export")
        kinds[kind] = value
    for kind in NEEDED:
        if kinds.get(kind, "absent") == "absent":
            problems.add(MANIFEST, 1, f"file.{kind}", f"{kind}.csv is needed, in bulk; the "
                         "manifest marks it absent or does not name it")
    return kinds


def _table(file: str, body: bytes, problems: _Problems, required: Sequence[str]) -> list[Row]:
    """The file's rows by number, each a dict of its cells by lower-cased header; none
    when a required column is missing (its one problem, not one per row)."""
    try:
        records = _records(decode(body))
    except InvalidRows as exc:
        for e in exc.errors:
            problems.add(file, e.row, e.column, e.message)
        return []
    header = [h.strip().lower() for h in records[0]] if records else []
    missing = [column for column in required if column.lower() not in header]
    for column in missing:
        problems.add(file, 1, column, "this column is required")
    for name in sorted({h for h in header if h and header.count(h) > 1}):
        problems.add(file, 1, name, "this column is named twice")
    if missing:
        return []
    rows: list[Row] = []
    for number, record in enumerate(records[1:], start=2):
        cells = [c.strip() for c in record]
        if not any(cells):
            continue
        if len(rows) == MAX_ROWS:
            problems.add(file, number, "", f"more than {MAX_ROWS} rows in one file")
            break
        if any(cells[len(header):]):
            problems.add(file, number, "", f"more cells than the {len(header)} columns")
        rows.append((number, dict(zip(header, cells + [""] * (len(header) - len(cells)),
                                      strict=False))))
    return rows


class _Cells:
    """One row's cells, reporting what is wrong with each into `problems`."""

    def __init__(self, file: str, row: Row, problems: _Problems, names: Mapping[str, str]):
        self.file, (self.number, self.values), self.problems = file, row, problems
        self.names = names  # lower-cased header -> the spec's spelling, for messages

    def bad(self, column: str, message: str) -> None:
        self.problems.add(self.file, self.number, self.names.get(column, column), message)

    def get(self, column: str, limit: int = SOURCE_ID_MAX, *, required: bool = False) -> str:
        cell = self.values.get(column, "")
        if required and not cell:
            self.bad(column, "required")
        elif len(cell) > limit:
            self.bad(column, f"longer than {limit} characters")
            return cell[:limit]
        elif "\x00" in cell:
            self.bad(column, "contains a NUL character")
        return cell

    def listed(self, column: str) -> tuple[str, ...]:
        return tuple(x.strip() for x in self.get(column, 10_000).split(",") if x.strip())

    def one_of(self, column: str, allowed: frozenset[str], *, required: bool = True) -> str:
        cell = self.get(column, required=required)
        if cell and cell.lower() not in allowed:
            self.bad(column, f"{cell!r} is not one of {', '.join(sorted(allowed))}")
        return cell.lower()

    def day(self, column: str, *, required: bool) -> date | None:
        """A `YYYY-MM-DD` date; None when it is empty or not one."""
        cell = self.get(column, required=required)
        if not cell:
            return None
        try:
            if not DATE.fullmatch(cell):  # fromisoformat takes other ISO forms too
                raise ValueError(cell)
            return date.fromisoformat(cell)
        except ValueError:
            self.bad(column, f"{cell!r} is not a date written YYYY-MM-DD")
            return None

    def days(self, first: str, last: str, *, required: bool
             ) -> tuple[date | None, date | None]:
        """The dates in columns `first` and `last` (see `day`), the last not before the
        first: a session's, an enrollment's."""
        starts, ends = self.day(first, required=required), self.day(last, required=required)
        if starts is not None and ends is not None and ends < starts:
            self.bad(last, f"{ends} is before the {self.names[first]} {starts}")
        return starts, ends

    def active(self) -> bool:
        """Not `tobedeleted` (an empty status is active: bulk files often leave it empty)."""
        status = self.one_of("status", frozenset({"active", "tobedeleted"}), required=False)
        return status != "tobedeleted"


_SPELLING = {n.lower(): n for n in (
    "sourcedId", "givenName", "familyName", "enabledUser", "orgSourcedIds", "agentSourcedIds",
    "classType", "schoolSourcedId", "classSourcedId", "userSourcedId", "metadata.language",
    "termSourcedIds", "startDate", "endDate", "beginDate")}


def _rows(file: str, rows: list[Row], problems: _Problems) -> list[_Cells]:
    return [_Cells(file, row, problems, _SPELLING) for row in rows]


def _sourced_ids(file: str, rows: list[Row], problems: _Problems) -> list[str]:
    """Each row's sourcedId, each once (a repeat is named)."""
    first: dict[str, int] = {}
    ids = []
    for cells in _rows(file, rows, problems):
        sourced_id = cells.get("sourcedid", required=True)
        if sourced_id in first:
            cells.bad("sourcedid", f"{sourced_id} is also in row {first[sourced_id]}")
        first.setdefault(sourced_id, cells.number)
        ids.append(sourced_id)
    return ids


def _orgs(rows: list[Row], problems: _Problems) -> list[Org]:
    ids = _sourced_ids("orgs.csv", rows, problems)
    return [Org(row=c.number, sourced_id=i, name=c.get("name", TITLE_MAX, required=True),
                type=c.one_of("type", ORG_TYPES), active=c.active())
            for i, c in zip(ids, _rows("orgs.csv", rows, problems), strict=True)]


def _users(rows: list[Row], phone: Callable[[str], str], problems: _Problems) -> list[User]:
    ids = _sourced_ids("users.csv", rows, problems)
    users = []
    for sourced_id, c in zip(ids, _rows("users.csv", rows, problems), strict=True):
        role = c.one_of("role", USER_ROLES)
        enabled = c.one_of("enableduser", frozenset({"true", "false"}), required=False)
        orgs = c.listed("orgsourcedids")
        if role == "student" and not orgs:
            c.bad("orgsourcedids", "required for a student: the school they attend")
        grades = c.listed("grades")
        if grades and len(grades[0]) > GRADE_MAX:
            c.bad("grades", f"{grades[0]!r} is longer than {GRADE_MAX} characters")
        user = User(row=c.number, sourced_id=sourced_id, role=role,
                    given_name=c.get("givenname", PERSON_NAME_MAX, required=True),
                    family_name=c.get("familyname", PERSON_NAME_MAX, required=True),
                    active=c.active() and enabled != "false", orgs=orgs,
                    agents=c.listed("agentsourcedids"),
                    grade=grades[0][:GRADE_MAX] if grades else None)
        if role in GUARDIAN_ROLES:
            user = msgspec.structs.replace(user, **_contact(c, phone))
        users.append(user)
    return users


def _contact(c: _Cells, phone: Callable[[str], str]) -> dict[str, object]:
    """A guardian's phone (`phone`, else `sms`), email and language."""
    found: dict[str, object] = {}
    for column in ("phone", "sms"):
        if typed := c.get(column, 40):
            try:
                found["phone"] = phone(typed)
            except (ValueError, DomainError) as exc:
                c.bad(column, str(exc))
            break
    if typed := c.get("email", 254):
        try:
            found["email"] = email(typed)
        except ValueError as exc:
            c.bad("email", str(exc))
    if language := c.one_of("metadata.language", frozenset(Language), required=False):
        found["language"] = Language(language) if language in set(Language) else Language.EN
    return found


def _classes(rows: list[Row], problems: _Problems) -> list[Class]:
    ids = _sourced_ids("classes.csv", rows, problems)
    return [Class(row=c.number, sourced_id=i, title=c.get("title", TITLE_MAX, required=True),
                  homeroom=c.one_of("classtype", CLASS_TYPES) == "homeroom",
                  school=c.get("schoolsourcedid", required=True),
                  location=c.get("location", TITLE_MAX) or None,
                  periods=c.listed("periods"), terms=c.listed("termsourcedids"),
                  active=c.active())
            for i, c in zip(ids, _rows("classes.csv", rows, problems), strict=True)]


def _sessions(rows: list[Row], problems: _Problems) -> list[Session]:
    """The sessions whose dates are sound (the others are named, and refuse the export)."""
    ids = _sourced_ids("academicSessions.csv", rows, problems)
    sessions = []
    for sourced_id, c in zip(ids, _rows("academicSessions.csv", rows, problems), strict=True):
        (starts, ends), active = c.days("startdate", "enddate", required=True), c.active()
        if starts is None or ends is None:
            continue
        sessions.append(Session(row=c.number, sourced_id=sourced_id, starts=starts,
                                ends=ends, active=active))
    return sessions


def _enrollments(rows: list[Row], problems: _Problems) -> list[Enrollment]:
    _sourced_ids("enrollments.csv", rows, problems)
    enrollments = []
    for c in _rows("enrollments.csv", rows, problems):
        begins, ends = c.days("begindate", "enddate", required=False)
        enrollments.append(Enrollment(
            row=c.number, class_id=c.get("classsourcedid", required=True),
            user_id=c.get("usersourcedid", required=True),
            role=c.one_of("role", ENROLLMENT_ROLES), active=c.active(), begins=begins,
            ends=ends))
    return enrollments


def _cross_check(export: Export, problems: _Problems) -> None:
    """What one file says of another: every id it names exists, and roles agree."""
    orgs = {o.sourced_id for o in export.orgs}
    users = {u.sourced_id: u for u in export.users}
    for u in export.users:
        for org in u.orgs:
            if org not in orgs:
                problems.add("users.csv", u.row, "orgSourcedIds", f"{org} is not in orgs.csv")
        for agent in u.agents:
            if agent not in users:
                problems.add("users.csv", u.row, "agentSourcedIds",
                             f"{agent} is not in users.csv")
    classes = {c.sourced_id: c for c in export.classes or ()}
    sessions = {s.sourced_id for s in export.sessions or ()}
    for c in export.classes or ():
        if c.school not in orgs:
            problems.add("classes.csv", c.row, "schoolSourcedId", f"{c.school} is not in "
                         "orgs.csv")
        for term in c.terms:
            if export.sessions is not None and term not in sessions:
                problems.add("classes.csv", c.row, "termSourcedIds", f"{term} is not in "
                             "academicSessions.csv")
    for e in export.enrollments or ():
        user = users.get(e.user_id)
        if e.class_id not in classes:
            problems.add("enrollments.csv", e.row, "classSourcedId", f"{e.class_id} is not "
                         "in classes.csv" if export.classes is not None else
                         "classes.csv is absent, so no class can be enrolled in")
        if user is None:
            problems.add("enrollments.csv", e.row, "userSourcedId", f"{e.user_id} is not in "
                         "users.csv")
        elif (e.role == "student") != (user.role == "student"):
            problems.add("enrollments.csv", e.row, "role", f"{e.user_id} is a {user.role} in "
                         f"users.csv (row {user.row}) but enrolled as a {e.role}")


# -- orgs to schools ---------------------------------------------------------------------

class SchoolRef(Value, kw_only=True):
    """A school of the district as matching needs it: `source_id` its OneRoster org's."""

    id: uuid.UUID
    name: str
    source_id: str | None = None


class NotImported(Value, kw_only=True):
    """A school org of the export that no school of the district matches."""

    sourced_id: str
    name: str
    why: str


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def match_orgs(orgs: Sequence[Org], schools: Sequence[SchoolRef]
               ) -> tuple[dict[str, SchoolRef], list[NotImported]]:
    """Each school org's school: the one whose stored sourcedId is the org's, else the one
    with its name (case and spacing aside) that has no sourcedId yet; the orgs none
    matches. Two orgs matching one school is a contradiction (InvalidRows)."""
    by_source = {s.source_id: s for s in schools if s.source_id}
    by_name: dict[str, list[SchoolRef]] = {}
    for s in schools:
        if s.source_id is None:
            by_name.setdefault(name_key(s.name), []).append(s)
    matched: dict[str, SchoolRef] = {}
    first: dict[uuid.UUID, Org] = {}
    missed, errors = [], []
    for org in orgs:
        if org.type != "school" or not org.active:
            continue
        named = by_name.get(name_key(org.name), [])
        school = by_source.get(org.sourced_id) or (named[0] if len(named) == 1 else None)
        if school is None:
            why = ("several schools of the district have this name" if named else
                   "no school of the district has this name or sourcedId")
            missed.append(NotImported(sourced_id=org.sourced_id, name=org.name, why=why))
        elif school.id in first:
            errors.append(RowError(file="orgs.csv", row=org.row, column="name", message=(
                f"matches {school.name} as row {first[school.id].row} does; one org per "
                "school")))
        else:
            first[school.id] = org
            matched[org.sourced_id] = school
    if errors:
        raise InvalidRows(errors)
    return matched, missed


# -- one school's roster -------------------------------------------------------------------

class UnmappedLocation(Value, kw_only=True):
    class_sourced_id: str
    title: str
    location: str


class NoPhone(Value, kw_only=True):
    sourced_id: str
    name: str


class SchoolRoster(Value, kw_only=True):
    """One school's roster from the export, and what did not map: class locations that
    are no room (their students fall back to their homeroom), guardians who cannot be
    texted."""

    roster: RosterIn
    unmapped_locations: list[UnmappedLocation]
    guardians_without_phone: list[NoPhone]


def room_finder(rooms: Sequence[Room]) -> Callable[[str], uuid.UUID | None]:
    """A class location's room: the room with that code, else the one room with that name
    (case and spacing aside)."""
    codes = {room_key(r.code): r.id for r in rooms}
    names: dict[str, list[uuid.UUID]] = {}
    for r in rooms:
        names.setdefault(room_key(r.name), []).append(r.id)

    def find(location: str) -> uuid.UUID | None:
        key = room_key(location)
        named = names.get(key, [])
        return codes.get(key) or (named[0] if len(named) == 1 else None)

    return find


def _terms(c: Class, days: Mapping[str, Term] | None) -> tuple[Term, ...] | None:
    """The days the class meets: those of the active sessions it names (`days`, by
    sourcedId); None (every day) when it names none or the export has no
    academicSessions.csv to say when they are."""
    if days is None or not c.terms:
        return None
    return merged_terms(days[t] for t in c.terms if t in days)


def _spanning(a: EnrollmentIn, b: EnrollmentIn) -> EnrollmentIn:
    """One enrollment for a student's two in one class (they left it and came back):
    from the earlier beginning to the later end, an open end staying open. The days
    between count too: a school keeps one enrollment per student and class."""
    begins = None if a.begins is None or b.begins is None else min(a.begins, b.begins)
    ends = None if a.ends is None or b.ends is None else max(a.ends, b.ends)
    return EnrollmentIn(a.class_id, begins, ends)


def school_roster(export: Export, org_id: str, rooms: Sequence[Room]) -> SchoolRoster:
    """The students of the org (all roles but students are only checked), their
    guardians (linked by agentSourcedIds either way; the relationship is the guardian's
    role), classes and enrollments; a homeroom class gives its students their homeroom."""
    find = room_finder(rooms)
    users = {u.sourced_id: u for u in export.users}
    days = (None if export.sessions is None else
            {s.sourced_id: Term(s.starts, s.ends) for s in export.sessions if s.active})
    students = [u for u in export.users if u.role == "student" and org_id in u.orgs]
    classes: list[ClassIn] | None = None
    unmapped = []
    class_of: dict[str, ClassIn] = {}
    if export.classes is not None:
        classes = []
        for c in export.classes:
            if c.school != org_id:
                continue
            room = find(c.location) if c.location else None
            if c.location and room is None:
                unmapped.append(UnmappedLocation(class_sourced_id=c.sourced_id, title=c.title,
                                                 location=c.location))
            class_of[c.sourced_id] = ClassIn(source_id=c.sourced_id, title=c.title,
                                             room_id=room, periods=c.periods,
                                             homeroom=c.homeroom, active=c.active,
                                             terms=_terms(c, days))
            classes.append(class_of[c.sourced_id])
    enrolled: dict[str, dict[str, EnrollmentIn]] = {}
    for e in export.enrollments or ():
        if e.active and e.role == "student" and e.class_id in class_of:
            theirs = enrolled.setdefault(e.user_id, {})
            new, was = EnrollmentIn(e.class_id, e.begins, e.ends), theirs.get(e.class_id)
            theirs[e.class_id] = new if was is None else _spanning(was, new)
    guardians_of: dict[str, dict[str, str]] = {}
    for u in export.users:
        for agent in u.agents:
            other = users[agent]
            pair = ((u, other) if u.role == "student" else (other, u))
            if pair[0].role == "student" and pair[1].role in GUARDIAN_ROLES and pair[1].active:
                guardians_of.setdefault(pair[0].sourced_id, {})[pair[1].sourced_id] = \
                    pair[1].role
    wanted: list[StudentIn] = []
    linked: dict[str, User] = {}
    for s in students:
        theirs = enrolled.get(s.sourced_id, {})
        mine = sorted(theirs)
        homeroom = next((class_of[c].room_id for c in mine if class_of[c].homeroom
                         and class_of[c].active and class_of[c].room_id), None)
        links = guardians_of.get(s.sourced_id, {})
        linked |= {g: users[g] for g in links}
        wanted.append(StudentIn(
            source_id=s.sourced_id, given_name=s.given_name, family_name=s.family_name,
            grade=s.grade, homeroom_id=homeroom, active=s.active,
            guardians=tuple(sorted(links.items())),
            classes=tuple(theirs[c] for c in mine) if classes is not None else None))
    guardians = [GuardianIn(source_id=g.sourced_id,
                            name=f"{g.given_name} {g.family_name}"[:NAME_MAX],
                            phone=g.phone, email=g.email, language=g.language)
                 for g in sorted(linked.values(), key=lambda g: g.sourced_id)]
    return SchoolRoster(
        roster=RosterIn(students=wanted, guardians=guardians, classes=classes),
        unmapped_locations=unmapped,
        guardians_without_phone=[NoPhone(sourced_id=g.source_id, name=g.name)
                                 for g in guardians if g.phone is None])
