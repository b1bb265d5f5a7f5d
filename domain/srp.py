"""The Standard Response Protocol: its five actions, their words, and an event's statuses.

Everything here is a table, so that adding a hazard or a status is one line, and the
rules a notification must obey (a drill always says DRILL first, a real alert never
does) live in one place.
"""

import re
from enum import StrEnum

from domain.errors import Invalid
from domain.language import Language
from domain.values import Value


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


class Words(Value, kw_only=True):
    """The SRP's words in one language: each action's name and directive, a shelter's by
    hazard, where to evacuate to, what labels a drill, and what ends an event."""

    actions: dict[Action, str]
    directives: dict[Action, str]  # hold, secure, lockdown: the action says it all
    shelters: dict[Hazard, str]  # SRP's shelter names its hazard, then the strategy
    go_to: str  # an evacuation's place, as "{place}"
    go_to_announced: str  # an evacuation whose place is not given
    drill: str  # what a drill's every text opens with
    threats: dict[bool, str]  # what names a lockdown's threat, by drill
    endings: dict[EventStatus, str]
    false_alarm: str  # what a cancellation's note opens with


# The English words are the SRP's ("I Love U Guys" Foundation). The Spanish words are
# Muster's own (docs/alerts.md, "Languages", says why): plain Spanish for school staff,
# "ustedes" because an alert speaks to a room, SIMULACRO where English says DRILL.
WORDS: dict[Language, Words] = {
    Language.EN: Words(
        actions={Action.HOLD: "HOLD", Action.SECURE: "SECURE", Action.LOCKDOWN: "LOCKDOWN",
                 Action.EVACUATE: "EVACUATE", Action.SHELTER: "SHELTER"},
        directives={Action.HOLD: "In your room or area. Clear the halls.",
                    Action.SECURE: "Get inside. Lock outside doors.",
                    Action.LOCKDOWN: "Locks, lights, out of sight."},
        shelters={Hazard.TORNADO: "Tornado. Go to the shelter area. Drop and cover.",
                  Hazard.HAZMAT: "Hazardous materials. Seal the room.",
                  Hazard.EARTHQUAKE: "Earthquake. Drop, cover and hold on.",
                  Hazard.OTHER: "Shelter in place."},
        go_to="Go to {place}.", go_to_announced="Go to the announced location.",
        drill="DRILL — ", threats={False: "Threat", True: "Simulated threat"},
        endings={EventStatus.ALL_CLEAR: "ALL CLEAR", EventStatus.CANCELLED: "CANCELLED",
                 EventStatus.SUPERSEDED: "ENDED"},
        false_alarm="False alarm.",
    ),
    Language.ES: Words(
        actions={Action.HOLD: "PERMANECER", Action.SECURE: "ASEGURAR",
                 Action.LOCKDOWN: "ENCIERRO", Action.EVACUATE: "EVACUAR",
                 Action.SHELTER: "REFUGIO"},
        directives={Action.HOLD: "Quédense en su salón o área. Despejen los pasillos.",
                    Action.SECURE: "Entren al edificio. Cierren las puertas exteriores.",
                    Action.LOCKDOWN: "Cierren con llave, apaguen las luces, no se dejen "
                                     "ver."},
        shelters={Hazard.TORNADO: "Tornado. Vayan al área de refugio. Agáchense y cúbranse.",
                  Hazard.HAZMAT: "Materiales peligrosos. Sellen el salón.",
                  Hazard.EARTHQUAKE: "Terremoto. Agáchense, cúbranse y agárrense.",
                  Hazard.OTHER: "Refúgiense en el lugar."},
        go_to="Vayan a {place}.", go_to_announced="Vayan al lugar anunciado.",
        drill="SIMULACRO — ", threats={False: "Amenaza", True: "Amenaza simulada"},
        endings={EventStatus.ALL_CLEAR: "FIN DE LA ALERTA",
                 EventStatus.CANCELLED: "CANCELADO", EventStatus.SUPERSEDED: "TERMINADO"},
        false_alarm="Falsa alarma.",
    ),
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
    language: Language = Language.EN,
) -> str:
    """The SRP's words for an action; an evacuation names its place, a shelter its hazard
    and the hazard's strategy, followed by the school's own strategy if one is given."""
    words = WORDS[language]
    if action is Action.EVACUATE:
        place = (location or "").strip().rstrip(".")
        return words.go_to.format(place=place) if place else words.go_to_announced
    if action is Action.SHELTER:
        shelter = words.shelters[hazard or Hazard.OTHER]
        return f"{shelter} {_sentence(strategy)}" if strategy and strategy.strip() else shelter
    return words.directives[action]


def directive_in(language: Language, action: Action, directive: str, *,
                 location: str | None = None, hazard: Hazard | None = None,
                 strategy: str | None = None) -> str:
    """An event's directive for a reader of `language`: the SRP's own words in their
    language when the event's directive is the (English) default; a directive somebody
    typed is theirs, sent as they wrote it (a place or a strategy is not translated)."""
    if directive == default_directive(action, location, hazard, strategy):
        return default_directive(action, location, hazard, strategy, language)
    return directive


# A real text must not open with the word for a drill, in any language; a drill's must
# not say it is not one ("not a drill", "no es un simulacro").
_STARTS_WITH_DRILL = re.compile(r"^\W*(drill|simulacro)\b", re.IGNORECASE)
_NOT_A_DRILL = re.compile(r"\bnot\s+a\s+drill\b|\bno\s+es\s+(un\s+)?simulacro\b",
                          re.IGNORECASE)


def refuse_mixed_signals(drill: bool, texts: dict[str, str | None]) -> None:
    """A real alert that opens with DRILL, or a drill that says it is not one, could make
    someone treat a real threat as practice (or the other way round). Typed words go to
    readers of every language as they are, so each language's signals are refused."""
    for field, text in texts.items():
        if not text:
            continue
        if not drill and _STARTS_WITH_DRILL.search(text):
            raise Invalid(f"a real event's {field} must not start with DRILL (SIMULACRO)",
                          field=field)
        if drill and _NOT_A_DRILL.search(text):
            raise Invalid(f"a drill's {field} must not say it is not a drill", field=field)


def threat(action: Action, location: str | None, drill: bool,
           language: Language = Language.EN) -> str | None:
    """Where the threat is, as an alert says it: a lockdown's location is the threat's
    ("Threat: north hallway.", a drill's "Simulated threat: ...": a drill may practise
    hiding from a place, but its words must never read as a real threat, even cut short
    or read without the DRILL label above them)."""
    if action is not Action.LOCKDOWN or not location or not location.strip():
        return None
    return f"{WORDS[language].threats[drill]}: {location.strip().rstrip('.')}."


def alert_text(action: Action, drill: bool, directive: str, message: str | None = None,
               location: str | None = None, *, language: Language = Language.EN) -> str:
    """The words of an action's alert, e.g. "DRILL — LOCKDOWN: Locks, lights, out of sight."
    ("SIMULACRO — ENCIERRO: ..." in Spanish); the `drill` flag alone decides the DRILL
    prefix, whatever the user typed. A lockdown's `location` (the threat's) follows the
    directive, before the message: an SMS that is too long is cut at its end."""
    where = threat(action, location, drill, language)
    refuse_mixed_signals(drill, {"directive": directive, "message": message,
                                 "location": location if where else None})
    words = WORDS[language]
    body = f"{words.actions[action]}: {directive.strip()}"
    if where is not None:
        body = f"{body} {where}"
    if message and message.strip():
        body = f"{body} {message.strip()}"
    return f"{words.drill}{body}" if drill else body


def ending_text(drill: bool, status: EventStatus, note: str | None = None,
                language: Language = Language.EN) -> str:
    """The words that tell everyone an event is over, labelled DRILL like its alerts; a
    cancellation's note opens with "False alarm.".

    The note is not screened for DRILL: the text opens with ALL CLEAR or CANCELLED, which
    asks nobody to act, and refusing "Drill button pressed by mistake" as the reason for
    cancelling a real false alarm would only slow the cancellation down."""
    words = WORDS[language]
    if status not in words.endings:
        raise ValueError(f"{status} does not end an event")
    opening = words.false_alarm if status is EventStatus.CANCELLED else None
    note = " ".join(w for w in (opening, note and note.strip()) if w)
    ending = words.endings[status]
    body = f"{ending}: {note}" if note else ending
    return f"{words.drill}{body}" if drill else body
