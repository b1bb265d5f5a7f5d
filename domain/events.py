"""An event's life: started, its action changed, ended by all-clear, cancel or a real event.

Each function takes the current values and returns the new ones; the caller stores them
and sends the notifications. Policy is checked first, so a refusal never depends on (or
reveals) anything but the caller's role.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from msgspec.structs import replace

from domain import srp
from domain.errors import Conflict, EventClosed, Invalid
from domain.policy import Permission, Policy, permission_to_start
from domain.roles import Role
from domain.srp import Action, EventStatus, Hazard, Purpose
from domain.text import Text200, Text500, Text1000
from domain.values import Value


class TimelineKind(StrEnum):
    """What a line of an event's timeline records (the schema's list): the start, an
    action change, any other change of status, a room's report, a wave of messages
    handed to providers, an acknowledgement (admitted; nothing writes one yet), a "what
    we know" update, a request for help raised during the event or its answer, and a
    member of staff reporting themselves."""

    STARTED = "started"
    ACTION = "action"
    STATUS = "status"
    CHECKIN = "checkin"
    DELIVERY = "delivery"
    ACK = "ack"
    UPDATE = "update"
    ASSIST = "assist"
    STAFF_STATUS = "staff_status"


class Event(Value, kw_only=True):
    """A real event or a drill at one school; `message` and `directive` belong to its
    current action, `end_reason` holds the all-clear note, the cancel reason or why it was
    superseded; `room_id` is the room it was started from, when known."""

    id: uuid.UUID
    school_id: uuid.UUID
    action: Action
    drill: bool
    status: EventStatus
    message: str | None
    directive: str
    location: str | None
    hazard: Hazard | None
    purpose: Purpose | None = None
    strategy: str | None
    started_at: datetime
    started_by: uuid.UUID
    ended_at: datetime | None = None
    ended_by: uuid.UUID | None = None
    end_reason: str | None = None
    room_id: uuid.UUID | None = None


class ActionRequest(Value, kw_only=True):
    """What to do now: an SRP action and its words. A blank text counts as not given.
    Evacuate needs `location` (where to go), shelter needs `hazard`; evacuate may say what
    it is for (`purpose`), which drill compliance counts by; a lockdown may say where the
    threat is (`location`)."""

    action: Action
    message: Text1000 | None = None
    directive: Text1000 | None = None
    location: Text200 | None = None
    hazard: Hazard | None = None
    purpose: Purpose | None = None
    strategy: Text500 | None = None


class EventRequest(ActionRequest, kw_only=True):
    """Start an event; `drill` has no default, so nobody starts a real one by omission."""

    drill: bool


class EventStarted(Value, kw_only=True):
    """The new event, and the drill it ended if a real event interrupted one."""

    event: Event
    superseded: Event | None = None


class ActionChanged(Value, kw_only=True):
    """The event under its new action, for a new alert and a line on the timeline."""

    event: Event
    previous: Action
    changed_by: uuid.UUID
    changed_at: datetime


def given_text(value: str | None) -> str | None:
    """A user's text without surrounding spaces; blank means not given."""
    if value is None:
        return None
    return value.strip() or None


class _Instruction(TypedDict):
    """The event fields an action's request sets (all of them: none is carried over)."""

    action: Action
    message: str | None
    directive: str
    location: str | None
    hazard: Hazard | None
    purpose: Purpose | None
    strategy: str | None


def _instruction(request: ActionRequest, drill: bool) -> _Instruction:
    """Validate an action's details and words; return the event fields they set."""
    location, strategy = given_text(request.location), given_text(request.strategy)
    srp.check_details(request.action, location=location, hazard=request.hazard, strategy=strategy,
                      purpose=request.purpose)
    directive = given_text(request.directive) or srp.default_directive(
        request.action, location, request.hazard, strategy
    )
    message = given_text(request.message)
    # refuses DRILL mix-ups now, not when the alert is planned
    srp.alert_text(request.action, drill, directive, message, location)
    return {"action": request.action, "message": message, "directive": directive,
            "location": location, "hazard": request.hazard, "purpose": request.purpose,
            "strategy": strategy}


# What starting an event does while another is active, by (active is a drill, new is a
# drill): None means the new real event supersedes the drill; text means a 409.
_WHILE_ACTIVE: dict[tuple[bool, bool], str | None] = {
    (True, False): None,
    (True, True): "this school already has an active drill ({action}); end it first",
    (False, False): "this school already has an active real event ({action}); change its "
    "action instead of starting another",
    (False, True): "a drill cannot start while a real event ({action}) is active here",
}


def may_start(active: Event | None, drill: bool) -> bool:
    """Whether a drill (or a real event) may start beside the school's `active` event, by
    the rules `start_event` applies (a page offers only what would be accepted)."""
    if active is None or active.status is not EventStatus.ACTIVE:
        return True
    return _WHILE_ACTIVE[(active.drill, drill)] is None


def start_event(
    active: Event | None, request: EventRequest, *, event_id: uuid.UUID, school_id: uuid.UUID,
    actor_id: uuid.UUID, role: Role, policy: Policy, now: datetime,
    room_id: uuid.UUID | None = None,
) -> EventStarted:
    """Start an event; a school has one active event at a time, except that a real event
    always ends an active drill (nobody should have to end a drill to lock down).

    `active` is the school's active event, if any; an ended event passed here is ignored.
    `room_id` is the room it starts from, when known (a request for help from there).
    """
    policy.require(role, permission_to_start(request.drill))
    fields = _instruction(request, request.drill)
    event = Event(id=event_id, school_id=school_id, drill=request.drill,
                  status=EventStatus.ACTIVE, started_at=now, started_by=actor_id,
                  room_id=room_id, **fields)
    if active is None or active.status is not EventStatus.ACTIVE:
        return EventStarted(event=event)
    clash = _WHILE_ACTIVE[(active.drill, request.drill)]
    if clash is not None:
        raise Conflict(clash.format(action=active.action), active_event_id=active.id)
    reason = f"superseded by a real {request.action}"
    ended = _end(active, EventStatus.SUPERSEDED, actor_id=actor_id, now=now, reason=reason)
    return EventStarted(event=event, superseded=ended)


def change_action(
    event: Event, request: ActionRequest, *,
    actor_id: uuid.UUID, role: Role, policy: Policy, now: datetime,
) -> ActionChanged:
    """Escalate or change an active event's action (Hold -> Lockdown, Lockdown -> Evacuate).

    The request states the whole new instruction: message, directive and details not
    given are cleared, not carried over from the old action. The same action again is
    allowed, to send a corrected directive or a new evacuation site.
    """
    policy.require(role, Permission.CHANGE_ACTION)
    require_active(event, "have its action changed")
    changed = replace(event, **_instruction(request, event.drill))
    return ActionChanged(event=changed, previous=event.action, changed_by=actor_id, changed_at=now)


def all_clear(
    event: Event, *, actor_id: uuid.UUID, role: Role, policy: Policy, now: datetime,
    message: str | None = None,
) -> Event:
    """End an active event: the danger is over (or the drill is done)."""
    policy.require(role, Permission.ALL_CLEAR)
    return _end(event, EventStatus.ALL_CLEAR, actor_id=actor_id, now=now,
                reason=given_text(message))


def cancel(
    event: Event, reason: str, *, actor_id: uuid.UUID, role: Role, policy: Policy, now: datetime,
) -> Event:
    """End an active event that should never have started (a pocket dial); the reason is
    required because the record must say why everyone was alerted."""
    policy.require(role, Permission.CANCEL)
    if not given_text(reason):
        raise Invalid("a cancellation needs a reason, e.g. 'pressed by mistake'", field="reason")
    return _end(event, EventStatus.CANCELLED, actor_id=actor_id, now=now, reason=given_text(reason))


_ENDING: dict[EventStatus, str] = {
    EventStatus.ALL_CLEAR: "be given the all-clear",
    EventStatus.CANCELLED: "be cancelled",
    EventStatus.SUPERSEDED: "be superseded",
}


def _closed(event: Event, doing: str) -> EventClosed:
    ended = event.ended_at.isoformat() if event.ended_at else "an unknown time"
    return EventClosed(
        f"event {event.id} already ended with {event.status} at {ended}; it cannot {doing}"
    )


def require_active(event: Event, doing: str) -> None:
    """EventClosed (409) unless the event is active; `doing` ends "it cannot ..."."""
    if event.status is not EventStatus.ACTIVE:
        raise _closed(event, doing)


def _end(
    event: Event, status: EventStatus, *, actor_id: uuid.UUID, now: datetime, reason: str | None
) -> Event:
    """Move an event to a final status, if the status table allows it."""
    if not srp.transition_allowed(event.status, status):
        raise _closed(event, _ENDING.get(status, f"become {status}"))
    return replace(event, status=status, ended_at=now, ended_by=actor_id, end_reason=reason)
