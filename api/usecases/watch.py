"""A contact's read-only link to an event (domain/watch.py): the token is the only
credential, found by its digest; it shows its one event, and nothing of any other."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db import checkins, schools
from db import contacts as db
from db import events as events_db
from db import watch as db_watch
from domain.errors import NotFound
from domain.links import digest, open_until, require_open, well_formed
from domain.watch import WatchView, watch_view

# The one answer for a token never issued, garbled, or of a contact no longer listed.
UNKNOWN = "no such link: it may be mistyped, or no longer in use"


async def watch(conn: asyncpg.Connection, token: str, now: datetime) -> WatchView:
    """The event as a responding officer needs it: NotFound (404) for a token we never
    issued or a contact taken off the school's list; Expired (410) once the event has
    been over for longer than the links' window."""
    event_id = await db.find_watch_link(conn, digest(token)) if well_formed(token) else None
    if event_id is None:
        raise NotFound(UNKNOWN)
    event = (await events_db.load_event(conn, event_id)).event
    require_open(event, now)
    school = await schools.get_school(conn, event.school_id)
    if school is None:
        raise NotFound(UNKNOWN)
    rooms, latest = await checkins.rooms_with_reports(conn, event.id, event.school_id)
    return watch_view(event, school, rooms, latest, await db_watch.updates_of(conn, event.id),
                      open_until(event))
