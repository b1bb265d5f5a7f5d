"""An event's life: read, escalate, all-clear, cancel, acknowledge. Starting one and
listing a school's are in api/routes/schools/events.py."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Router, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from api.http.body import Body
from api.http.deps import AlertLinks, AlertRepeats, CallerOf, Conn, Now, Work
from api.http.problems import problem_specs
from api.http.text import Reason, Text1000
from api.usecases import events
from api.usecases.access import load_event_as
from api.usecases.accountability import AccountabilityOut, accountability_of
from domain import events as rules
from domain.events import Event


class ActionIn(rules.ActionRequest, Body, kw_only=True):
    """The domain's command as a body: decoded straight into it, under the name the
    OpenAPI document has always given it (components are named after classes)."""


class AllClearIn(Body):
    message: Text1000 | None = None


class CancelIn(Body):
    reason: Reason


class EventDetail(Event, kw_only=True):
    accountability: AccountabilityOut


@get("/{event_id:uuid}", summary="An event and its accountability",
     responses=problem_specs(400, 401, 403, 404))
async def get_event(conn: Conn, caller: CallerOf, now: Now, state: State,
                    event_id: FromPath[uuid.UUID]) -> EventDetail:
    ctx, role = await load_event_as(conn, caller, event_id)
    accountability = await accountability_of(conn, ctx, role, now, state.expected)
    return EventDetail(**msgspec.structs.asdict(ctx.event), accountability=accountability)


@post("/{event_id:uuid}/actions", status_code=200, summary="Change the event's action",
      responses=problem_specs(400, 401, 403, 404, 409))
async def change_action(uow: Work, caller: CallerOf, now: Now, links: AlertLinks,
                        repeats: AlertRepeats, event_id: FromPath[uuid.UUID],
                        data: JSONBody[ActionIn]) -> Event:
    return await events.change_action(uow, caller, event_id, data, now, links, repeats)


@post("/{event_id:uuid}/all-clear", status_code=200, summary="End the event: all clear",
      responses=problem_specs(400, 401, 403, 404, 409))
async def all_clear(uow: Work, caller: CallerOf, now: Now, event_id: FromPath[uuid.UUID],
                    data: JSONBody[AllClearIn]) -> Event:
    return await events.all_clear(uow, caller, event_id, data.message, now)


@post("/{event_id:uuid}/cancel", status_code=200, summary="Cancel a false alarm",
      responses=problem_specs(400, 401, 403, 404, 409))
async def cancel(uow: Work, caller: CallerOf, now: Now, event_id: FromPath[uuid.UUID],
                 data: JSONBody[CancelIn]) -> Event:
    return await events.cancel(uow, caller, event_id, data.reason, now)


@post("/{event_id:uuid}/ack", status_code=204, summary="I received the alert",
      responses=problem_specs(400, 401, 404))
async def acknowledge(uow: Work, caller: CallerOf, now: Now,
                      event_id: FromPath[uuid.UUID]) -> None:
    await events.acknowledge(uow, caller, event_id, now)


router = Router("/", route_handlers=[get_event, change_action, all_clear, cancel,
                                     acknowledge], tags=["events"])
