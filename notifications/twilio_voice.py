"""Voice calls through Twilio: the sender, and the TwiML a call and its keypress answer.

A call says the message twice inside a `<Gather>` that waits for one key, asks the
person to press 1 to confirm they heard it, and says goodbye if nothing was pressed.
The keypress goes to `keypress_url` (the Gather's action), the call's end to
`status_callback_url`; both are Twilio's signed webhooks (api/routes/webhooks.py).
Outcomes of placing a call are those of every Twilio hand-off (notifications/twilio.py).
"""

from __future__ import annotations

from twilio.twiml.voice_response import Gather, VoiceResponse

from domain.calls import WORDS, call_language
from domain.delivery import OutboxMessage
from domain.language import Language
from notifications.senders import SendResult
from notifications.twilio import TwilioAccount

# Twilio's <Say language> for each of ours (es-MX: the Spanish most US schools hear)
SAY_AS = {Language.EN: "en-US", Language.ES: "es-MX"}


class TwilioVoiceSender(TwilioAccount):
    """The `voice` channel over Twilio's Calls API, calling from `from_number`."""

    def __init__(self, account_sid: str, auth_token: str, *, from_number: str,
                 status_callback_url: str, keypress_url: str, rate_per_s: float = 1.0,
                 timeout_s: float = 10.0, base_url: str | None = None) -> None:
        super().__init__(account_sid, auth_token, rate_per_s=rate_per_s, timeout_s=timeout_s,
                         base_url=base_url)
        self._from, self._keypress_url = from_number, keypress_url
        self._status_callback_url = status_callback_url

    async def send(self, message: OutboxMessage) -> SendResult:
        twiml = call_twiml(message.body, call_language(message.data), self._keypress_url)
        return await self._hand_off(lambda client: client.calls.create_async(
            to=message.phone, from_=self._from, twiml=twiml,
            status_callback=self._status_callback_url, status_callback_event=["completed"],
            status_callback_method="POST"))


def call_twiml(body: str, language: Language, keypress_url: str) -> str:
    """The call: the message twice, then how to confirm, waiting for one key."""
    response = VoiceResponse()
    gather = _gather(response, keypress_url)
    say_as = SAY_AS[language]
    gather.say(body, language=say_as)
    gather.pause(length=1)
    gather.say(body, language=say_as)
    gather.pause(length=1)
    gather.say(WORDS[language].ask, language=say_as)
    response.say(WORDS[language].goodbye, language=say_as)
    return str(response)


def confirmed_twiml(language: Language) -> str:
    """The answer to a keypress of 1."""
    response = VoiceResponse()
    response.say(WORDS[language].confirmed, language=SAY_AS[language])
    return str(response)


def ask_again_twiml(language: Language, keypress_url: str) -> str:
    """The answer to another key: how to confirm, waiting for one key again."""
    response = VoiceResponse()
    _gather(response, keypress_url).say(WORDS[language].ask, language=SAY_AS[language])
    response.say(WORDS[language].goodbye, language=SAY_AS[language])
    return str(response)


def empty_twiml() -> str:
    """The answer to a keypress on no call of ours: nothing to say."""
    return str(VoiceResponse())


def _gather(response: VoiceResponse, keypress_url: str) -> Gather:
    return response.gather(num_digits=1, action=keypress_url, method="POST")
