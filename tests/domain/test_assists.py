"""Requests for help: who is alerted, in what words, and what may happen to one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain import assists as rules
from domain.alerts import Channel, Recipient, sms_segments
from domain.assists import Assist, AssistKind, AssistRequest, AssistStep, Responders
from domain.checkins import CheckIn, CheckInStatus
from domain.errors import Conflict, Forbidden, Invalid
from domain.events import EventRequest
from domain.language import Language
from domain.roles import Role
from domain.schools import Room
from domain.srp import Action
from domain.staff_status import StaffReport, StaffStatus

NOW = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
ROOM = Room(id=uuid.uuid4(), code="R-104", name="Library")
ASKER = uuid.uuid4()


def person(role: Role, *, devices: int = 1, phone: str | None = "+15125550100",
           language: Language = Language.EN, user_id: uuid.UUID | None = None) -> Recipient:
    return Recipient(user_id=user_id or uuid.uuid4(), role=role, phone=phone,
                     push_devices=devices, name=role.title(), language=language)


def assist(**changes) -> Assist:
    fields = {"id": uuid.uuid4(), "school_id": uuid.uuid4(), "kind": AssistKind.MEDICAL,
              "room_id": ROOM.id, "note": "Nosebleed", "requested_by": ASKER,
              "requested_at": NOW}
    return Assist(**(fields | changes))


def checkin(**changes) -> CheckIn:
    fields = {"id": uuid.uuid4(), "event_id": uuid.uuid4(), "room_id": ROOM.id,
              "client_id": uuid.uuid4(), "status": CheckInStatus.NEEDS_HELP,
              "students_present": 18, "students_missing": 2, "injured": 1,
              "observed_at": NOW, "received_at": NOW, "reported_by": ASKER}
    return CheckIn(**(fields | changes))


DEFAULT = Responders(roles=list(rules.DEFAULT_RESPONDER_ROLES))


def test_responders_are_the_roles_and_the_named_never_the_asker():
    sro, principal, teacher, nurse = (person(Role.SRO), person(Role.PRINCIPAL),
                                      person(Role.TEACHER), person(Role.STAFF))
    asking_sro = person(Role.SRO, user_id=ASKER)
    chosen = Responders(roles=[Role.SRO, Role.PRINCIPAL], user_ids=[nurse.user_id])
    found = rules.responders_among([sro, principal, teacher, nurse, asking_sro], chosen, ASKER)
    assert [p.user_id for p in found] == [sro.user_id, principal.user_id, nurse.user_id]


def test_a_person_listed_twice_counts_once_under_the_stronger_role():
    user = uuid.uuid4()
    found = rules.responders_among([person(Role.TEACHER, user_id=user),
                                    person(Role.DISTRICT_ADMIN, user_id=user)],
                                   Responders(roles=[Role.DISTRICT_ADMIN]), None)
    assert [(p.user_id, p.role) for p in found] == [(user, Role.DISTRICT_ADMIN)]


def test_chosen_responders_must_be_members_and_reach_someone():
    member = uuid.uuid4()
    with pytest.raises(Invalid) as refused:
        rules.checked_responders(Responders(roles=[], user_ids=[uuid.uuid4()]), {member})
    assert refused.value.field == "user_ids"
    with pytest.raises(Invalid) as refused:
        rules.checked_responders(Responders(roles=[]), {member})
    assert refused.value.field == "roles"
    kept = rules.checked_responders(
        Responders(roles=[Role.SRO, Role.SRO], user_ids=[member, member]), {member})
    assert kept == Responders(roles=[Role.SRO], user_ids=[member])


@pytest.mark.parametrize("role, named, allowed", [
    (Role.TEACHER, False, False), (Role.STAFF, True, True), (Role.SRO, False, True),
    (Role.PRINCIPAL, False, True), (Role.DISTRICT_ADMIN, False, True),
])
def test_who_may_answer(role, named, allowed):
    user = uuid.uuid4()
    chosen = Responders(roles=[Role.SRO], user_ids=[user] if named else [])
    if allowed:
        rules.require_responder(role, user, chosen)
    else:
        with pytest.raises(Forbidden):
            rules.require_responder(role, user, chosen)


def test_needs_help_is_asked_by_a_check_in_only():
    with pytest.raises(Invalid) as refused:
        rules.requested(AssistRequest(kind=AssistKind.NEEDS_HELP), assist_id=uuid.uuid4(),
                        school_id=uuid.uuid4(), actor_id=ASKER, now=NOW)
    assert refused.value.field == "kind"
    asked = rules.requested(AssistRequest(kind=AssistKind.OTHER, location="  ", note=" Spill "),
                            assist_id=uuid.uuid4(), school_id=uuid.uuid4(), actor_id=ASKER,
                            now=NOW)
    assert (asked.location, asked.note) == (None, "Spill")


def test_resolved_once_and_then_closed():
    resolved = rules.resolve(assist(), " Nurse treated it ", actor_id=ASKER,
                             now=NOW + timedelta(minutes=3))
    assert (resolved.outcome, resolved.resolved_by) == ("Nurse treated it", ASKER)
    with pytest.raises(Invalid):
        rules.resolve(assist(), " ", actor_id=ASKER, now=NOW)
    for act in (lambda: rules.resolve(resolved, "again", actor_id=ASKER, now=NOW),
                lambda: rules.respond(resolved),
                lambda: rules.escalation(resolved, EventRequest(action=Action.LOCKDOWN,
                                                                drill=False))):
        with pytest.raises(Conflict):
            act()


def test_an_escalation_is_real_once_and_carries_the_note():
    request = EventRequest(action=Action.LOCKDOWN, drill=False)
    assert rules.escalation(assist(), request).message == "Nosebleed"
    assert rules.escalation(assist(), EventRequest(action=Action.HOLD, drill=False,
                                                   message="Stay in rooms")).message == \
        "Stay in rooms"
    with pytest.raises(Invalid) as refused:
        rules.escalation(assist(), EventRequest(action=Action.LOCKDOWN, drill=True))
    assert refused.value.field == "drill"
    with pytest.raises(Conflict):
        rules.escalation(assist(became_event_id=uuid.uuid4()), request)


def test_the_words_of_a_request_in_both_languages():
    where = rules.place(ROOM, "by the stairs")
    assert where == "Library (R-104), by the stairs"
    assert rules.assist_text(Language.EN, assist(), asker="Ana Ruiz", where=where) == (
        "HELP NEEDED (medical): Ana Ruiz asks for help at Library (R-104), by the stairs. "
        "Note: Nosebleed")
    assert rules.assist_text(Language.ES, assist(), asker="Ana Ruiz", where=None) == (
        "SE NECESITA AYUDA (médica): Ana Ruiz pide ayuda. Nota: Nosebleed")


def test_the_words_of_a_room_needing_help_in_both_languages():
    where = rules.place(ROOM, None)
    assert rules.room_help_text(Language.EN, AssistStep.REQUESTED, checkin(note="Asthma"),
                                where=where, drill=False) == (
        "ROOM NEEDS HELP at Library (R-104). 18 present, 2 missing, 1 injured. Note: Asthma")
    assert rules.room_help_text(Language.ES, AssistStep.CHANGED,
                                checkin(status=CheckInStatus.OK), where=where, drill=True) == (
        "SIMULACRO - NOVEDAD DEL AULA QUE PIDIO AYUDA en Library (R-104). 18 presentes, "
        "2 faltan, 1 heridos. Ahora informa que todo está bien.")


@pytest.mark.parametrize("language", list(Language))
def test_every_sms_fits_two_segments_even_with_the_longest_note(language):
    note = "ñ" * 1000  # not GSM-7 in Spanish accents: the SMS falls back to plain letters
    long = assist(note=note, location="x" * 200)
    texts = {lang: rules.assist_text(lang, long, asker="N" * 200, where="W" * 300)
             for lang in Language}
    plan = rules.plan_assist(long, [person(Role.SRO, language=language)], texts, now=NOW)
    sms = next(m for m in plan if m.channel is Channel.SMS)
    assert sms_segments(sms.body) <= 2 and sms.body.endswith("...")
    room_texts = {lang: rules.room_help_text(lang, AssistStep.REQUESTED, checkin(note=note),
                                             where="W" * 300, drill=True)
                  for lang in Language}
    plan = rules.plan_assist(long, [person(Role.SRO, language=language)], room_texts, now=NOW)
    assert all(sms_segments(m.body) <= 2 for m in plan if m.channel is Channel.SMS)


def test_the_plan_wakes_each_responder_on_push_and_sms_at_once():
    sro, no_device, no_phone = (person(Role.SRO), person(Role.PRINCIPAL, devices=0),
                                person(Role.STAFF, phone=None, language=Language.ES))
    asked = assist(event_id=uuid.uuid4())
    texts = {Language.EN: "help", Language.ES: "ayuda"}
    plan = rules.plan_assist(asked, [sro, no_device, no_phone], texts, now=NOW)
    assert [(m.user_id, m.channel, m.critical, m.body) for m in plan] == [
        (sro.user_id, Channel.PUSH, True, "help"), (sro.user_id, Channel.SMS, False, "help"),
        (no_device.user_id, Channel.SMS, False, "help"),
        (no_phone.user_id, Channel.PUSH, True, "ayuda")]
    assert {m.priority for m in plan} == {9} and {m.not_before for m in plan} == {NOW}
    assert plan[0].data == {"assist_id": str(asked.id), "school_id": str(asked.school_id),
                            "kind": "assist", "assist_kind": "medical", "drill": "false",
                            "event_id": str(asked.event_id)}
    drill = rules.plan_assist(asked, [sro], texts, now=NOW, drill=True)
    assert not any(m.critical for m in drill)


@pytest.mark.parametrize(("language", "drill", "words"), [
    (Language.EN, False, "STAFF NEEDS HELP: Ana Ruiz. Note: In the gym"),
    (Language.ES, True, "SIMULACRO - UN MIEMBRO DEL PERSONAL NECESITA AYUDA: Ana Ruiz. "
                        "Nota: In the gym"),
])
def test_a_member_of_staff_asks_for_help_in_each_language(language, drill, words) -> None:
    """A member's own "need help" names them and their note, a drill's says so first."""
    report = StaffReport(event_id=uuid.uuid4(), user_id=uuid.uuid4(),
                         status=StaffStatus.NEED_HELP, note="In the gym", reported_at=NOW)
    assist = rules.person_needs_help(report, assist_id=uuid.uuid4(), school_id=uuid.uuid4())
    assert (assist.kind, assist.room_id, assist.event_id) == (
        AssistKind.NEEDS_HELP, None, report.event_id)
    assert rules.person_help_text(language, assist, who="Ana Ruiz", drill=drill) == words
