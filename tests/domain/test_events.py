"""An event's life: start, one active event per school, change of action, all-clear, cancel."""

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from domain.errors import Conflict, EventClosed, Forbidden, Invalid
from domain.events import (
    ActionRequest,
    Event,
    EventRequest,
    EventStarted,
    all_clear,
    cancel,
    change_action,
    may_start,
    start_event,
)
from domain.policy import Policy
from domain.roles import Role
from domain.srp import Action, EventStatus, Hazard

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=12)
SCHOOL = uuid.UUID(int=1)
SRO = uuid.UUID(int=2)
PRINCIPAL = uuid.UUID(int=3)
NEW_ID = uuid.UUID(int=100)
POLICY = Policy.default()
ENDED = [EventStatus.ALL_CLEAR, EventStatus.CANCELLED, EventStatus.SUPERSEDED]


def start(request: EventRequest, active: Event | None = None, *, role: Role = Role.PRINCIPAL,
          event_id: uuid.UUID = NEW_ID, policy: Policy = POLICY) -> EventStarted:
    return start_event(active, request, event_id=event_id, school_id=SCHOOL, actor_id=PRINCIPAL,
                       role=role, policy=policy, now=NOW)


def active_event(*, drill: bool, action: Action = Action.LOCKDOWN) -> Event:
    request = EventRequest(action=action, drill=drill)
    return start(request, event_id=uuid.UUID(int=50)).event


def ended_event(status: EventStatus) -> Event:
    return msgspec.structs.replace(active_event(drill=True), status=status, ended_at=NOW,
                                   ended_by=SRO, end_reason="done")


def test_start_records_who_when_and_what() -> None:
    """A started event is active, stamped with `now` and its starter, with SRP's words."""
    event = start(EventRequest(action=Action.LOCKDOWN, drill=False), role=Role.TEACHER).event
    assert (event.id, event.school_id, event.started_by) == (NEW_ID, SCHOOL, PRINCIPAL)
    assert (event.status, event.started_at, event.drill) == (EventStatus.ACTIVE, NOW, False)
    assert event.directive == "Locks, lights, out of sight."
    assert (event.ended_at, event.ended_by, event.end_reason) == (None, None, None)


def test_start_keeps_the_users_words_trimmed() -> None:
    """A custom directive and message are kept without surrounding spaces."""
    request = EventRequest(action=Action.HOLD, drill=True, directive=" Stay put. ",
                           message=" Medical in hall B ")
    event = start(request).event
    assert (event.directive, event.message) == ("Stay put.", "Medical in hall B")


def test_blank_directive_and_message_fall_back() -> None:
    """Blank texts are treated as not given: SRP's directive, no message."""
    event = start(EventRequest(action=Action.HOLD, drill=True, directive="  ", message="")).event
    assert (event.directive, event.message) == ("In your room or area. Clear the halls.", None)


def test_start_evacuation_and_shelter_keep_their_details() -> None:
    """An evacuation keeps its place and a shelter its hazard and strategy."""
    evacuation = start(EventRequest(action=Action.EVACUATE, drill=True, location="Lot C")).event
    assert (evacuation.location, evacuation.directive) == ("Lot C", "Go to Lot C.")
    request = EventRequest(action=Action.SHELTER, drill=True, hazard=Hazard.TORNADO,
                           strategy="Lower hall")
    shelter = start(request).event
    assert (shelter.hazard, shelter.strategy) == (Hazard.TORNADO, "Lower hall")
    assert shelter.directive.endswith("Lower hall.")


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (EventRequest(action=Action.EVACUATE, drill=False), "location"),
        (EventRequest(action=Action.SHELTER, drill=False), "hazard"),
        (EventRequest(action=Action.HOLD, drill=False, location="Gym"), "location"),
        (EventRequest(action=Action.LOCKDOWN, drill=True, location="Not a drill: gym"),
         "location"),
        (EventRequest(action=Action.LOCKDOWN, drill=False, message="DRILL test"), "message"),
        (EventRequest(action=Action.HOLD, drill=True, directive="Not a drill."), "directive"),
    ],
)
def test_start_refuses_bad_requests(request_: EventRequest, field: str) -> None:
    """Missing or stray details and DRILL mix-ups are refused, naming the field."""
    with pytest.raises(Invalid) as error:
        start(request_)
    assert error.value.field == field


@pytest.mark.parametrize("role", [Role.TEACHER, Role.STAFF])
def test_teacher_may_start_a_real_event_but_not_a_drill(role: Role) -> None:
    """Whoever sees the threat may lock down; drills are for the safety leads."""
    assert start(EventRequest(action=Action.LOCKDOWN, drill=False), role=role).event.drill is False
    with pytest.raises(Forbidden):
        start(EventRequest(action=Action.LOCKDOWN, drill=True), role=role)


def test_policy_is_checked_before_the_request() -> None:
    """A member who may not start drills hears that, not what was wrong with the request."""
    with pytest.raises(Forbidden):
        start(EventRequest(action=Action.EVACUATE, drill=True), role=Role.TEACHER)


def test_school_policy_can_restrict_real_events() -> None:
    """A school that limits real events to SROs and admins refuses a teacher's lockdown."""
    policy = Policy.from_overrides({"start_real_event": ["sro", "principal", "district_admin"]})
    with pytest.raises(Forbidden):
        start(EventRequest(action=Action.LOCKDOWN, drill=False), role=Role.TEACHER, policy=policy)


@pytest.mark.parametrize(
    ("active_drill", "new_drill"), [(True, True), (False, False), (False, True)]
)
def test_second_event_conflicts_with_the_active_one(active_drill: bool, new_drill: bool) -> None:
    """One active event per school: the 409 names the active event and says what it is."""
    active = active_event(drill=active_drill)
    with pytest.raises(Conflict) as error:
        start(EventRequest(action=Action.HOLD, drill=new_drill), active)
    assert error.value.active_event_id == active.id
    assert "lockdown" in str(error.value)
    assert not isinstance(error.value, EventClosed)


def test_real_event_supersedes_an_active_drill() -> None:
    """A real lockdown during a drill starts at once and ends the drill as superseded."""
    drill = active_event(drill=True, action=Action.SECURE)
    started = start(EventRequest(action=Action.LOCKDOWN, drill=False), drill, role=Role.TEACHER)
    assert started.event.status is EventStatus.ACTIVE and started.event.drill is False
    ended = started.superseded
    assert ended is not None and ended.id == drill.id
    assert (ended.status, ended.ended_at) == (EventStatus.SUPERSEDED, NOW)
    assert ended.ended_by == PRINCIPAL
    assert ended.end_reason == "superseded by a real lockdown"
    assert drill.status is EventStatus.ACTIVE  # the input value is untouched


def test_no_supersede_when_nothing_is_active() -> None:
    """A first event supersedes nothing."""
    assert start(EventRequest(action=Action.HOLD, drill=False)).superseded is None


@pytest.mark.parametrize("status", ENDED)
def test_an_ended_event_does_not_block_a_new_one(status: EventStatus) -> None:
    """An event that already ended is not "active" even if handed in as such."""
    started = start(EventRequest(action=Action.HOLD, drill=True), ended_event(status))
    assert started.superseded is None


def test_change_action_escalates() -> None:
    """Hold -> Lockdown keeps the event and its drill flag and takes the new words."""
    event = active_event(drill=True, action=Action.HOLD)
    changed = change_action(event, ActionRequest(action=Action.LOCKDOWN, message="Intruder"),
                            actor_id=SRO, role=Role.SRO, policy=POLICY, now=LATER)
    assert (changed.previous, changed.changed_by, changed.changed_at) == (Action.HOLD, SRO, LATER)
    new = changed.event
    assert (new.id, new.drill, new.status, new.action) == (event.id, True, EventStatus.ACTIVE,
                                                            Action.LOCKDOWN)
    assert (new.directive, new.message) == ("Locks, lights, out of sight.", "Intruder")


def test_change_action_replaces_the_whole_instruction() -> None:
    """Details of the old action are not carried over: Evacuate -> Lockdown drops the place."""
    event = start(EventRequest(action=Action.EVACUATE, drill=False, location="Lot C",
                               message="Fire in lab")).event
    new = change_action(event, ActionRequest(action=Action.LOCKDOWN), actor_id=SRO,
                        role=Role.SRO, policy=POLICY, now=LATER).event
    assert (new.location, new.message) == (None, None)


def test_change_to_the_same_action_is_allowed() -> None:
    """Re-sending the action with a new site is how a moved evacuation is announced."""
    event = start(EventRequest(action=Action.EVACUATE, drill=False, location="Lot C")).event
    changed = change_action(event, ActionRequest(action=Action.EVACUATE, location="Church"),
                            actor_id=SRO, role=Role.SRO, policy=POLICY, now=LATER)
    assert (changed.previous, changed.event.directive) == (Action.EVACUATE, "Go to Church.")


def test_change_action_validates_the_new_action() -> None:
    """Escalating to an evacuation without a place is refused."""
    with pytest.raises(Invalid) as error:
        change_action(active_event(drill=False), ActionRequest(action=Action.EVACUATE),
                      actor_id=SRO, role=Role.SRO, policy=POLICY, now=LATER)
    assert error.value.field == "location"


def test_teacher_may_not_change_action() -> None:
    """Changing the action is for the safety leads by default."""
    with pytest.raises(Forbidden):
        change_action(active_event(drill=False), ActionRequest(action=Action.EVACUATE),
                      actor_id=SRO, role=Role.TEACHER, policy=POLICY, now=LATER)


@pytest.mark.parametrize("status", ENDED)
def test_change_action_on_an_ended_event_is_closed(status: EventStatus) -> None:
    """An ended event cannot be escalated; the 409 says how it ended."""
    with pytest.raises(EventClosed) as error:
        change_action(ended_event(status), ActionRequest(action=Action.HOLD), actor_id=SRO,
                      role=Role.SRO, policy=POLICY, now=LATER)
    assert status in str(error.value)


def test_all_clear_ends_the_event() -> None:
    """The all-clear records when, by whom and the note, and leaves the input untouched."""
    event = active_event(drill=False)
    ended = all_clear(event, actor_id=SRO, role=Role.SRO, policy=POLICY, now=LATER,
                      message=" Resume classes ")
    assert (ended.status, ended.ended_at, ended.ended_by) == (EventStatus.ALL_CLEAR, LATER, SRO)
    assert ended.end_reason == "Resume classes"
    assert event.status is EventStatus.ACTIVE


def test_cancel_ends_the_event_with_its_reason() -> None:
    """A false alarm is cancelled with its reason on the record."""
    ended = cancel(active_event(drill=False), "Pocket dial", actor_id=SRO, role=Role.PRINCIPAL,
                   policy=POLICY, now=LATER)
    assert (ended.status, ended.end_reason, ended.ended_at) == (EventStatus.CANCELLED,
                                                                "Pocket dial", LATER)


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancel_needs_a_reason(reason: str) -> None:
    """A cancellation without a reason is refused, naming the field."""
    with pytest.raises(Invalid) as error:
        cancel(active_event(drill=False), reason, actor_id=SRO, role=Role.SRO, policy=POLICY,
               now=LATER)
    assert error.value.field == "reason"


@pytest.mark.parametrize("role", [Role.TEACHER, Role.STAFF])
def test_teacher_may_neither_all_clear_nor_cancel(role: Role) -> None:
    """Ending an event is for the safety leads by default."""
    event = active_event(drill=False)
    with pytest.raises(Forbidden):
        all_clear(event, actor_id=SRO, role=role, policy=POLICY, now=LATER)
    with pytest.raises(Forbidden):
        cancel(event, "oops", actor_id=SRO, role=role, policy=POLICY, now=LATER)


@pytest.mark.parametrize("status", ENDED)
def test_ending_an_ended_event_is_closed(status: EventStatus) -> None:
    """An event ends once: a second all-clear or cancel says when and how it ended."""
    event = ended_event(status)
    for end in (
        lambda: all_clear(event, actor_id=SRO, role=Role.SRO, policy=POLICY, now=LATER),
        lambda: cancel(event, "oops", actor_id=SRO, role=Role.SRO, policy=POLICY, now=LATER),
    ):
        with pytest.raises(EventClosed) as error:
            end()
        assert status in str(error.value) and NOW.isoformat() in str(error.value)


def test_events_are_immutable() -> None:
    """An event value cannot be changed in place."""
    with pytest.raises(AttributeError):
        active_event(drill=True).status = EventStatus.ALL_CLEAR  # type: ignore[misc]


@pytest.mark.parametrize("active_drill", [True, False])
@pytest.mark.parametrize("new_drill", [True, False])
def test_may_start_says_what_start_event_accepts(active_drill: bool, new_drill: bool) -> None:
    """A page offers a start exactly when start_event would take it."""
    active = active_event(drill=active_drill)
    request = EventRequest(action=Action.HOLD, drill=new_drill)
    try:
        start(request, active)
        accepted = True
    except Conflict:
        accepted = False
    assert may_start(active, drill=new_drill) is accepted
    assert may_start(None, drill=new_drill)
    assert all(may_start(ended_event(status), drill=new_drill) for status in ENDED)
