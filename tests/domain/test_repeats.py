"""A real alert's repeats: the rounds after the alert, on which channel, when, in what words."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.alerts import Channel, MessageKind, PlannedMessage, Recipient, plan_alert
from domain.events import Event, EventRequest, start_event
from domain.language import Language
from domain.policy import Policy
from domain.repeats import (
    DEFAULT_WINDOWS,
    ROUNDS,
    SPOKEN_WORDS,
    RepeatWindows,
    repeat_channels,
    spoken_alert,
)
from domain.roles import Role
from domain.srp import Action

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
MINUTE, TWO_MINUTES = timedelta(seconds=60), timedelta(seconds=120)
PUSH, SMS, VOICE = Channel.PUSH, Channel.SMS, Channel.VOICE


def person(role: Role = Role.TEACHER, *, phone: bool = True, devices: int = 1,
           language: Language = Language.EN) -> Recipient:
    return Recipient(user_id=uuid.UUID(int=7), role=role, phone="+15550001234" if phone else None,
                     push_devices=devices, name="Ms Ortiz", language=language)


def event(*, drill: bool = False, message: str | None = None) -> Event:
    request = EventRequest(action=Action.LOCKDOWN, drill=drill, message=message)
    return start_event(None, request, event_id=uuid.UUID(int=100), school_id=uuid.UUID(int=1),
                       actor_id=uuid.UUID(int=3), role=Role.PRINCIPAL, policy=Policy.default(),
                       now=NOW).event


def repeats(who: Recipient, *, drill: bool = False, message: str | None = None,
            windows: RepeatWindows = DEFAULT_WINDOWS,
            kind: MessageKind = MessageKind.ALERT) -> list[PlannedMessage]:
    plan = plan_alert(event(drill=drill, message=message), kind, [who], now=NOW,
                      links={who.user_id: "https://m.example/e/AbCdEfGhIjKlMnOpQrStU_"},
                      repeats=windows)
    return [m for m in plan if m.kind is MessageKind.REPEAT]


def rounds(plan: list[PlannedMessage]) -> list[tuple[Channel, datetime]]:
    return sorted(((m.channel, m.not_before) for m in plan), key=lambda r: r[1])


@pytest.mark.parametrize(("who", "window", "channels"), [
    # push and SMS at once, then a call one window later, and another
    (person(), TWO_MINUTES, [VOICE, VOICE]),
    (person(Role.SRO), MINUTE, [VOICE, VOICE]),
    # SMS only (no app), then calls
    (person(Role.PRINCIPAL, devices=0), MINUTE, [VOICE, VOICE]),
    # no phone: push again, and again
    (person(Role.DISTRICT_ADMIN, phone=False), MINUTE, [PUSH, PUSH]),
    (person(Role.STAFF, phone=False), TWO_MINUTES, [PUSH, PUSH]),
])
def test_rounds_climb_the_channels_one_window_apart(
        who: Recipient, window: timedelta, channels: list[Channel]) -> None:
    """Round 2 one window after the alert, round 3 two windows after; 60 s for the safety
    leads, 120 s for everyone else."""
    assert rounds(repeats(who)) == [(c, NOW + n * window) for n, c in enumerate(channels, 1)]


def test_nobody_reachable_is_not_repeated_to() -> None:
    assert repeats(person(phone=False, devices=0)) == []


@pytest.mark.parametrize("kind", [MessageKind.ALERT, MessageKind.ACTION])
def test_every_repeat_is_dropped_once_acknowledged(kind: MessageKind) -> None:
    plan = repeats(person(), kind=kind)
    assert len(plan) == ROUNDS - 1
    assert all(m.unless_acknowledged and m.kind is MessageKind.REPEAT for m in plan)


def test_drills_are_not_repeated() -> None:
    """A drill keeps its one SMS reminder, and nothing more."""
    plan = plan_alert(event(drill=True), MessageKind.ALERT, [person()], now=NOW,
                      links={person().user_id: "https://m.example/e/x"})
    assert sorted(m.kind for m in plan) == [MessageKind.ALERT, MessageKind.REMINDER]


def test_windows_are_the_ones_given() -> None:
    windows = RepeatWindows(leads=timedelta(seconds=30), others=timedelta(minutes=5))
    assert [t for _, t in rounds(repeats(person(Role.SRO), windows=windows))] == [
        NOW + timedelta(seconds=30), NOW + timedelta(seconds=60)]
    assert [t for _, t in rounds(repeats(person(), windows=windows))] == [
        NOW + timedelta(minutes=5), NOW + timedelta(minutes=10)]


@pytest.mark.parametrize("window", [timedelta(0), timedelta(seconds=-1)])
def test_a_window_is_longer_than_zero(window: timedelta) -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        RepeatWindows(leads=window)


def test_a_push_repeat_is_the_alert_again_with_the_link() -> None:
    """Push repeats say what the alert said, critically, and open the person's page."""
    push = repeats(person(phone=False))[0]
    assert push.body == "LOCKDOWN: Locks, lights, out of sight."
    assert push.critical and push.priority == 6
    assert push.data["link"] == "https://m.example/e/AbCdEfGhIjKlMnOpQrStU_"
    assert push.data["kind"] == "repeat"


@pytest.mark.parametrize(("language", "opening", "alert", "closing"), [
    (Language.EN, "This is an emergency alert from Muster. This is not a drill.",
     "LOCKDOWN: Locks, lights, out of sight.",
     "Open the link in your text messages to report your room."),
    (Language.ES, "Esta es una alerta de emergencia de Muster. No es un simulacro.",
     "ENCIERRO: Cierren con llave, apaguen las luces, no se dejen ver.",
     "Abra el enlace de sus mensajes de texto para informar sobre su aula."),
])
def test_a_call_says_the_alert_in_the_persons_language(
        language: Language, opening: str, alert: str, closing: str) -> None:
    """A call's body is the words to say once, all of them in the person's language; its
    data names the language to say them in."""
    call = repeats(person(Role.SRO, language=language))[0]
    assert call.channel is VOICE
    assert call.body == f"{opening} {alert} {closing}"
    assert call.data == {"language": language.value}
    assert not call.critical and call.priority == 7


def test_a_long_message_is_cut_short_for_a_call() -> None:
    """A call says the first words of a long message, cut after a whole word."""
    message = "Stay away from the east wing. " * 40
    body = spoken_alert(f"LOCKDOWN: {message}", Language.EN)
    words = body.removeprefix("This is an emergency alert from Muster. This is not a drill. ")
    words = words.removesuffix(" Open the link in your text messages to report your room.")
    assert words.endswith("...") and len(words) <= SPOKEN_WORDS + 3
    assert f"LOCKDOWN: {message}".startswith(words.removesuffix("..."))
    assert f"LOCKDOWN: {message}"[len(words) - 3] == " "


@pytest.mark.parametrize(("had", "reachable", "expected"), [
    ([PUSH, SMS], [PUSH, SMS, VOICE], [VOICE, VOICE]),
    ([PUSH], [PUSH, SMS, VOICE], [SMS, VOICE]),  # push was all they got: SMS, then a call
    ([SMS], [SMS, VOICE], [VOICE, VOICE]),
    ([PUSH], [PUSH], [PUSH, PUSH]),
    ([], [PUSH, SMS, VOICE], []),  # the alert reached them nowhere: nothing to repeat
    ([], [], []),
])
def test_the_next_channel_is_above_every_one_they_had(
        had: list[Channel], reachable: list[Channel], expected: list[Channel]) -> None:
    assert repeat_channels(had, reachable) == expected
