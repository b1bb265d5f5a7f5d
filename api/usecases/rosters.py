"""Loading students: a OneRoster 1.1 CSV export for a school or a whole district, or a
plain students CSV for one school (the API and `muster import oneroster|students`).

Everything is read and checked before anything is written: a contradiction anywhere is
a 400 naming each (file, row, column, why) and nothing is stored. The rules of the file
and of matching are domain/oneroster.py and domain/student_roster.py (docs/roster.md);
here the schools are found and locked, each school's plan is written in the one
transaction with an audit entry per school it changed, and an import that changes
nothing writes nothing, not even an audit entry.
"""

from __future__ import annotations

import io
import uuid
import zipfile
import zlib
from collections.abc import Mapping
from datetime import datetime

from api.usecases.callers import Caller
from api.usecases.phones import to_e164
from api.usecases.schools import school_as
from api.usecases.unit_of_work import UnitOfWork
from db import audit
from db import rosters as db
from db import staff as staff_db
from db.schools import get_school
from domain import oneroster, roster, student_roster
from domain.admin import OPERATOR, Actor, AdminChange
from domain.errors import Forbidden, NotFound
from domain.oneroster import NoPhone, NotImported, SchoolRef, UnmappedLocation
from domain.policy import Permission
from domain.roles import Role
from domain.student_roster import RosterIn, RosterPlan
from domain.values import Value

MAX_ZIP_BYTES = 20 * 1024 * 1024  # the upload itself
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # everything it holds, read or not
MAX_ENTRIES = 200


class SchoolImported(Value, kw_only=True):
    """What an import did at one school: students added, updated (anything of theirs:
    name, grade, homeroom, guardians, restrictions, classes), deactivated (left the
    school), unchanged; guardians and classes new or changed; and what did not map."""

    school_id: uuid.UUID
    school_name: str
    org_sourced_id: str | None = None
    added: int
    updated: int
    deactivated: int
    unchanged: int
    guardians_changed: int
    classes_changed: int
    unmapped_locations: list[UnmappedLocation]
    guardians_without_phone: list[NoPhone]


class RosterImported(Value, kw_only=True):
    """A OneRoster import: `changed` false when it changed nothing (nothing was written);
    the students' counts over its schools; school orgs not imported, and why."""

    changed: bool
    added: int
    updated: int
    deactivated: int
    unchanged: int
    schools: list[SchoolImported]
    not_imported_orgs: list[NotImported]


class StudentsImported(Value, kw_only=True):
    """A plain students CSV's import: `changed` false when it changed nothing."""

    changed: bool
    added: int
    updated: int
    deactivated: int
    unchanged: int
    guardians_changed: int
    guardians_without_phone: list[NoPhone]


class BadArchive(roster.InvalidRows):
    """The upload is no sound zip: one problem, about the archive (or one file of it) as
    a whole, so row 0."""

    def __init__(self, message: str, file: str = "(the zip)") -> None:
        super().__init__([roster.RowError(file=file, row=0, column="", message=message)])
        self.args = (f"{message}; nothing was imported",)


def unzip(body: bytes) -> dict[str, bytes]:
    """A OneRoster zip's CSV files by name (a folder inside it is looked through), sizes
    checked before anything is read: a zip that would unpack to more than
    MAX_UNZIPPED_BYTES is refused whole."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        entries = [e for e in archive.infolist() if not e.is_dir()]
    except (zipfile.BadZipFile, ValueError):
        raise BadArchive("not a zip archive; send the OneRoster export's .zip as it is") from None
    if len(entries) > MAX_ENTRIES:
        raise BadArchive(f"more than {MAX_ENTRIES} files in the zip; a OneRoster export "
                         "has about a dozen")
    if sum(e.file_size for e in entries) > MAX_UNZIPPED_BYTES:
        raise BadArchive(f"the zip unpacks to more than {MAX_UNZIPPED_BYTES // 2**20} MiB")
    files: dict[str, bytes] = {}
    for entry in entries:
        parts = entry.filename.replace("\\", "/").split("/")
        if ".." in parts or entry.filename.startswith(("/", "\\")):
            raise BadArchive("a path that points outside the zip", entry.filename)
        name = parts[-1]
        if not name.lower().endswith(".csv") or name.startswith("."):
            continue
        if name in files:
            raise BadArchive("two files of this name in the zip", name)
        try:
            with archive.open(entry) as stream:
                data = stream.read(entry.file_size + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError,
                zlib.error) as exc:  # damaged, encrypted, or compressed in an unknown way
            raise BadArchive(f"cannot be read from the zip ({exc})", entry.filename) from None
        if len(data) > entry.file_size:  # the entry lied about its size
            raise BadArchive("larger than the zip says", entry.filename)
        files[name] = data
    return files


async def import_oneroster(uow: UnitOfWork, caller: Caller | None, files: Mapping[str, bytes],
                           now: datetime, *, school_id: uuid.UUID | None = None,
                           district_id: uuid.UUID | None = None) -> RosterImported:
    """The export for one school (its org must match it: else 400 naming orgs.csv) or for
    every school of a district that an org matches (district admins only); no caller is
    an operator (`muster import`)."""
    async with uow:
        school = None
        if school_id is not None:
            school, actor = await school_as(uow.conn, caller, school_id,
                                            Permission.MANAGE_ROSTER, lock=True)
            district_id = school.district_id
        else:
            assert district_id is not None
            actor = await _district_actor(uow, caller, district_id, now)
        schools = await db.district_schools(uow.conn, district_id)
        if schools is None:
            raise NotFound(f"no district {district_id}")
        export = oneroster.read_export(files, to_e164)
        matched, missed = oneroster.match_orgs(export.orgs, schools)
        if school is not None:
            matched = {org: s for org, s in matched.items() if s.id == school.id}
            if not matched:
                raise roster.InvalidRows([roster.RowError(
                    file="orgs.csv", row=1, column="name", message=(
                        f"no school org matches {school.name}: an org of type school with "
                        "its name, or the sourcedId it was imported with before"))])
        done = [await _import_org(uow, actor, org, ref, export, now)
                for org, ref in sorted(matched.items(), key=lambda m: m[1].name)]
        await db.set_school_sources(uow.conn, {ref.id: org for org, ref in matched.items()
                                               if ref.source_id != org})
    return RosterImported(
        changed=any(_changed(s) for s in done), schools=done, not_imported_orgs=missed,
        **{k: sum(getattr(s, k) for s in done)
           for k in ("added", "updated", "deactivated", "unchanged")})


def _changed(done: SchoolImported) -> bool:
    return bool(done.added or done.updated or done.deactivated or done.guardians_changed
                or done.classes_changed)


async def _district_actor(uow: UnitOfWork, caller: Caller | None, district_id: uuid.UUID,
                          now: datetime) -> Actor:
    if caller is None:
        return OPERATOR
    role = await staff_db.district_role(uow.conn, caller.user_id, district_id, now)
    if role is None:
        raise NotFound(f"no district {district_id}")
    if role is not Role.DISTRICT_ADMIN:
        raise Forbidden("only a district admin imports a whole district's roster")
    return Actor(user_id=caller.user_id, role=role)


async def _import_org(uow: UnitOfWork, actor: Actor, org: str, ref: SchoolRef,
                      export: oneroster.Export, now: datetime) -> SchoolImported:
    rooms = await db.school_rooms(uow.conn, ref.id)
    found = oneroster.school_roster(export, org, rooms)
    plan = await _apply(uow, actor, ref.id, found.roster, AdminChange.ROSTER_IMPORTED, now,
                        org=org)
    return SchoolImported(
        school_id=ref.id, school_name=ref.name, org_sourced_id=org, added=plan.added,
        updated=plan.updated, deactivated=plan.deactivated, unchanged=plan.unchanged,
        guardians_changed=len(plan.guardians), classes_changed=len(plan.classes),
        unmapped_locations=found.unmapped_locations,
        guardians_without_phone=found.guardians_without_phone)


async def import_students(uow: UnitOfWork, caller: Caller | None, school_id: uuid.UUID,
                          body: bytes, now: datetime) -> StudentsImported:
    """A plain students CSV, all rows or none (InvalidRows, per row)."""
    async with uow:
        school, actor = await school_as(uow.conn, caller, school_id, Permission.MANAGE_ROSTER,
                                        lock=True)
        rooms = await db.school_rooms(uow.conn, school.id)
        wanted = student_roster.plain_roster(
            roster.decode(body), student_roster.student_columns(to_e164), rooms)
        plan = await _apply(uow, actor, school.id, wanted, AdminChange.STUDENTS_IMPORTED, now)
    return StudentsImported(
        changed=plan.changes_anything, added=plan.added, updated=plan.updated,
        deactivated=plan.deactivated, unchanged=plan.unchanged,
        guardians_changed=len(plan.guardians),
        guardians_without_phone=[NoPhone(sourced_id=g.source_id, name=g.name)
                                 for g in wanted.guardians if g.phone is None])


async def _apply(uow: UnitOfWork, actor: Actor, school_id: uuid.UUID, wanted: RosterIn,
                 kind: AdminChange, now: datetime, **detail: str) -> RosterPlan:
    """Plan the school's import and write it with its audit entry, if it changes anything."""
    stored = await db.stored_roster(uow.conn, school_id)
    plan = student_roster.plan_roster(school_id, stored, wanted, uuid.uuid4)
    if plan.changes_anything:
        await db.apply_plan(uow.conn, school_id, plan, now)
        school = await get_school(uow.conn, school_id)
        assert school is not None  # locked by the caller, and schools are never deleted
        await audit.record(uow.conn, school, actor, kind, detail | _counts(plan), now)
    return plan


def _counts(plan: RosterPlan) -> dict[str, int]:
    return {"added": plan.added, "updated": plan.updated, "deactivated": plan.deactivated,
            "unchanged": plan.unchanged, "guardians_changed": len(plan.guardians),
            "classes_changed": len(plan.classes)}
