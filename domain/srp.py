"""The Standard Response Protocol: its five actions, their words, and an event's statuses.

Everything here is a table, so that adding a hazard or a status is one line, and the
rules a notification must obey (a drill always says DRILL first, a real alert never
does) live in one place.
"""

import re
from enum import StrEnum

from domain.errors import Invalid


class Action(StrEnum):
    """The five SRP actions, in rising order of disruption (except shelter, which is apart)."""

    HOLD = "hold"
    SECURE = "secure"
    LOCKDOWN = "lockdown"
    EVACUATE = "evacuate"
    SHELTER = "shelter"


class Hazard(StrEnum):
    """What a shelter protects from; it picks the default safety strategy."""

    TORNADO = "tornado"
    HAZMAT = "hazmat"
    EARTHQUAKE = "earthquake"
    OTHER = "other"


class Purpose(StrEnum):
    """What an evacuation is for, so that drills count toward the right state category
    (a fire drill, a bus evacuation drill); optional, and only on an evacuation."""

    FIRE = "fire"
    BUS = "bus"
    BOMB_THREAT = "bomb_threat"
    HAZMAT = "hazmat"
    OTHER = "other"


class EventStatus(StrEnum):
    """Where an event is in its life; every status but `active` is final."""

    ACTIVE = "active"
    ALL_CLEAR = "all_clear"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


_TRANSITIONS: dict[EventStatus, frozenset[EventStatus]] = {
    EventStatus.ACTIVE: frozenset(
        {EventStatus.ALL_CLEAR, EventStatus.CANCELLED, EventStatus.SUPERSEDED}
    ),
    EventStatus.ALL_CLEAR: frozenset(),
    EventStatus.CANCELLED: frozenset(),
    EventStatus.SUPERSEDED: frozenset(),
}


def transition_allowed(from_: EventStatus, to: EventStatus) -> bool:
    """Whether an event in `from_` may move to `to`; an ended event never moves again."""
    return to in _TRANSITIONS[from_]


# The details each action takes, and whether it cannot do without them. A lockdown's
# location is where the threat is; an evacuation's, where to go.
_DETAILS: dict[Action, dict[str, bool]] = {
    Action.HOLD: {},
    Action.SECURE: {},
    Action.LOCKDOWN: {"location": False},
    Action.EVACUATE: {"location": True, "purpose": False},
    Action.SHELTER: {"hazard": True, "strategy": False},
}
_WHY: dict[str, str] = {
    "location": "where to go",
    "hazard": "what to shelter from (tornado, hazmat, earthquake or other)",
}


def check_details(
    action: Action,
    *,
    location: str | None = None,
    hazard: Hazard | None = None,
    strategy: str | None = None,
    purpose: Purpose | None = None,
) -> None:
    """Refuse an evacuation without a place, a shelter without a hazard, and any detail an
    action does not use (a stray location on a hold is a sign of a client mistake)."""
    details = {"location": location, "hazard": hazard, "strategy": strategy, "purpose": purpose}
    given = {
        name
        for name, value in details.items()
        if value is not None and str(value).strip()  # a blank text counts as not given
    }
    stray = sorted(given - _DETAILS[action].keys())
    if stray:
        raise Invalid(f"{action} does not take a {stray[0]}", field=stray[0])
    missing = sorted({name for name, needed in _DETAILS[action].items() if needed} - given)
    if missing:
        raise Invalid(f"{action} needs a {missing[0]}: {_WHY[missing[0]]}", field=missing[0])


_DIRECTIVES: dict[Action, str] = {
    Action.HOLD: "In your room or area. Clear the halls.",
    Action.SECURE: "Get inside. Lock outside doors.",
    Action.LOCKDOWN: "Locks, lights, out of sight.",
}
# SRP's shelter names its hazard, then the safety strategy; "other" has no name to give.
_SHELTER_DIRECTIVES: dict[Hazard, str] = {
    Hazard.TORNADO: "Tornado. Go to the shelter area. Drop and cover.",
    Hazard.HAZMAT: "Hazardous materials. Seal the room.",
    Hazard.EARTHQUAKE: "Earthquake. Drop, cover and hold on.",
    Hazard.OTHER: "Shelter in place.",
}


def _sentence(text: str) -> str:
    """A user's phrase as a sentence (capital, full stop), to read well after ours."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def default_directive(
    action: Action,
    location: str | None = None,
    hazard: Hazard | None = None,
    strategy: str | None = None,
) -> str:
    """The SRP's words for an action; an evacuation names its place, a shelter its hazard
    and the hazard's strategy, followed by the school's own strategy if one is given."""
    if action is Action.EVACUATE:
        place = (location or "").strip().rstrip(".")
        return f"Go to {place}." if place else "Go to the announced location."
    if action is Action.SHELTER:
        words = _SHELTER_DIRECTIVES[hazard or Hazard.OTHER]
        return f"{words} {_sentence(strategy)}" if strategy and strategy.strip() else words
    return _DIRECTIVES[action]


DRILL_PREFIX = "DRILL — "
_STARTS_WITH_DRILL = re.compile(r"^\W*drill\b", re.IGNORECASE)
_NOT_A_DRILL = re.compile(r"\bnot\s+a\s+drill\b", re.IGNORECASE)


def refuse_mixed_signals(drill: bool, texts: dict[str, str | None]) -> None:
    """A real alert that opens with DRILL, or a drill that says it is not one, could make
    someone treat a real threat as practice (or the other way round)."""
    for field, text in texts.items():
        if not text:
            continue
        if not drill and _STARTS_WITH_DRILL.search(text):
            raise Invalid(f"a real event's {field} must not start with DRILL", field=field)
        if drill and _NOT_A_DRILL.search(text):
            raise Invalid(f"a drill's {field} must not say it is not a drill", field=field)


# How a message names where the threat is, by whether the event is a drill: a drill may
# practise hiding from a place, but its words must never read as a real threat, even cut
# short or read without the DRILL label above them.
THREAT_WORDS: dict[bool, str] = {False: "Threat", True: "Simulated threat"}


def threat(action: Action, location: str | None, drill: bool) -> str | None:
    """Where the threat is, as an alert says it: a lockdown's location is the threat's
    ("Threat: north hallway.", a drill's "Simulated threat: ...")."""
    if action is not Action.LOCKDOWN or not location or not location.strip():
        return None
    return f"{THREAT_WORDS[drill]}: {location.strip().rstrip('.')}."


def alert_text(action: Action, drill: bool, directive: str, message: str | None = None,
               location: str | None = None) -> str:
    """The words of an action's alert, e.g. "DRILL — LOCKDOWN: Locks, lights, out of sight.";
    the `drill` flag alone decides the DRILL prefix, whatever the user typed. A lockdown's
    `location` (the threat's) follows the directive, before the message: an SMS that is
    too long is cut at its end."""
    where = threat(action, location, drill)
    refuse_mixed_signals(drill, {"directive": directive, "message": message,
                                 "location": location if where else None})
    body = f"{action.upper()}: {directive.strip()}"
    if where is not None:
        body = f"{body} {where}"
    if message and message.strip():
        body = f"{body} {message.strip()}"
    return f"{DRILL_PREFIX}{body}" if drill else body


_ENDINGS: dict[EventStatus, str] = {
    EventStatus.ALL_CLEAR: "ALL CLEAR",
    EventStatus.CANCELLED: "CANCELLED",
    EventStatus.SUPERSEDED: "ENDED",
}


def ending_text(drill: bool, status: EventStatus, note: str | None = None) -> str:
    """The words that tell everyone an event is over, labelled DRILL like its alerts.

    The note is not screened for DRILL: the text opens with ALL CLEAR or CANCELLED, which
    asks nobody to act, and refusing "Drill button pressed by mistake" as the reason for
    cancelling a real false alarm would only slow the cancellation down."""
    if status not in _ENDINGS:
        raise ValueError(f"{status} does not end an event")
    body = f"{_ENDINGS[status]}: {note.strip()}" if note and note.strip() else _ENDINGS[status]
    return f"{DRILL_PREFIX}{body}" if drill else body
