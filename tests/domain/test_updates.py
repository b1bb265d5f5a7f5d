"""What we know: who may post an update, when, with what words, and to whom it goes."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.alerts import SMS_SEGMENTS, Channel, MessageKind, sms_segments
from domain.errors import EventClosed, Forbidden, Invalid
from domain.events import Event, EventRequest, all_clear, start_event
from domain.language import Language
from domain.policy import Policy
from domain.roles import Role
from domain.srp import Action
from domain.updates import Update, UpdateRequest, plan_update, post_update, update_text

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
SCHOOL, EVENT_ID, SRO, UPDATE_ID = (uuid.UUID(int=n) for n in (1, 100, 3, 200))
POLICY = Policy.default()
LINK = "https://muster.example.org/e/" + "A" * 22
ALICE, BOB, CARMEN = (uuid.UUID(int=n) for n in (1001, 1002, 1003))


def event(*, drill: bool = False) -> Event:
    request = EventRequest(action=Action.LOCKDOWN, drill=drill)
    return start_event(None, request, event_id=EVENT_ID, school_id=SCHOOL, actor_id=SRO,
                       role=Role.SRO, policy=POLICY, now=NOW).event


def post(text: str = "Police are inside.", *, on: Event | None = None, role: Role = Role.SRO,
         threat_location: str | None = None) -> Update:
    return post_update(on or event(), UpdateRequest(text=text, threat_location=threat_location),
                       update_id=UPDATE_ID, actor_id=SRO, role=role, policy=POLICY,
                       now=NOW + timedelta(minutes=3))


@pytest.mark.parametrize("role", list(Role))
def test_the_safety_leads_post_updates_by_default(role: Role) -> None:
    """SROs, principals and district admins send what we know; teachers and staff
    report instead (a school may change that)."""
    if role in (Role.SRO, Role.PRINCIPAL, Role.DISTRICT_ADMIN):
        assert post(role=role).posted_by == SRO
    else:
        with pytest.raises(Forbidden, match="may not send an update"):
            post(role=role)


def test_an_update_is_the_text_as_typed_without_surrounding_spaces() -> None:
    """Text and threat location are trimmed; a blank location is none."""
    update = post("  Police are inside.  ", threat_location="   ")
    assert (update.text, update.threat_location) == ("Police are inside.", None)
    assert (update.event_id, update.posted_at) == (EVENT_ID, NOW + timedelta(minutes=3))


def test_an_ended_event_takes_no_update() -> None:
    """After the all-clear, an update would only confuse: 409, as any change."""
    ended = all_clear(event(), actor_id=SRO, role=Role.SRO, policy=POLICY, now=NOW)
    with pytest.raises(EventClosed, match="cannot take an update"):
        post(on=ended)


def test_the_role_is_judged_before_the_event() -> None:
    """A teacher hears they may not, not that the event ended."""
    ended = all_clear(event(), actor_id=SRO, role=Role.SRO, policy=POLICY, now=NOW)
    with pytest.raises(Forbidden):
        post(on=ended, role=Role.TEACHER)


@pytest.mark.parametrize(("text", "location", "drill", "field"), [
    ("   ", None, False, "text"),
    ("DRILL is over", None, False, "text"),
    ("This is not a drill", None, True, "text"),
    ("Stay put.", "Gym - not a drill", True, "threat_location"),
])
def test_bad_words_are_refused_naming_the_field(text: str, location: str | None, drill: bool,
                                                field: str) -> None:
    """An empty update, or one that mixes up drill and real, is refused."""
    with pytest.raises(Invalid) as error:
        post(text, on=event(drill=drill), threat_location=location)
    assert error.value.field == field


@pytest.mark.parametrize(("drill", "language", "expected"), [
    (False, Language.EN, "UPDATE: Threat: North lot. Police are inside."),
    (True, Language.EN, "DRILL — UPDATE: Simulated threat: North lot. Police are inside."),
    (False, Language.ES, "ACTUALIZACIÓN: Amenaza: North lot. Police are inside."),
    (True, Language.ES, "SIMULACRO — ACTUALIZACIÓN: Amenaza simulada: North lot. "
                        "Police are inside."),
])
def test_an_update_reads_in_the_recipients_language(drill: bool, language: Language,
                                                    expected: str) -> None:
    """Our words are the person's language; the typed words are sent as typed."""
    update = post(on=event(drill=drill), threat_location="North lot.")
    assert update_text(update, drill, language) == expected


def test_without_a_threat_location_the_text_follows_the_label() -> None:
    assert update_text(post(), False, Language.ES) == "ACTUALIZACIÓN: Police are inside."


def test_it_goes_to_everyone_alerted_on_their_channels_not_critical() -> None:
    """Each (person, channel) alerted once, push and SMS only, normal priority, no
    critical sound, each with their link and in their language."""
    notified = [(ALICE, "push", Language.EN), (ALICE, "sms", Language.EN),
                (BOB, "sms", Language.ES), (BOB, "sms", Language.ES),
                (CARMEN, "voice", Language.EN)]
    links = {ALICE: LINK, BOB: LINK.replace("A", "B"), CARMEN: LINK}
    plan = plan_update(event(), post(), notified, links)
    assert [(m.user_id, m.channel) for m in plan] == [
        (ALICE, Channel.PUSH), (ALICE, Channel.SMS), (BOB, Channel.SMS)]
    assert all(m.kind is MessageKind.UPDATE and not m.critical for m in plan)
    assert {m.priority for m in plan} == {8}  # an ending's: below a call to act's 9
    push, alice_sms, bob_sms = plan
    assert push.body == "UPDATE: Police are inside."
    assert push.data["link"] == LINK and push.data["kind"] == "update"
    assert alice_sms.body == f"UPDATE: Police are inside.\n{LINK}"
    assert bob_sms.body == f"ACTUALIZACION: Police are inside.\n{links[BOB]}"
    assert {m.not_before for m in plan} == {NOW + timedelta(minutes=3)}


def test_a_drills_update_goes_behind_real_events() -> None:
    plan = plan_update(event(drill=True), post(on=event(drill=True)),
                       [(ALICE, "push", Language.EN)], {ALICE: LINK})
    assert plan[0].priority == 4 and plan[0].body.startswith("DRILL — UPDATE: ")


def test_an_update_is_planned_for_its_own_event_only() -> None:
    other = Update(id=UPDATE_ID, event_id=uuid.uuid4(), text="x", threat_location=None,
                   posted_at=NOW, posted_by=SRO)
    with pytest.raises(ValueError, match="not about event"):
        plan_update(event(), other, [], {})


@given(text=st.text(min_size=1, max_size=1000).filter(str.strip),
       location=st.none() | st.text(min_size=1, max_size=200).filter(str.strip),
       language=st.sampled_from(Language), drill=st.booleans())
def test_every_update_sms_fits_two_segments_and_keeps_its_link(
        text: str, location: str | None, language: Language, drill: bool) -> None:
    """However long the text and whatever its characters, in either language."""
    try:
        update = post(text, on=event(drill=drill), threat_location=location)
    except Invalid:
        return
    (sms,) = plan_update(event(drill=drill), update, [(ALICE, "sms", language)],
                         {ALICE: LINK})
    assert sms_segments(sms.body) <= SMS_SEGMENTS
    assert sms.body.endswith(f"\n{LINK}")
