"""The Standard Response Protocol: statuses, action details, directives and alert words."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import Invalid
from domain.language import Language
from domain.srp import (
    WORDS,
    Action,
    EventStatus,
    Hazard,
    Purpose,
    alert_text,
    check_details,
    default_directive,
    directive_in,
    ending_text,
    transition_allowed,
)

ALLOWED_TRANSITIONS = {
    (EventStatus.ACTIVE, EventStatus.ALL_CLEAR),
    (EventStatus.ACTIVE, EventStatus.CANCELLED),
    (EventStatus.ACTIVE, EventStatus.SUPERSEDED),
}


@pytest.mark.parametrize(("from_", "to"), list(itertools.product(EventStatus, EventStatus)))
def test_transition_table(from_: EventStatus, to: EventStatus) -> None:
    """Only an active event may end, in any of the three ways; an ended one never moves."""
    assert transition_allowed(from_, to) is ((from_, to) in ALLOWED_TRANSITIONS)


# The contract, written out independently of the module's table.
TAKES = {
    Action.HOLD: set(),
    Action.SECURE: set(),
    Action.LOCKDOWN: {"location"},  # where the threat is
    Action.EVACUATE: {"location", "purpose"},
    Action.SHELTER: {"hazard", "strategy"},
}
NEEDS = {Action.EVACUATE: {"location"}, Action.SHELTER: {"hazard"}}
VALUES = {"location": "Football field", "hazard": Hazard.TORNADO, "strategy": "Use the gym",
          "purpose": Purpose.FIRE}
SUBSETS = [
    set(names)
    for size in range(5)
    for names in itertools.combinations(["location", "hazard", "strategy", "purpose"], size)
]


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("given_names", SUBSETS, ids=lambda s: "+".join(sorted(s)) or "none")
def test_action_details(action: Action, given_names: set[str]) -> None:
    """Each action accepts exactly its details and refuses to go without the required ones."""
    stray = given_names - TAKES[action]
    missing = NEEDS.get(action, set()) - given_names
    details = {name: VALUES[name] for name in given_names}
    if not stray and not missing:
        check_details(action, **details)
        return
    with pytest.raises(Invalid) as error:
        check_details(action, **details)
    assert error.value.field in (stray or missing)
    assert action in str(error.value)
    assert error.value.field in str(error.value)


def test_blank_location_counts_as_missing() -> None:
    """An evacuation whose location is only spaces has no location."""
    with pytest.raises(Invalid) as error:
        check_details(Action.EVACUATE, location="   ")
    assert error.value.field == "location"


def test_blank_detail_on_an_action_that_takes_none_is_ignored() -> None:
    """A client sending an empty location with a lockdown is not refused for it."""
    check_details(Action.LOCKDOWN, location="", strategy=" ")


@pytest.mark.parametrize(
    ("action", "hazard", "expected"),
    [
        (Action.HOLD, None, "In your room or area. Clear the halls."),
        (Action.SECURE, None, "Get inside. Lock outside doors."),
        (Action.LOCKDOWN, None, "Locks, lights, out of sight."),
        (Action.SHELTER, Hazard.TORNADO, "Tornado. Go to the shelter area. Drop and cover."),
        (Action.SHELTER, Hazard.HAZMAT, "Hazardous materials. Seal the room."),
        (Action.SHELTER, Hazard.EARTHQUAKE, "Earthquake. Drop, cover and hold on."),
        (Action.SHELTER, Hazard.OTHER, "Shelter in place."),
    ],
)
def test_default_directives(action: Action, hazard: Hazard | None, expected: str) -> None:
    """Each action (and each shelter hazard) has the SRP's own words."""
    assert default_directive(action, hazard=hazard) == expected


@pytest.mark.parametrize("location", ["Football field", "Football field.", "  Football field "])
def test_evacuate_directive_names_the_location(location: str) -> None:
    """An evacuation says where to go, as one clean sentence."""
    assert default_directive(Action.EVACUATE, location=location) == "Go to Football field."


def test_shelter_directive_adds_the_schools_strategy() -> None:
    """A shelter's own strategy follows the hazard's, as a capitalised sentence."""
    directive = default_directive(Action.SHELTER, hazard=Hazard.HAZMAT, strategy="close vents")
    assert directive == "Hazardous materials. Seal the room. Close vents."


def test_drill_alert_starts_with_drill() -> None:
    """A drill's alert is labelled DRILL before anything else."""
    text = alert_text(Action.LOCKDOWN, True, "Locks, lights, out of sight.")
    assert text == "DRILL — LOCKDOWN: Locks, lights, out of sight."


def test_real_alert_has_no_drill_label() -> None:
    """A real alert opens with the action itself."""
    text = alert_text(Action.LOCKDOWN, False, "Locks, lights, out of sight.")
    assert text == "LOCKDOWN: Locks, lights, out of sight."


def test_alert_appends_the_message() -> None:
    """The user's message follows the directive."""
    text = alert_text(Action.HOLD, False, "In your room.", message=" Medical in hall B. ")
    assert text == "HOLD: In your room. Medical in hall B."


def test_a_lockdown_says_where_the_threat_is_after_the_directive() -> None:
    """A real lockdown's location is the threat's; it comes before the message, which an
    SMS cuts first."""
    text = alert_text(Action.LOCKDOWN, False, "Locks, lights, out of sight.", "Stay quiet.",
                      " North hallway. ")
    assert text == "LOCKDOWN: Locks, lights, out of sight. Threat: North hallway. Stay quiet."


def test_a_drill_lockdowns_threat_is_said_to_be_simulated() -> None:
    """A drill's threat location never reads as a real threat, even without its label."""
    text = alert_text(Action.LOCKDOWN, True, "Locks, lights, out of sight.", None, "Gym")
    assert text == "DRILL — LOCKDOWN: Locks, lights, out of sight. Simulated threat: Gym."
    with pytest.raises(Invalid) as error:
        alert_text(Action.LOCKDOWN, True, "Lock.", None, "Gym, this is not a drill")
    assert error.value.field == "location"


def test_an_evacuations_location_is_where_to_go_not_a_threat() -> None:
    """Only a lockdown's location is a threat's; an evacuation names its place in its
    directive, and "Drill field" is a real place to go."""
    assert alert_text(Action.EVACUATE, False, "Go to Drill field.", None,
                      "Drill field") == "EVACUATE: Go to Drill field."


@pytest.mark.parametrize("text", ["DRILL lockdown", "drill: practice", "  -- Drill", "DRILL—now"])
@pytest.mark.parametrize("field", ["message", "directive"])
def test_real_alert_refuses_text_starting_with_drill(text: str, field: str) -> None:
    """A real alert whose directive or message opens with DRILL is refused, naming it."""
    words = {"directive": "Locks, lights, out of sight.", "message": None, field: text}
    with pytest.raises(Invalid) as error:
        alert_text(Action.LOCKDOWN, False, **words)
    assert error.value.field == field
    assert "DRILL" in str(error.value)


@pytest.mark.parametrize("text", ["Drilling noise near gym", "THIS IS NOT A DRILL", "Intruder"])
def test_real_alert_accepts_text_that_does_not_open_with_drill(text: str) -> None:
    """Only a leading word DRILL is refused; other mentions are fine in a real alert."""
    assert alert_text(Action.LOCKDOWN, False, "Lock.", message=text).startswith("LOCKDOWN: ")


@pytest.mark.parametrize("field", ["message", "directive"])
def test_drill_alert_refuses_saying_it_is_not_a_drill(field: str) -> None:
    """A drill must not claim to be real."""
    words = {"directive": "Lock.", "message": None, field: "This is NOT a drill!"}
    with pytest.raises(Invalid) as error:
        alert_text(Action.LOCKDOWN, True, **words)
    assert error.value.field == field


def test_drill_alert_with_its_own_drill_word_keeps_the_prefix() -> None:
    """A drill message that itself says DRILL is still prefixed by the flag."""
    assert alert_text(Action.HOLD, True, "Stay.", "Drill only").startswith("DRILL — HOLD: ")


@given(action=st.sampled_from(Action), directive=st.text(min_size=1), message=st.text() | st.none())
def test_only_the_drill_flag_decides_the_label(
    action: Action, directive: str, message: str | None
) -> None:
    """Whatever the user types, a drill starts with DRILL and a real alert never does."""
    try:
        drill_text = alert_text(action, True, directive, message)
    except Invalid:
        pass
    else:
        assert drill_text.startswith("DRILL — ")
    try:
        real_text = alert_text(action, False, directive, message)
    except Invalid:
        return
    assert not real_text.lstrip().upper().startswith("DRILL")


@pytest.mark.parametrize(
    ("drill", "status", "note", "expected"),
    [
        (True, EventStatus.ALL_CLEAR, None, "DRILL — ALL CLEAR"),
        (False, EventStatus.ALL_CLEAR, "Resume classes.", "ALL CLEAR: Resume classes."),
        (False, EventStatus.CANCELLED, "Drill button pressed",
         "CANCELLED: False alarm. Drill button pressed"),
        (False, EventStatus.CANCELLED, None, "CANCELLED: False alarm."),
        (True, EventStatus.SUPERSEDED, "superseded by a real lockdown",
         "DRILL — ENDED: superseded by a real lockdown"),
    ],
)
def test_ending_text(drill: bool, status: EventStatus, note: str | None, expected: str) -> None:
    """The end of an event is labelled like its alerts and carries its note."""
    assert ending_text(drill, status, note) == expected


def test_ending_text_refuses_active() -> None:
    """Active is not an ending; asking for its words is a programming error."""
    with pytest.raises(ValueError):
        ending_text(False, EventStatus.ACTIVE)


def test_every_language_has_every_word() -> None:
    """Each language names every action, directive, hazard and ending: a missing word
    would be a KeyError in the middle of an alert."""
    assert set(WORDS) == set(Language)
    for words in WORDS.values():
        assert set(words.actions) == set(Action)
        assert set(words.directives) == {Action.HOLD, Action.SECURE, Action.LOCKDOWN}
        assert set(words.shelters) == set(Hazard)
        assert set(words.endings) == set(EventStatus) - {EventStatus.ACTIVE}
        assert "{place}" in words.go_to and words.drill.endswith(" — ")


@pytest.mark.parametrize("language", list(Language))
def test_the_drill_rules_hold_in_every_language(language: Language) -> None:
    """A drill opens with its language's DRILL (SIMULACRO) and a real alert never has it."""
    drill = alert_text(Action.LOCKDOWN, True, "x", language=language)
    real = alert_text(Action.LOCKDOWN, False, "x", language=language)
    assert drill == f"{WORDS[language].drill}{real}"
    assert "DRILL" not in real and "SIMULACRO" not in real


@pytest.mark.parametrize(("drill", "words"), [
    (False, {"directive": "Simulacro: cierren las puertas."}),
    (False, {"directive": "Lock.", "message": "SIMULACRO de encierro"}),
    (True, {"directive": "Lock.", "message": "Esto no es un simulacro"}),
    (True, {"directive": "No es simulacro. Cierren."}),
])
def test_mixed_signals_are_refused_in_spanish_too(drill: bool, words: dict) -> None:
    """Typed words go to every reader as typed, so Spanish mix-ups are refused as well."""
    with pytest.raises(Invalid, match=r"(?i)drill"):
        alert_text(Action.LOCKDOWN, drill, **words)


@pytest.mark.parametrize(("action", "details", "spanish"), [
    (Action.HOLD, {}, "Quédense en su salón o área. Despejen los pasillos."),
    (Action.EVACUATE, {"location": "the gym."}, "Vayan a the gym."),
    (Action.EVACUATE, {}, "Vayan al lugar anunciado."),
    (Action.SHELTER, {"hazard": Hazard.TORNADO, "strategy": "room 12"},
     "Tornado. Vayan al área de refugio. Agáchense y cúbranse. Room 12."),
])
def test_a_default_directive_is_said_in_the_readers_language(action: Action, details: dict,
                                                             spanish: str) -> None:
    """The event stores the English default; a Spanish reader gets the SRP's words in
    Spanish (a place or a strategy somebody typed stays as typed)."""
    english = default_directive(action, **details)
    assert directive_in(Language.ES, action, english, **details) == spanish
    assert directive_in(Language.EN, action, english, **details) == english
    assert directive_in(Language.ES, action, "Typed by the SRO.", **details) == (
        "Typed by the SRO.")
