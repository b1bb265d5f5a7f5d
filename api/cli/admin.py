"""`muster import staff|rooms` and `muster roster erase`: an operator loads a school's CSV
file, or erases its student data, from the command line, through the same use cases,
checks and audit trail as the API (the actor is recorded as none)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from api.usecases import rooms, staff, students
from api.usecases.unit_of_work import UnitOfWork
from db.schools import get_school
from domain.roster import InvalidRows

KINDS = ("staff", "rooms")


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


def row_lines(refused: InvalidRows) -> list[str]:
    """Each problem as a line an operator can act on."""
    lines = [f"row {e.row}" + (f", {e.column}" if e.column else "") + f": {e.message}"
             for e in refused.errors]
    if refused.total > len(refused.errors):
        lines.append(f"... and {refused.total - len(refused.errors)} more")
    return lines
