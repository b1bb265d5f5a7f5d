"""Repeat a real alert to whoever has not acknowledged it, each time on a stronger channel.

A real alert is planned in ROUNDS rounds. Round 1 is the alert itself (push and SMS at
once). Round n (2..ROUNDS) is one message, due (n - 1) windows after the alert, and sent
only if the person has still not acknowledged the event by then: an ack (the app, or
their link's page), a room report of theirs for the event, or a voice call of the event
they confirmed (pressed 1). Its channel is the next on the ladder push -> SMS -> voice
above every channel the person has had, among those that reach them: after push and SMS,
a voice call; after push alone (no phone), push again; once voice is had, voice again.
The window is shorter for the safety leads, who must respond first.

Drills are not repeated: their SMS reminder (domain/alerts.py) is reminder enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TypeVar

from domain.language import Language
from domain.values import Value

ROUNDS = 3  # the alert, then at most two repeats
# A call says the alert's words twice: past this many characters they are cut after a
# whole word (the link's page has them all), or the call outlasts anyone's patience.
SPOKEN_WORDS = 400

T = TypeVar("T")


class RepeatWindows(Value, kw_only=True):
    """How long a person has to acknowledge before the next round: `leads` for the SRO,
    principals and district admins, `others` for everyone else."""

    leads: timedelta = timedelta(seconds=60)
    others: timedelta = timedelta(seconds=120)

    def __post_init__(self) -> None:
        if self.leads <= timedelta(0) or self.others <= timedelta(0):
            raise ValueError("a repeat window must be longer than zero")

    def window(self, lead: bool) -> timedelta:
        return self.leads if lead else self.others


DEFAULT_WINDOWS = RepeatWindows()


def repeat_channels(had: Sequence[T], reachable: Sequence[T]) -> list[T]:
    """The channel of each repeat round (rounds 2..ROUNDS), given the channels the alert
    went on (`had`) and those that reach the person (`reachable`), both in ladder order
    (weakest first): the first reachable channel above all they had, else the strongest
    reachable again. Nobody reachable, or an alert that went nowhere: no repeats."""
    if not reachable or not had:
        return []
    rounds: list[T] = []
    top = max(reachable.index(c) for c in had)
    for _ in range(ROUNDS - 1):
        top = min(top + 1, len(reachable) - 1)
        rounds.append(reachable[top])
    return rounds


# What a repeat's voice call says (once; the voice sender says it twice and asks the
# person to press 1), around the alert's own words.
_CALL: dict[Language, tuple[str, str]] = {
    Language.EN: ("This is an emergency alert from Muster. This is not a drill.",
                  "Open the link in your text messages to report your room."),
    Language.ES: ("Esta es una alerta de emergencia de Muster. No es un simulacro.",
                  "Abra el enlace de sus mensajes de texto para informar sobre su aula."),
}


def spoken_alert(words: str, language: Language) -> str:
    """The words of a repeat's voice call in the person's language, around the alert's."""
    opening, closing = _CALL[language]
    return f"{opening} {_cut(words.strip(), SPOKEN_WORDS)} {closing}"


def _cut(words: str, limit: int) -> str:
    """`words` within `limit` characters, cut after a whole word when it can be."""
    if len(words) <= limit:
        return words
    head = words[:limit]
    space = head.rfind(" ")
    return f"{(head[:space] if space > limit // 2 else head).rstrip()}..."
