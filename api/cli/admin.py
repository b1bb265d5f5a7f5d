"""`muster import staff|rooms|students|oneroster` and `muster roster erase`: an operator
loads a school's CSV file (or a OneRoster export, for a school or a district), or erases
its student data, from the command line, through the same use cases, checks and audit
trail as the API (the actor is recorded as none)."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import asyncpg

from api.usecases import rooms, rosters, staff, students
from api.usecases.unit_of_work import UnitOfWork
from db.schools import get_school
from domain.errors import Invalid
from domain.roster import InvalidRows

KINDS = ("staff", "rooms", "students", "oneroster")


class _NoCopies:
    """A command keeps no copies of callers or events: nothing to forget."""

    def forget(self, key: uuid.UUID, /) -> None:
        pass


def _work(conn: asyncpg.Connection) -> UnitOfWork:
    return UnitOfWork(conn, events=_NoCopies(), callers=_NoCopies())


async def import_file(conn: asyncpg.Connection, kind: str, school_id: uuid.UUID, body: bytes,
                      now: datetime) -> str:
    """Import the file, all rows or none; one line saying what it did. InvalidRows or
    NotFound when nothing was imported."""
    uow = _work(conn)
    if kind == "rooms":
        saved = await rooms.import_rooms(uow, None, school_id, body, now)
        did = f"rooms {saved.created} created, {saved.updated} updated, {saved.unchanged}"
    elif kind == "students":
        loaded = await rosters.import_students(uow, None, school_id, body, now)
        did = (f"students {loaded.added} added, {loaded.updated} updated, "
               f"{loaded.deactivated} deactivated, {loaded.unchanged}")
    else:
        done = await staff.import_staff(uow, None, school_id, body, now)
        did = f"staff {done.added} added, {done.updated} updated, {done.unchanged}"
    school = await get_school(conn, school_id)
    assert school is not None  # the import found it, and schools are never deleted
    return f"{school.name}: {did} unchanged"


async def erase_roster(conn: asyncpg.Connection, school_id: uuid.UUID, confirm: str,
                       now: datetime) -> str:
    """Erase the school's student data (all or none); one line saying what it did."""
    erased = await students.erase_roster(_work(conn), None, school_id, confirm, now)
    school = await get_school(conn, school_id)
    assert school is not None  # the erasure found it, and schools are never deleted
    return (f"{school.name}: {erased.students} students erased; {erased.guardians} guardians, "
            f"{erased.restrictions} restrictions, {erased.classes} classes, "
            f"{erased.enrollments} enrollments and {erased.bell_schedules} bell schedule "
            f"deleted; {erased.reunification_adults} reunification adults erased")


async def import_oneroster(conn: asyncpg.Connection, files: dict[str, bytes], now: datetime,
                          *, school_id: uuid.UUID | None = None,
                          district_id: uuid.UUID | None = None) -> list[str]:
    """Import a OneRoster export for a school or a district; lines saying what it did.
    InvalidRows or NotFound when nothing was imported."""
    uow = UnitOfWork(conn, events=_NoCopies(), callers=_NoCopies())
    done = await rosters.import_oneroster(uow, None, files, now, school_id=school_id,
                                          district_id=district_id)
    lines = [f"{s.school_name} (org {s.org_sourced_id}): students {s.added} added, "
             f"{s.updated} updated, {s.deactivated} deactivated, {s.unchanged} unchanged"
             + "".join(f"\n  class {u.class_sourced_id} ({u.title}): no room is "
                       f"{u.location!r}; its students fall back to their homeroom"
                       for u in s.unmapped_locations)
             + (f"\n  {len(s.guardians_without_phone)} guardians without a phone cannot "
                "be texted" if s.guardians_without_phone else "")
             for s in done.schools]
    lines += [f"not imported: org {o.sourced_id} ({o.name}): {o.why}"
              for o in done.not_imported_orgs]
    return lines + ([] if done.changed else ["nothing changed; nothing was written"])


# Read from a folder: the export's files, each at most this large.
MAX_FILE_BYTES = rosters.MAX_UNZIPPED_BYTES


def oneroster_files(path: Path) -> dict[str, bytes]:
    """A OneRoster export from a zip file or a folder of its CSV files."""
    if not path.is_dir():
        return rosters.unzip(path.read_bytes())
    files = {}
    for csv_file in sorted(path.glob("*.csv")):
        if csv_file.stat().st_size > MAX_FILE_BYTES:
            raise Invalid(f"{csv_file.name} is larger than {MAX_FILE_BYTES // 2**20} MiB")
        files[csv_file.name] = csv_file.read_bytes()
    return files


def row_lines(refused: InvalidRows) -> list[str]:
    """Each problem as a line an operator can act on."""
    lines = [(f"{e.file} " if e.file else "") + f"row {e.row}"
             + (f", {e.column}" if e.column else "") + f": {e.message}"
             for e in refused.errors]
    if refused.total > len(refused.errors):
        lines.append(f"... and {refused.total - len(refused.errors)} more")
    return lines
