"""After-action notes: who may write them, when, and what each edit keeps."""

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from domain.after_action import (
    AfterAction,
    During,
    Observer,
    ProblemFound,
    ProblemKind,
    revise,
)
from domain.errors import Conflict, Forbidden, Invalid
from domain.events import Event
from domain.policy import Policy
from domain.roles import Role
from domain.srp import EventStatus
from tests import builders

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
PRINCIPAL = uuid.UUID(int=5)


def event(status: EventStatus = EventStatus.ALL_CLEAR) -> Event:
    ended = None if status is EventStatus.ACTIVE else T0 + timedelta(minutes=10)
    return builders.event(by=PRINCIPAL, started_at=T0, status=status, ended_at=ended)


def edit(notes: AfterAction, *, role: Role = Role.PRINCIPAL, previous: int = 0,
         status: EventStatus = EventStatus.ALL_CLEAR):
    return revise(event(status), notes, previous=previous, actor_id=PRINCIPAL, role=role,
                  policy=Policy.default(), now=T0 + timedelta(hours=1))


def test_an_edit_is_the_next_revision_with_who_and_when() -> None:
    """Revision 3 follows revision 2, stamped with the editor and the time."""
    notes = AfterAction(during=During.LUNCH, problems=[
        ProblemFound(kind=ProblemKind.DOOR_WOULD_NOT_LOCK, detail="B-114")])
    stored = edit(notes, previous=2)
    assert (stored.revision, stored.edited_by, stored.edited_at) == (
        3, PRINCIPAL, T0 + timedelta(hours=1))
    assert (stored.during, stored.problems) == (During.LUNCH, notes.problems)


def test_blank_texts_count_as_not_given_and_are_trimmed() -> None:
    """Spaces around texts go; a blank text is stored as None."""
    stored = edit(AfterAction(lessons_learned="  Lock B-114 earlier.  ", report="   ",
                              observers=[Observer(name=" Fire Marshal Ruiz ", agency=" ")]))
    assert (stored.lessons_learned, stored.report) == ("Lock B-114 earlier.", None)
    assert stored.observers == [Observer(name="Fire Marshal Ruiz")]


@pytest.mark.parametrize(("notes", "field"), [
    (AfterAction(observers=[Observer(name="Ann"), Observer(name="  ")]), "observers[1].name"),
    (AfterAction(problems=[ProblemFound(kind=ProblemKind.OTHER)]), "problems[0].detail"),
    (AfterAction(problems=[ProblemFound(kind=ProblemKind.OTHER, detail=" ")]),
     "problems[0].detail"),
])
def test_notes_that_say_nothing_are_refused_naming_the_field(notes, field) -> None:
    """An observer without a name, or an 'other' problem without a detail, is Invalid."""
    with pytest.raises(Invalid) as error:
        edit(notes)
    assert error.value.field == field


@pytest.mark.parametrize("role", [Role.TEACHER, Role.STAFF])
def test_teachers_and_staff_may_not_edit(role) -> None:
    """Only safety leads write after-action notes (by default)."""
    with pytest.raises(Forbidden, match="may not edit after-action notes"):
        edit(AfterAction(), role=role)


def test_an_active_event_has_no_after_action_yet() -> None:
    """While the event is active, editing its after-action notes is a conflict."""
    with pytest.raises(Conflict, match="still active"):
        edit(AfterAction(), status=EventStatus.ACTIVE)


def test_the_wire_shape_refuses_unknown_fields_and_out_of_range_values() -> None:
    """Decoding is where lengths, enums and counts are checked."""
    for raw in (b'{"during": "recess"}', b'{"observers": [{"name": "A", "badge": 1}]}',
                b'{"participants": {"students": -1}}', b'{"report": "%s"}' % (b"x" * 20001)):
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(raw, type=AfterAction)
