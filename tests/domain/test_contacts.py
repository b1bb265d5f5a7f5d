"""A school's contacts for real events: the list's rules, who an event calls, and the
words of the call and the SMS."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.alerts import SMS_SEGMENTS, Channel, MessageKind, plan_alert, sms_segments
from domain.contacts import (
    MAX_CONTACTS,
    CallsOn,
    Contact,
    ContactEntry,
    ContactKind,
    EventFacts,
    called_for,
    clock_time,
    plan_calls,
    plan_ending,
    replace_list,
)
from domain.errors import Invalid
from domain.events import Event, EventRequest, all_clear, cancel, start_event
from domain.policy import Policy
from domain.roles import Role
from domain.srp import Action
from tests.domain.test_alerts import person

NOW = datetime(2026, 11, 29, 15, 42, tzinfo=UTC)
CENTRAL = timezone(timedelta(hours=-6), "CST")  # what ZoneInfo("America/Chicago") gives then
SCHOOL = uuid.UUID(int=1)
STARTER = uuid.UUID(int=3)
LINK = "https://muster.example.org/w/" + "A" * 22

POLICE = Contact(id=uuid.UUID(int=501), name="Riverbend PD", phone="+15125550190",
                 kind=ContactKind.POLICE, on=CallsOn.REAL)
SECURITY = Contact(id=uuid.UUID(int=502), name="District security", phone="+15125550191",
                   kind=ContactKind.DISTRICT_SECURITY, on=CallsOn.REAL_AND_DRILLS)
FACTS = EventFacts(school_name="Riverbend High School",
                   address="4200 River Road, Riverbend, TX 78701",
                   started_by="Maria Gonzalez", room="B-104 Science Lab",
                   local_start=NOW.astimezone(CENTRAL))
LINKS = {POLICE.id: LINK, SECURITY.id: LINK.replace("A", "B")}


def event(*, drill: bool, action: Action = Action.LOCKDOWN, **details: object) -> Event:
    request = EventRequest(action=action, drill=drill, **details)
    return start_event(None, request, event_id=uuid.UUID(int=100), school_id=SCHOOL,
                       actor_id=STARTER, role=Role.PRINCIPAL, policy=Policy.default(),
                       now=NOW).event


def same(number: str, field: str) -> str:
    return number


def us_phone(number: str, field: str) -> str:
    """A stand-in for api/usecases/phones.py: ten US digits, else refused."""
    digits = "".join(c for c in number if c.isdigit()).removeprefix("1")
    if len(digits) != 10:
        raise Invalid(f"{number!r} is not a phone number", field=field)
    return f"+1{digits}"


def entry(phone: str, name: str = "Someone", on: CallsOn = CallsOn.REAL) -> ContactEntry:
    return ContactEntry(name=name, phone=phone, kind=ContactKind.POLICE, on=on)


def test_a_drill_never_calls_a_contact_marked_real():
    plan = plan_calls(event(drill=True), MessageKind.ALERT, [POLICE, SECURITY], FACTS, LINKS,
                      NOW)
    assert {m.contact_id for m in plan} == {SECURITY.id}
    assert called_for(event(drill=True), [POLICE]) == []


def test_a_real_event_calls_both_kinds_by_voice_and_sms():
    plan = plan_calls(event(drill=False), MessageKind.ALERT, [POLICE, SECURITY], FACTS, LINKS,
                      NOW)
    assert sorted((m.contact_id, m.channel, m.phone) for m in plan) == sorted(
        (c.id, channel, c.phone) for c in (POLICE, SECURITY)
        for channel in (Channel.VOICE, Channel.SMS))
    assert all(m.user_id is None and not m.critical and m.not_before == NOW for m in plan)
    voice = [m for m in plan if m.channel is Channel.VOICE]
    assert all(m.data == {"language": "en"} for m in voice)


def test_the_call_says_every_fact_once():
    """Real or drill, the SRP action, the school, its address, the starter, the room and
    the time by the school's clock."""
    [call] = [m for m in plan_calls(event(drill=False), MessageKind.ALERT, [POLICE], FACTS,
                                    LINKS, NOW) if m.channel is Channel.VOICE]
    for fact in ("This is a real emergency, not a drill.", "Lockdown: Locks, lights, out of sight.",
                 "Riverbend High School", "4200 River Road, Riverbend, TX 78701",
                 "by Maria Gonzalez", "from room B-104 Science Lab", "Started 9:42 AM CST"):
        assert call.body.count(fact) == 1, (fact, call.body)
    assert "drill" not in call.body.replace("not a drill", "")


def test_a_drills_call_says_drill_before_anything_else():
    [call] = [m for m in plan_calls(event(drill=True), MessageKind.ALERT, [SECURITY], FACTS,
                                    LINKS, NOW) if m.channel is Channel.VOICE]
    opening = call.body.index("This is a drill, not a real emergency.")
    assert opening < call.body.index("Lockdown drill:")
    assert "real emergency, not" not in call.body


def test_unknown_starter_room_and_address_are_left_out_not_guessed():
    facts = EventFacts(school_name="Cedar Elementary", address=None, started_by=None,
                       room=None, local_start=NOW.astimezone(CENTRAL))
    [call, sms] = plan_calls(event(drill=False), MessageKind.ALERT, [POLICE], facts, LINKS, NOW)
    assert "Started 9:42 AM CST." in call.body and "room" not in call.body
    assert " by " not in call.body and "None" not in call.body + sms.body


@pytest.mark.parametrize("drill", [False, True])
def test_the_sms_has_the_facts_and_the_link_within_two_segments(drill):
    e = event(drill=drill, action=Action.EVACUATE,
              location="the football field behind the gym, north side, by the bleachers",
              message="Smoke reported in the B wing science labs; " * 3)
    [sms] = [m for m in plan_calls(e, MessageKind.ALERT, [SECURITY], FACTS, LINKS, NOW)
             if m.channel is Channel.SMS]
    assert sms.body.endswith("\n" + LINKS[SECURITY.id])
    assert sms_segments(sms.body) <= SMS_SEGMENTS
    assert sms.body.startswith("DRILL - EVACUATE" if drill else "EVACUATE")
    assert sms.data == {}


def test_the_sms_of_a_short_alert_keeps_every_fact():
    [sms] = [m for m in plan_calls(event(drill=False), MessageKind.ALERT, [POLICE], FACTS,
                                   LINKS, NOW) if m.channel is Channel.SMS]
    for fact in ("LOCKDOWN", "Riverbend High School", "4200 River Road", "Maria Gonzalez",
                 "B-104", "9:42 AM CST", LINK):
        assert fact in sms.body, (fact, sms.body)


def test_contacts_go_with_the_leads_real_first():
    real = plan_calls(event(drill=False), MessageKind.ALERT, [POLICE], FACTS, LINKS, NOW)
    drill = plan_calls(event(drill=True), MessageKind.ALERT, [SECURITY], FACTS, LINKS, NOW)
    lead = plan_alert(event(drill=False), MessageKind.ALERT, [person(1, Role.SRO)],
                      links={person(1).user_id: LINK}, now=NOW)
    assert {m.priority for m in real} == {lead[0].priority}
    assert max(m.priority for m in drill) < min(m.priority for m in real)


def test_an_action_change_calls_again_and_says_so():
    plan = plan_calls(event(drill=False), MessageKind.ACTION, [POLICE], FACTS, LINKS, NOW)
    assert {m.kind for m in plan} == {MessageKind.ACTION}
    assert all(m.body.startswith(("The action has changed.", "Muster")) for m in plan)
    assert all("The action has changed." in m.body for m in plan)
    with pytest.raises(ValueError):
        plan_calls(event(drill=False), MessageKind.ALL_CLEAR, [POLICE], FACTS, LINKS, NOW)


def test_an_ending_texts_each_contact_called_once():
    e = event(drill=False)
    ended = all_clear(e, actor_id=STARTER, role=Role.PRINCIPAL, policy=Policy.default(),
                      now=NOW + timedelta(minutes=30))
    called = [(POLICE.id, POLICE.phone), (POLICE.id, POLICE.phone),
              (SECURITY.id, SECURITY.phone)]
    plan = plan_ending(ended, MessageKind.ALL_CLEAR, "Riverbend High School", called)
    assert [(m.contact_id, m.phone, m.channel) for m in plan] == [
        (POLICE.id, POLICE.phone, Channel.SMS), (SECURITY.id, SECURITY.phone, Channel.SMS)]
    assert plan[0].body == "ALL CLEAR At Riverbend High School."
    assert plan[0].not_before == ended.ended_at
    cancelled = cancel(e, "pulled by a student", actor_id=STARTER, role=Role.PRINCIPAL,
                       policy=Policy.default(), now=NOW + timedelta(minutes=2))
    [sms] = plan_ending(cancelled, MessageKind.CANCELLED, "Riverbend High School", called[:1])
    assert sms.body.startswith("CANCELLED: False alarm. pulled by a student")
    with pytest.raises(ValueError):
        plan_ending(e, MessageKind.ALL_CLEAR, "Riverbend High School", called)


def test_a_replaced_list_keeps_known_numbers_ids_and_removes_the_rest():
    ids = iter(uuid.UUID(int=900 + n) for n in range(10))
    replaced = replace_list([POLICE, SECURITY],
                            [entry("+15125550177", "Fire"), entry(POLICE.phone, "PD, renamed")],
                            lambda: next(ids), same)
    assert [(c.id, c.name) for c in replaced.contacts] == [
        (uuid.UUID(int=900), "Fire"), (POLICE.id, "PD, renamed")]
    assert [c.phone for c in replaced.added] == ["+15125550177"]
    assert replaced.removed == [SECURITY.id]


def test_a_number_listed_twice_is_refused_naming_the_item():
    with pytest.raises(Invalid) as refused:
        replace_list([], [entry("+15125550177"), entry("+15125550178"),
                          entry("(512) 555-0177")], uuid.uuid4, us_phone)
    assert refused.value.field == "[2].phone" and "item 0" in str(refused.value)


def test_a_list_longer_than_the_most_is_refused():
    too_many = [entry(f"+1512555{n:04d}") for n in range(MAX_CONTACTS + 1)]
    with pytest.raises(Invalid) as refused:
        replace_list([], too_many, uuid.uuid4, us_phone)
    assert refused.value.field == "body"
    assert len(replace_list([], too_many[:-1], uuid.uuid4, same).contacts) == MAX_CONTACTS


def test_each_number_is_normalised_naming_its_item():
    with pytest.raises(Invalid) as refused:
        replace_list([], [entry("+15125550177"), entry("555")], uuid.uuid4, us_phone)
    assert refused.value.field == "[1].phone"


@pytest.mark.parametrize(("hour", "minute", "said"), [
    (0, 5, "12:05 AM CST"), (9, 42, "9:42 AM CST"), (12, 0, "12:00 PM CST"),
    (23, 59, "11:59 PM CST")])
def test_times_are_said_as_a_dispatcher_says_them(hour, minute, said):
    assert clock_time(datetime(2026, 11, 29, hour, minute, tzinfo=CENTRAL)) == said
