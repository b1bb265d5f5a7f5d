"""`muster report EVENT_ID [--html FILE]` as an operator runs it: a real process."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from msgspec.structs import replace

from db import checkins, events
from db.pool import connect
from domain.checkins import CheckIn, CheckInStatus
from domain.events import Event
from domain.srp import Action, EventStatus
from tests import factories
from tests.conftest import T0
from tests.processes import env, run


async def _ended_drill(url: str) -> uuid.UUID:
    """A lockdown drill of 6 minutes at a school of three rooms, two of which reported (the
    second needing help, with a note)."""
    conn = await connect(url)
    try:
        d = await factories.district(conn)
        s = await factories.school(conn, d)
        rooms = await factories.rooms(conn, s, 3)
        principal = await factories.person(conn, d, s, "principal")
        event = Event(id=uuid.uuid4(), school_id=s, action=Action.LOCKDOWN, drill=True,
                      status=EventStatus.ACTIVE, message=None,
                      directive="Locks, lights, out of sight.", location=None, hazard=None,
                      strategy=None, started_at=T0, started_by=principal)
        await events.record(conn, event, "started", principal, T0, new=True)
        for n, room in enumerate(rooms[:2]):
            at = T0 + timedelta(seconds=40 + 30 * n)
            await checkins.store_checkins(conn, event.id, s, [CheckIn(
                id=uuid.uuid4(), event_id=event.id, room_id=room, client_id=uuid.uuid4(),
                status=CheckInStatus.NEEDS_HELP if n else CheckInStatus.OK,
                students_present=22, note="Two students hurt, need nurse" if n else None,
                observed_at=at, received_at=at, reported_by=principal)])
        end = T0 + timedelta(minutes=6)
        await events.record(conn, replace(event, status=EventStatus.ALL_CLEAR, ended_at=end,
                                          ended_by=principal), "status", principal, end)
        return event.id
    finally:
        await conn.close()


async def test_report_prints_the_record_and_writes_the_page(fresh_database, tmp_path):
    """The terminal table has the figures (durations as m:ss), every room and the rooms'
    notes; --html writes the page."""
    muster_env = env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))
    run("migrate", env=muster_env)
    event_id = await _ended_drill(fresh_database)
    page = tmp_path / "drill.html"
    out = run("report", str(event_id), "--html", str(page), env=muster_env).stdout
    assert "Lockdown drill at Test High: all_clear" in out
    assert re.search(r"First room reported +0:40", out) and re.search(r"Duration +6:00", out)
    rows = [line.split() for line in out.splitlines() if line.startswith("R-00")]
    assert [(r[0], r[4]) for r in rows] == [("R-001", "OK"), ("R-002", "NEEDS"),
                                           ("R-003", "not")]
    assert "Unreported: R-003 (Room 3)" in out and f"wrote {page}" in out
    assert "  R-002  Two students hurt, need nurse" in out
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert "Two students hurt, need nurse" in page.read_text()


def test_report_of_an_unknown_event_is_one_line(fresh_database, tmp_path):
    """An id that names no event, or is not an id, is one line of error, no traceback."""
    muster_env = env(MUSTER_DATABASE_URL=fresh_database, MUSTER_DATA_DIR=str(tmp_path))
    ghost = uuid.uuid4()
    r = run("report", str(ghost), env=muster_env, check=False)
    assert (r.returncode, r.stderr.strip()) == (1, f"Error: no event {ghost}")
    r = run("report", "abc", env=muster_env, check=False)
    assert r.returncode == 2 and "not a valid UUID" in r.stderr and "Traceback" not in r.stderr
