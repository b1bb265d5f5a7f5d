"""`muster import staff|rooms`: an operator loads a school's CSV file from the command line,
through the same checks and audit trail as the API (the actor is recorded as none)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from api.routes.schools.rooms import import_rooms
from api.routes.schools.staff import import_staff
from db.schools import get_school
from domain.admin import OPERATOR
from domain.errors import NotFound
from domain.roster import InvalidRows

KINDS = ("staff", "rooms")


async def import_file(conn: asyncpg.Connection, kind: str, school_id: uuid.UUID, body: bytes,
                      now: datetime) -> str:
    """Import the file, all rows or none; one line saying what it did. InvalidRows or
    NotFound when nothing was imported."""
    async with conn.transaction():
        school = await get_school(conn, school_id, lock=True)
        if school is None:
            raise NotFound(f"no school {school_id}")
        if kind == "rooms":
            rooms = await import_rooms(conn, school, OPERATOR, body, now)
            return (f"{school.name}: rooms {rooms.created} created, {rooms.updated} updated, "
                    f"{rooms.unchanged} unchanged")
        staff, _ = await import_staff(conn, school, OPERATOR, body, now)
        return (f"{school.name}: staff {staff.added} added, {staff.updated} updated, "
                f"{staff.unchanged} unchanged")


def row_lines(refused: InvalidRows) -> list[str]:
    """Each problem as a line an operator can act on."""
    lines = [f"row {e.row}" + (f", {e.column}" if e.column else "") + f": {e.message}"
             for e in refused.errors]
    if refused.total > len(refused.errors):
        lines.append(f"... and {refused.total - len(refused.errors)} more")
    return lines
