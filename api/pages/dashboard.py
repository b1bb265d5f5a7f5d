"""An event's live dashboard (`/events/{id}`): the rooms of the school by building and
floor, the totals, who has not reported, alerts and acknowledgements, the timeline; the
server renders it as of one timeline seq, and dashboard.js keeps it up to date from the
event's stream (each entry after that seq applied once).

Whoever may read the event (a member of its school) may open its dashboard; what their
role may not see (room accountability, delivery figures, the report) is left out, not
refused. Another school's event is a 404 naming only the event.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from itertools import groupby
from typing import NamedTuple

import msgspec
from litestar import Request, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Template

from api.http.deps import CallerOf, Conn, Now
from api.pages.home import csrf_of
from api.pages.rendering import page, script_json
from api.rendering.report_text import duration, zone
from api.usecases import reunification as reunifications
from api.usecases.dashboard import Dashboard, RoomNow, dashboard_of
from domain.checkins import CheckInStatus
from domain.language import Language
from domain.policy import Permission
from domain.srp import WORDS, EventStatus

ENDINGS: dict[str, str] = {EventStatus.ALL_CLEAR: "All clear", EventStatus.CANCELLED: "Cancelled",
                           EventStatus.SUPERSEDED: "Ended by a real event"}


class Floor(NamedTuple):
    label: str  # "Floor 2", or "" for rooms without a floor
    rooms: list[RoomNow]


class Building(NamedTuple):
    label: str
    floors: list[Floor]


def _building(room: RoomNow) -> tuple[bool, str]:
    return room.room.building is None, room.room.building or ""


def _floor(room: RoomNow) -> tuple[bool, int]:
    return room.room.floor is None, room.room.floor or 0


def plan(rooms: Iterable[RoomNow]) -> list[Building]:
    """Rooms by building (by name; rooms without one last), then floor (lowest first;
    without one last), then code: how a principal walks the school."""
    ordered = sorted(rooms, key=lambda r: (_building(r), _floor(r), r.room.code))
    buildings = []
    for (_, name), in_building in groupby(ordered, key=_building):
        floors = [Floor("" if none else f"Floor {number}", list(on_floor))
                  for (none, number), on_floor in groupby(in_building, key=_floor)]
        buildings.append(Building(name or "Other rooms", floors))
    return buildings


class Live(msgspec.Struct, kw_only=True):
    """What dashboard.js starts from (`Muster.data("dashboard")`)."""

    dashboard: Dashboard
    ends: dict[str, str]
    threat_word: str  # how the event names where the threat is


@get("/events/{event_id:uuid}", include_in_schema=False)
async def dashboard(request: Request, conn: Conn, caller: CallerOf, now: Now, state: State,
                    event_id: FromPath[uuid.UUID]) -> Template:
    """The dashboard as of now; its script follows the stream from there."""
    seen = await dashboard_of(conn, caller, event_id, now, state.expected)
    standing = await reunifications.of_event(conn, seen.school.id, event_id)
    lasted = (seen.event.ended_at or now) - seen.event.started_at
    return page("dashboard.html", csrf=csrf_of(request, caller), caller=caller, d=seen,
                elapsed=duration(max(lasted.total_seconds(), 0)),
                plan=plan(seen.rooms) if seen.rooms is not None else None,
                rolls={r.room_id: r for r in seen.roll_call.rooms} if seen.roll_call else {},
                tz=zone(seen.school.timezone), ends=ENDINGS, EventStatus=EventStatus,
                threat_word=WORDS[Language.EN].threats[seen.event.drill],
                CheckInStatus=CheckInStatus,
                reunification=standing if standing and standing.event_id == event_id else None,
                may_open_reunification=standing is None
                and seen.can[Permission.RUN_REUNIFICATION],
                data=script_json(Live(dashboard=seen, ends=ENDINGS,
                                      threat_word=WORDS[Language.EN].threats[seen.event.drill])))
