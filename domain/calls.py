"""What a voice call says, in the language of the person called.

A voice message's `body` is the words to say, once; the call says them twice, asks for
a keypress to confirm they were heard, and answers that keypress. A row's language is
its `data["language"]` (every planner writes it), English when it names none of ours.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.language import Language
from domain.values import Value

CONFIRM_DIGIT = "1"


class CallWords(Value, kw_only=True):
    ask: str  # after the message, twice said
    confirmed: str  # the answer to a keypress of 1
    goodbye: str  # when no key was pressed


WORDS = {
    Language.EN: CallWords(ask="Press 1 to confirm you heard this.",
                           confirmed="Confirmed. Thank you.",
                           goodbye="No key was pressed. Goodbye."),
    Language.ES: CallWords(ask="Presione 1 para confirmar que escuchó este mensaje.",
                           confirmed="Confirmado. Gracias.",
                           goodbye="No se presionó ninguna tecla. Adiós."),
}


def call_language(data: Mapping[str, str]) -> Language:
    """The language a call is made in: the row's, or English."""
    try:
        return Language(data.get("language", Language.EN))
    except ValueError:
        return Language.EN
