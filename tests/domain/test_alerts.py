"""The alerting plan: who gets what, on which channel, in what order, with what words."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from msgspec.structs import replace

from domain.alerts import (
    SMS_SEGMENTS,
    Channel,
    MessageKind,
    PlannedMessage,
    Recipient,
    _sms_words,
    by_urgency,
    leads_first,
    plan_alert,
    plan_ending,
    recipients_for,
    sms_segments,
    sms_text,
)
from domain.errors import Invalid
from domain.events import Event, EventRequest, all_clear, cancel, start_event
from domain.language import Language
from domain.policy import Policy
from domain.roles import Role
from domain.srp import Action

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
ENDED_AT = NOW + timedelta(minutes=12)
SCHOOL = uuid.UUID(int=1)
EVENT_ID = uuid.UUID(int=100)
PRINCIPAL_ID = uuid.UUID(int=3)
POLICY = Policy.default()
EN, ES = Language.EN, Language.ES

# GSM 03.38, written out row by row from the standard, independently of the module.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå" "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ" " !\"#¤%&'()*+,-./" "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO" "PQRSTUVWXYZÄÖÑÜ§" "¿abcdefghijklmno" "pqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
assert len(GSM7_BASIC) == 128


def is_gsm7(text: str) -> bool:
    """Whether an SMS can carry `text` in GSM-7 (ESC is the encoding's own, not text)."""
    return all(c != "\x1b" and (c in GSM7_BASIC or c in GSM7_EXTENSION) for c in text)


def person(n: int, role: Role = Role.TEACHER, *, phone: bool = True, devices: int = 1
           ) -> Recipient:
    return Recipient(user_id=uuid.UUID(int=1000 + n), role=role,
                     phone=f"+1555000{n:04d}" if phone else None, push_devices=devices,
                     name=f"Person {n}")


def event(*, drill: bool, action: Action = Action.LOCKDOWN, message: str | None = None,
          **details: object) -> Event:
    request = EventRequest(action=action, drill=drill, message=message, **details)
    return start_event(None, request, event_id=EVENT_ID, school_id=SCHOOL,
                       actor_id=PRINCIPAL_ID, role=Role.PRINCIPAL, policy=POLICY, now=NOW).event


def routes(plan: list[PlannedMessage]) -> set[tuple[uuid.UUID, Channel, MessageKind, datetime,
                                                     bool]]:
    return {(m.user_id, m.channel, m.kind, m.not_before, m.unless_acknowledged) for m in plan}


def first_round(plan: list[PlannedMessage]) -> list[PlannedMessage]:
    """The alert itself, without a real alert's repeats (tests/domain/test_repeats.py)."""
    return [m for m in plan if m.kind is not MessageKind.REPEAT]


TEACHER = person(1)


class EveryonesLink(dict[uuid.UUID, str]):
    """Each person's link to the event, as the caller of plan_alert works them out."""

    def __missing__(self, user_id: uuid.UUID) -> str:
        return f"https://muster.example.org/e/{user_id.hex[:22]}"


LINKS = EveryonesLink()


def test_real_event_goes_by_push_and_sms_at_once() -> None:
    """A real alert goes by push and SMS in parallel, both from now, neither conditional."""
    plan = plan_alert(event(drill=False), MessageKind.ALERT, [TEACHER], now=NOW, links=LINKS)
    assert routes(first_round(plan)) == {
        (TEACHER.user_id, Channel.PUSH, MessageKind.ALERT, NOW, False),
        (TEACHER.user_id, Channel.SMS, MessageKind.ALERT, NOW, False),
    }


def test_drill_goes_by_push_then_sms_to_the_unacknowledged() -> None:
    """A drill goes by push now, and by SMS after a minute only if not acknowledged."""
    plan = plan_alert(event(drill=True), MessageKind.ALERT, [TEACHER], now=NOW, links=LINKS)
    assert routes(plan) == {
        (TEACHER.user_id, Channel.PUSH, MessageKind.ALERT, NOW, False),
        (TEACHER.user_id, Channel.SMS, MessageKind.REMINDER, NOW + timedelta(seconds=60), True),
    }


def test_drill_ack_window_is_configurable() -> None:
    """The drill's SMS reminder waits out the acknowledgement window it is given."""
    window = timedelta(minutes=3)
    plan = plan_alert(event(drill=True), MessageKind.ALERT, [TEACHER],
                      now=NOW, ack_window=window, links=LINKS)
    assert [m.not_before for m in plan if m.channel is Channel.SMS] == [NOW + window]


def test_drill_without_a_working_device_gets_sms_at_once() -> None:
    """Someone with no working push device gets a drill's SMS now, not after the window."""
    plan = plan_alert(event(drill=True), MessageKind.ALERT, [person(2, devices=0)],
                      now=NOW, links=LINKS)
    assert routes(plan) == {(person(2).user_id, Channel.SMS, MessageKind.ALERT, NOW, False)}


@pytest.mark.parametrize("drill", [False, True])
def test_no_phone_means_push_only(drill: bool) -> None:
    """Without a phone there is no SMS, not even the drill reminder."""
    plan = plan_alert(event(drill=drill), MessageKind.ALERT, [person(3, phone=False)],
                      now=NOW, links=LINKS)
    assert routes(first_round(plan)) == {
        (person(3).user_id, Channel.PUSH, MessageKind.ALERT, NOW, False)}


@pytest.mark.parametrize("drill", [False, True])
def test_unreachable_recipient_gets_nothing(drill: bool) -> None:
    """Someone with neither device nor phone is left out (the readiness report lists them)."""
    unreachable = person(4, phone=False, devices=0)
    assert plan_alert(event(drill=drill), MessageKind.ALERT, [unreachable],
                      now=NOW, links=LINKS) == []


def test_action_change_is_planned_like_a_start() -> None:
    """An action change reaches the same people on the same channels, as `action`."""
    plan = first_round(plan_alert(event(drill=False), MessageKind.ACTION, [TEACHER], now=NOW,
                                  links=LINKS))
    assert {m.kind for m in plan} == {MessageKind.ACTION}
    assert {m.channel for m in plan} == {Channel.PUSH, Channel.SMS}


@pytest.mark.parametrize("kind", [MessageKind.ALL_CLEAR, MessageKind.CANCELLED,
                                  MessageKind.REMINDER])
def test_plan_alert_refuses_other_kinds(kind: MessageKind) -> None:
    """Endings and reminders are not alerts; planning them as one is a programming error."""
    with pytest.raises(ValueError, match="alert or an action change"):
        plan_alert(event(drill=False), kind, [TEACHER], now=NOW, links=LINKS)


ADMIN = person(9, Role.DISTRICT_ADMIN)


def test_district_admins_are_alerted_to_real_events_only() -> None:
    """District admins join a real event's recipients, never a drill's."""
    members = [TEACHER, person(5, Role.STAFF)]
    assert recipients_for(event(drill=False), members, [ADMIN]) == [*members, ADMIN]
    assert recipients_for(event(drill=True), members, [ADMIN]) == members


def test_recipients_are_deduplicated_under_the_stronger_role() -> None:
    """A principal who is also a district admin is alerted once, as district admin."""
    as_principal = person(9, Role.PRINCIPAL)
    assert recipients_for(event(drill=False), [as_principal, TEACHER], [ADMIN]) == [
        ADMIN, TEACHER]
    assert recipients_for(event(drill=True), [as_principal], [ADMIN]) == [as_principal]


def test_priority_table() -> None:
    """Real leads 9, real others 8, their repeats 7 and 6; drill leads 5, drill others 4,
    drill reminders 3 and 2."""
    people = [person(1), person(2, Role.SRO), person(3, Role.PRINCIPAL), ADMIN,
              person(4, Role.STAFF)]
    leads = {p.user_id for p in people if p.role is not Role.TEACHER and p.role is not Role.STAFF}
    for drill, expected in [(False, {(True, MessageKind.ALERT): 9, (False, MessageKind.ALERT): 8,
                                     (True, MessageKind.REPEAT): 7,
                                     (False, MessageKind.REPEAT): 6}),
                            (True, {(True, MessageKind.ALERT): 5, (False, MessageKind.ALERT): 4,
                                    (True, MessageKind.REMINDER): 3,
                                    (False, MessageKind.REMINDER): 2})]:
        plan = plan_alert(event(drill=drill), MessageKind.ALERT, people, now=NOW, links=LINKS)
        assert {(m.user_id in leads, m.kind): m.priority for m in plan} == expected


def test_plan_is_in_sending_order() -> None:
    """Leads come first, then everyone else, then the drill reminders."""
    people = [person(1), person(2, Role.SRO)]
    plan = plan_alert(event(drill=True), MessageKind.ALERT, people, now=NOW, links=LINKS)
    assert [m.priority for m in plan] == sorted((m.priority for m in plan), reverse=True)
    assert plan[0].user_id == person(2).user_id
    assert [m.kind for m in plan][-2:] == [MessageKind.REMINDER] * 2


def test_texts_follow_the_drill_rules() -> None:
    """Push says exactly the SRP alert text; SMS says it with a GSM-7 hyphen for the dash."""
    for drill, push_text, sms_words in [
        (True, "DRILL — LOCKDOWN: Locks, lights, out of sight. Room 114 too.",
         "DRILL - LOCKDOWN: Locks, lights, out of sight. Room 114 too."),
        (False, "LOCKDOWN: Locks, lights, out of sight. Room 114 too.",
         "LOCKDOWN: Locks, lights, out of sight. Room 114 too."),
    ]:
        plan = plan_alert(event(drill=drill, message="Room 114 too."), MessageKind.ALERT,
                          [person(1, devices=0), person(2)], now=NOW, links=LINKS)
        assert {m.body for m in plan if m.channel is Channel.PUSH} == {push_text}
        assert {m.body for m in plan if m.channel is Channel.SMS} \
            == {f"{sms_words}\n{LINKS[person(n).user_id]}" for n in (1, 2)}


def test_sms_makes_typed_text_gsm7_but_keeps_words_it_cannot_spell() -> None:
    """Curly quotes and dashes become plain, accents drop where GSM-7 lacks them, and a
    script GSM-7 cannot carry is kept rather than turned into question marks."""
    message = "“Stay put” – Diríjase al gimnasio… café"
    plan = plan_alert(event(drill=False, message=message), MessageKind.ALERT,
                      [person(1, devices=0)], now=NOW, links=LINKS)
    assert plan[0].body == 'LOCKDOWN: Locks, lights, out of sight. "Stay put" - ' \
                           f"Dirijase al gimnasio... café\n{LINKS[person(1).user_id]}"
    assert is_gsm7(plan[0].body)
    plan = plan_alert(event(drill=False, message="请留在教室"), MessageKind.ALERT,
                      [person(1, devices=0)], now=NOW, links=LINKS)
    assert plan[0].body.endswith(f"请留在教室\n{LINKS[person(1).user_id]}")


def test_long_sms_is_cut_but_push_is_whole() -> None:
    """An SMS stops at the limit with an ellipsis; the push carries every word."""
    message = "Stay away from the east wing. " * 30
    plan = plan_alert(event(drill=False, message=message), MessageKind.ALERT, [TEACHER],
                      now=NOW, links=LINKS)
    sms = next(m for m in plan if m.channel is Channel.SMS)
    push = next(m for m in plan if m.channel is Channel.PUSH)
    assert sms_segments(sms.body) <= SMS_SEGMENTS
    assert sms.body.endswith(f"...\n{LINKS[TEACHER.user_id]}")
    assert sms.body.startswith("LOCKDOWN: Locks, lights, out of sight. Stay away")
    assert push.body.endswith(message.strip())


@pytest.mark.parametrize("drill", [False, True])
def test_critical_sound_is_for_real_push_only(drill: bool) -> None:
    """Only a real event's push asks for the critical sound; SMS and drills never do."""
    plan = plan_alert(event(drill=drill), MessageKind.ALERT, [TEACHER], now=NOW, links=LINKS)
    assert {(m.channel, m.critical) for m in first_round(plan)} == {(Channel.PUSH, not drill),
                                                                     (Channel.SMS, False)}


def test_push_payload_is_strings_for_the_deep_link() -> None:
    """The push payload names the event, school, action, drill flag, kind and the person's
    language as strings; SMS carries none."""
    plan = plan_alert(event(drill=True, action=Action.EVACUATE, location="the football field"),
                      MessageKind.ALERT, [TEACHER], now=NOW, links=LINKS)
    push = next(m for m in plan if m.channel is Channel.PUSH)
    assert push.data == {"event_id": str(EVENT_ID), "school_id": str(SCHOOL),
                         "action": "evacuate", "drill": "true", "kind": "alert",
                         "language": "en", "link": LINKS[TEACHER.user_id]}
    assert all(isinstance(v, str) for v in push.data.values())
    assert all(m.data == {} for m in plan if m.channel is Channel.SMS)


LONG_URL = "https://emergency-notifications.riverbend-independent-school-district.example.org"


@pytest.mark.parametrize("message", [
    "Stay away from the east wing and the gym; the intruder was last seen near door 7. " * 8,
    "Shelter in the interior halls [B-wing] {not the gym} ~ away from windows | ^ " * 8,
    "请留在教室锁门关灯保持安静" * 10,
])
def test_a_long_message_with_a_long_public_url_keeps_the_link_whole(message: str) -> None:
    """Two segments at most, whatever the words and the address: the words are cut (after
    a whole word where there are words), the link never is. GSM-7's extension characters
    take two septets, and a character outside GSM-7 makes the whole SMS UCS-2."""
    link = f"{LONG_URL}/e/AbCdEfGhIjKlMnOpQrStU_"
    body = sms_text(f"LOCKDOWN: {message}", link)
    words, _, ends_with = body.rpartition("\n")
    assert ends_with == link
    assert sms_segments(body) == SMS_SEGMENTS
    assert words.endswith("...") and f"LOCKDOWN: {message}".startswith(words[:-3])
    if " " in message:
        assert f"LOCKDOWN: {message}"[len(words) - 3] == " ", words  # after a whole word


def test_segments_are_counted_as_carriers_count_them() -> None:
    """160 septets alone, 153 each when joined; extension characters count twice; UCS-2
    70 alone, 67 each."""
    assert [sms_segments("a" * n) for n in (160, 161, 306, 307)] == [1, 2, 2, 3]
    assert [sms_segments("[" * n) for n in (80, 81, 153, 154)] == [1, 2, 2, 3]
    assert [sms_segments("好" * n) for n in (70, 71, 134, 135)] == [1, 2, 2, 3]


def test_a_short_sms_ends_with_the_link_uncut() -> None:
    body = sms_text("HOLD: In your room or area. Clear the halls.", "https://m.example/e/x")
    assert body == "HOLD: In your room or area. Clear the halls.\nhttps://m.example/e/x"


def test_every_call_to_act_carries_the_persons_own_link() -> None:
    """Each SMS ends with its person's link and each push carries it as `link`, for the
    start, the action change and the drill reminder alike."""
    people = [person(1), person(2, Role.SRO), person(3, devices=0)]
    for drill, kind in [(False, MessageKind.ALERT), (True, MessageKind.ALERT),
                        (False, MessageKind.ACTION)]:
        plan = plan_alert(event(drill=drill), kind, people, now=NOW, links=LINKS)
        for m in plan:
            if m.channel is Channel.VOICE:  # a repeat's call: the SMS before it had the link
                continue
            link = LINKS[m.user_id]
            assert (m.body.endswith(f"\n{link}") if m.channel is Channel.SMS
                    else m.data["link"] == link), m
        assert MessageKind.REMINDER in {m.kind for m in plan} or not drill


def test_an_ending_carries_no_link() -> None:
    """The all-clear asks nobody to do anything: no link to open."""
    notified = [(TEACHER.user_id, Channel.PUSH, EN), (TEACHER.user_id, Channel.SMS, EN)]
    plan = plan_ending(cancelled(drill=False), MessageKind.CANCELLED, notified)
    assert all("link" not in m.data and "/e/" not in m.body for m in plan)


def cancelled(*, drill: bool, reason: str = "Pressed by mistake") -> Event:
    return cancel(event(drill=drill), reason, actor_id=PRINCIPAL_ID, role=Role.PRINCIPAL,
                  policy=POLICY, now=ENDED_AT)


def test_ending_goes_to_exactly_those_notified_on_their_channels() -> None:
    """Each (person, channel) notified gets the ending once, from the moment it ended."""
    a, b = uuid.UUID(int=1), uuid.UUID(int=2)
    notified = [(a, Channel.PUSH, EN), (a, Channel.SMS, EN), (b, Channel.PUSH, EN),
                (a, Channel.PUSH, EN)]
    plan = plan_ending(cancelled(drill=False), MessageKind.CANCELLED, notified)
    assert [(m.user_id, m.channel, EN) for m in plan] == notified[:3]
    assert {(m.kind, m.not_before, m.unless_acknowledged, m.critical) for m in plan} == {
        (MessageKind.CANCELLED, ENDED_AT, False, False)}
    assert {m.priority for m in plan} == {8}


def test_ending_accepts_channels_as_the_outbox_stores_them() -> None:
    """Channels read back as plain strings plan exactly as the enum members do."""
    ended = cancelled(drill=False)
    from_outbox: list = [(TEACHER.user_id, "push", "en")]
    as_text = plan_ending(ended, MessageKind.CANCELLED, from_outbox)
    as_enums = [(TEACHER.user_id, Channel.PUSH, EN)]
    assert as_text == plan_ending(ended, MessageKind.CANCELLED, as_enums)
    assert as_text[0].channel is Channel.PUSH and as_text[0].data


@pytest.mark.parametrize(("drill", "push_text", "sms_text"), [
    (False, "CANCELLED: False alarm. Pressed by mistake",
     "CANCELLED: False alarm. Pressed by mistake"),
    (True, "DRILL — CANCELLED: False alarm. Pressed by mistake",
     "DRILL - CANCELLED: False alarm. Pressed by mistake"),
])
def test_cancellation_says_false_alarm_and_why(drill: bool, push_text: str, sms_text: str) -> None:
    """A cancellation says it was a false alarm, gives the reason, and is labelled like its
    alerts."""
    notified = [(TEACHER.user_id, Channel.PUSH, EN), (TEACHER.user_id, Channel.SMS, EN)]
    plan = plan_ending(cancelled(drill=drill), MessageKind.CANCELLED, notified)
    assert [m.body for m in plan] == [push_text, sms_text]
    assert plan[0].data["kind"] == "cancelled"


def test_all_clear_carries_its_note() -> None:
    """The all-clear reaches the notified with its note and a drill priority for a drill."""
    ended = all_clear(event(drill=True), actor_id=PRINCIPAL_ID, role=Role.PRINCIPAL,
                      policy=POLICY, now=ENDED_AT, message="Back to class.")
    plan = plan_ending(ended, MessageKind.ALL_CLEAR, [(TEACHER.user_id, Channel.PUSH, EN)])
    assert [(m.body, m.priority) for m in plan] == [("DRILL — ALL CLEAR: Back to class.", 4)]


@pytest.mark.parametrize("kind", list(MessageKind))
def test_ending_must_match_how_the_event_ended(kind: MessageKind) -> None:
    """Only a cancelled event has a cancellation to send; anything else is refused."""
    notified = [(TEACHER.user_id, Channel.PUSH, EN)]
    if kind is MessageKind.CANCELLED:
        assert plan_ending(cancelled(drill=False), kind, notified)
        return
    with pytest.raises(ValueError, match="has no"):
        plan_ending(cancelled(drill=False), kind, notified)
    with pytest.raises(ValueError, match="has no"):
        plan_ending(event(drill=False), kind, notified)


recipient_lists = st.lists(
    st.builds(person, st.integers(0, 9999), st.sampled_from(Role), phone=st.booleans(),
              devices=st.integers(0, 3)),
    max_size=12, unique_by=lambda r: r.user_id,
)
typed_text = st.none() | st.text(
    alphabet=st.characters(codec="ascii", categories=["L", "N", "P", "S", "Zs"])
    | st.sampled_from("—–‘’“”…éíñüÉ\u00a0"),
    max_size=1000,
)


@given(recipient_lists, st.booleans(), st.sampled_from(list(Action)), typed_text,
       st.sampled_from([MessageKind.ALERT, MessageKind.ACTION]))
def test_plan_properties(recipients: list[Recipient], drill: bool, action: Action,
                         message: str | None, kind: MessageKind) -> None:
    """Everyone reachable gets a message now; every body is labelled as its event is; every
    priority fits 0..9; every SMS is GSM-7 and short."""
    details = {Action.EVACUATE: {"location": "the field"}, Action.SHELTER: {"hazard": "tornado"}}
    try:
        the_event = event(drill=drill, action=action, message=message, **details.get(action, {}))
    except Invalid:
        assume(False)  # a real message opening with "drill", refused at the edge
    plan = plan_alert(the_event, kind, recipients, now=NOW, links=LINKS)
    reachable = {r.user_id for r in recipients if r.phone or r.push_devices}
    assert {m.user_id for m in plan if m.not_before == NOW and not m.unless_acknowledged} \
        == reachable
    assert all(m.body.startswith("DRILL") == drill for m in plan)
    assert all(0 <= m.priority <= 9 for m in plan)
    assert all(is_gsm7(m.body) and sms_segments(m.body) <= SMS_SEGMENTS
               and m.body.endswith(f"\n{LINKS[m.user_id]}")
               for m in plan if m.channel is Channel.SMS)


# -- languages ---------------------------------------------------------------------------

def speaker(n: int, language: Language, *, devices: int = 1) -> Recipient:
    return replace(person(n, devices=devices), language=language)


# Every action with the details it needs, and with a long typed message of its own.
DETAILS: dict[Action, dict[str, object]] = {
    Action.HOLD: {}, Action.SECURE: {}, Action.LOCKDOWN: {},
    Action.EVACUATE: {"location": "the football field behind the gym", "purpose": "fire"},
    Action.SHELTER: {"hazard": "earthquake", "strategy": "stay away from the windows"},
}
LONG_MESSAGE = ("Intruso visto cerca de la puerta 7; ¿está todo el mundo adentro? Niños en "
                "el baño: quédense ahí. Información en la oficina, ¡no salgan! ") * 3


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("drill", [True, False])
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("message", [None, LONG_MESSAGE])
def test_every_alert_in_every_language_is_two_segments_with_its_link(
        language: Language, drill: bool, action: Action, message: str | None) -> None:
    """Each action, drill or real, in each language, with or without a long message: the
    SMS is at most two segments and ends with the whole link; a drill opens with its word
    for DRILL, a real alert never has it; and our own words go as GSM-7 (Spanish á í ó ú
    lose their accent, é ñ ¿ ¡ are GSM-7 and stay)."""
    link = f"{LONG_URL}/e/AbCdEfGhIjKlMnOpQrStU_"
    alert = event(drill=drill, action=action, message=message, **DETAILS[action])
    plan = plan_alert(alert, MessageKind.ALERT, [speaker(1, language, devices=0)], now=NOW,
                      links={TEACHER.user_id: link})
    [sms] = [m for m in plan if m.channel is Channel.SMS]
    words, _, ends_with = sms.body.rpartition("\n")
    assert ends_with == link
    assert sms_segments(sms.body) <= SMS_SEGMENTS
    assert is_gsm7(sms.body)
    drill_word = {EN: "DRILL - ", ES: "SIMULACRO - "}[language]
    assert words.startswith(drill_word) == drill
    assert ("DRILL" not in words.upper() and "SIMULACRO" not in words.upper()) or drill
    assert message is None or "¿esta todo el mundo" in words  # GSM-7: ¿ kept, á not


def test_each_person_gets_the_alert_in_their_own_language() -> None:
    """The SRP's words in each person's language, and the payload says which."""
    people = [speaker(1, EN), speaker(2, ES)]
    plan = plan_alert(event(drill=True), MessageKind.ALERT, people, now=NOW, links=LINKS)
    pushes = {m.user_id: m for m in plan if m.channel is Channel.PUSH}
    assert pushes[people[0].user_id].body == "DRILL — LOCKDOWN: Locks, lights, out of sight."
    assert pushes[people[1].user_id].body == (
        "SIMULACRO — ENCIERRO: Cierren con llave, apaguen las luces, no se dejen ver.")
    assert {m.user_id: m.data["language"] for m in pushes.values()} == {
        people[0].user_id: "en", people[1].user_id: "es"}
    reminder = next(m for m in plan if m.kind is MessageKind.REMINDER
                    and m.user_id == people[1].user_id)
    assert reminder.body.startswith("SIMULACRO - ENCIERRO: ")


def test_typed_words_go_to_everyone_as_typed() -> None:
    """A directive or a message somebody typed is theirs: no language changes it; only
    the SRP's own words around it are translated."""
    alert = event(drill=False, action=Action.HOLD, directive="Stay put.", message="Nurse to B.")
    plan = plan_alert(alert, MessageKind.ALERT, [speaker(1, ES)], now=NOW, links=LINKS)
    assert plan[0].body == "PERMANECER: Stay put. Nurse to B."


def test_ten_thousand_recipients_cost_one_sms_wording_per_language() -> None:
    """The SMS words are worked out once per language for a whole wave, not per person."""
    people = [speaker(n, (EN, ES)[n % 2], devices=0) for n in range(10_000)]
    links = {p.user_id: f"{LONG_URL}/e/{p.user_id.hex[:22]}" for p in people}
    alert = event(drill=False, message=LONG_MESSAGE)
    _sms_words.cache_clear()
    plan = plan_alert(alert, MessageKind.ALERT, people, now=NOW, links=links)
    assert len([m for m in plan if m.kind is MessageKind.ALERT]) == 10_000  # and repeats
    assert _sms_words.cache_info().misses == len(Language)


@pytest.mark.parametrize(("drill", "expected"), [
    (False, "CANCELADO: Falsa alarma. Pressed by mistake"),
    (True, "SIMULACRO - CANCELADO: Falsa alarma. Pressed by mistake"),
])
def test_endings_go_in_each_persons_language(drill: bool, expected: str) -> None:
    """A cancellation and an all-clear are in the language of the person told (as the
    outbox reads it back: plain strings)."""
    notified: list = [(TEACHER.user_id, "sms", "es"), (PRINCIPAL_ID, "sms", "en")]
    plan = plan_ending(cancelled(drill=drill), MessageKind.CANCELLED, notified)
    assert [m.body for m in plan] == [expected, expected.replace("SIMULACRO", "DRILL")
                                      .replace("CANCELADO", "CANCELLED")
                                      .replace("Falsa alarma", "False alarm")]
    ended = all_clear(event(drill=True), actor_id=PRINCIPAL_ID, role=Role.PRINCIPAL,
                      policy=POLICY, now=ENDED_AT)
    [push] = plan_ending(ended, MessageKind.ALL_CLEAR, [(TEACHER.user_id, Channel.PUSH, ES)])
    assert (push.body, push.data["language"]) == ("SIMULACRO — FIN DE LA ALERTA", "es")


def test_a_large_alert_is_written_leads_first() -> None:
    people = [person(1), person(2, Role.SRO), person(3), person(4, Role.DISTRICT_ADMIN)]
    assert [p.user_id for p in leads_first(people)] == [
        people[1].user_id, people[3].user_id, people[0].user_id, people[2].user_id]


@pytest.mark.parametrize("drill", [True, False])
def test_by_urgency_pushes_due_now_then_the_rest_due_now_then_what_is_due_later(
        drill: bool) -> None:
    people = [person(1), person(2, devices=0), person(3, phone=False)]
    plan = plan_alert(event(drill=drill), MessageKind.ALERT, people, links=LINKS, now=NOW)
    pushes, others, later = by_urgency(plan, NOW)
    assert sorted([*pushes, *others, *later], key=id) == sorted(plan, key=id)
    assert {(m.channel, m.not_before) for m in pushes} == {(Channel.PUSH, NOW)}
    assert {m.not_before for m in others} == {NOW}
    assert Channel.PUSH not in {m.channel for m in others}
    assert later and all(m.not_before > NOW for m in later)
