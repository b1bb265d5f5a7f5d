"""A contact's read-only link to an event: what an officer on the way opens from the SMS
a real event sent them (domain/contacts.py), with no sign-in.

The token works as a person's link does (domain/links.py), for another message:

    base64url(HMAC-SHA256(secret, "watch:<event_id>:<contact_id>"))[:22]

so that a person's link and a contact's can never be taken for each other; the database
keeps its SHA-256 digest only. It shows the event and no more: the school and where it
is, the action, real or drill, which rooms need help and which have not reported, the
totals, and what the school knows (the "what we know" updates); never a person's name
or phone. It works while the event is active and for the links' window after it
ended (OFFLINE_REPLAY_WINDOW, then 410), and not at all once the contact is no longer
on the school's list (404).
"""

from __future__ import annotations

import base64
import hmac
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from domain.checkins import CheckIn, CheckInStatus, StudentCounts, account
from domain.events import Event
from domain.links import TOKEN_LENGTH, Links
from domain.schools import Room, School
from domain.srp import Action, EventStatus
from domain.values import Value

WATCH_PATH = "/w/"  # the page a contact's link opens, under the public URL


def watch_token(links: Links, event_id: uuid.UUID, contact_id: uuid.UUID) -> str:
    """The contact's token for the event (see the module's docstring)."""
    mac = hmac.digest(links.secret.encode(), f"watch:{event_id}:{contact_id}".encode(),
                      "sha256")
    return base64.urlsafe_b64encode(mac).decode()[:TOKEN_LENGTH]


def watch_url(links: Links, token: str) -> str:
    return f"{links.base_url.rstrip('/')}{WATCH_PATH}{token}"


class RoomInNeed(Value, kw_only=True):
    """A room whose current report asks for help, with what it says."""

    code: str
    name: str
    students_present: int
    students_missing: int
    injured: int
    location: str | None
    note: str | None
    reported_at: datetime


class RoomToReport(Value):
    code: str
    name: str


class WhatWeKnow(Value, kw_only=True):
    """What the school knows, as a lead wrote it on the timeline."""

    at: datetime
    text: str
    threat_location: str | None = None


class WatchView(Value, kw_only=True):
    """What a responding officer sees. `open_until`: when the link expires (None while
    the event is active); `timezone`: the school's clocks, which the page's times follow."""

    school_name: str
    address: str | None
    timezone: str
    action: Action
    directive: str
    message: str | None
    drill: bool
    status: EventStatus
    started_at: datetime
    ended_at: datetime | None
    open_until: datetime | None
    rooms_total: int
    rooms_reported: int
    rooms_needing_help: list[RoomInNeed]
    rooms_not_reported: list[RoomToReport]
    students: StudentCounts
    updates: list[WhatWeKnow]


def watch_view(event: Event, school: School, rooms: Sequence[Room],
               latest: Mapping[uuid.UUID, CheckIn], updates: Sequence[WhatWeKnow],
               open_until: datetime | None) -> WatchView:
    """The event as an officer needs it: rooms in need first (by code), then the rest."""
    tally = account([r.id for r in rooms], latest)
    by_id = {r.id: r for r in rooms}
    in_need = [RoomInNeed(code=by_id[c.room_id].code, name=by_id[c.room_id].name,
                          students_present=c.students_present,
                          students_missing=c.students_missing, injured=c.injured,
                          location=c.location, note=c.note, reported_at=c.observed_at)
               for state in tally.rooms
               if (c := state.checkin) is not None and c.status is CheckInStatus.NEEDS_HELP]
    return WatchView(
        school_name=school.name, address=school.address, timezone=school.timezone,
        action=event.action, directive=event.directive, message=event.message,
        drill=event.drill, status=event.status, started_at=event.started_at,
        ended_at=event.ended_at, open_until=open_until, rooms_total=tally.rooms_total,
        rooms_reported=tally.rooms_reported, rooms_needing_help=in_need,
        rooms_not_reported=[RoomToReport(by_id[r].code, by_id[r].name)
                            for r in tally.unreported_room_ids],
        students=tally.students, updates=list(updates))
