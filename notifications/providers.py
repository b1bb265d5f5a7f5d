"""The senders a dispatcher uses: a provider's adapter where it is configured, the
console otherwise (so the whole flow works offline)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from domain.alerts import Channel
from domain.values import Value
from notifications.dispatcher import IN_FLIGHT
from notifications.fcm import FcmSender
from notifications.senders import ConsoleSender, Sender
from notifications.twilio_sms import TwilioSmsSender
from notifications.twilio_voice import TwilioVoiceSender

# Pushes a dispatcher's lane holds leased at once: a push has no rate to keep within its
# lease. 300 at FCM at once (notifications.dispatcher.IN_FLIGHT), the rest claimed ahead
# or having their outcome written: at FCM's ~50 ms, 10,000 in about 2 s.
PUSHES_AT_ONCE = 500


class Providers(Value, kw_only=True):
    """Provider settings, as the operator configured them (see README)."""

    fcm_credentials: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    sms_status_url: str | None = None  # where Twilio posts delivery receipts
    twilio_voice_from: str | None = None  # caller ID: without it, calls go to the console
    voice_status_url: str | None = None  # where Twilio posts a call's end
    voice_keypress_url: str | None = None  # where Twilio posts the key pressed
    sms_rate_per_s: float = 10.0
    voice_rate_per_s: float = 1.0  # calls placed a second: Twilio's default for an account
    fcm_url: str | None = None  # FCM's send URL, e.g. an emulator's (format: FcmSender)
    twilio_api_url: str | None = None  # Twilio's API base URL

    def batches(self, lease: timedelta, most: int = 100) -> dict[str, int]:
        """Messages a dispatcher's lane may hold leased at once: for SMS and calls no more
        than can be handed off at their rate in half a lease, or waiting messages would
        outlive it and be sent twice."""
        def within(rate_per_s: float) -> int:
            return max(1, min(most, int(rate_per_s * lease.total_seconds() / 2)))

        return {Channel.PUSH: PUSHES_AT_ONCE, Channel.SMS: within(self.sms_rate_per_s),
                Channel.VOICE: within(self.voice_rate_per_s)}


@contextlib.asynccontextmanager
async def open_senders(providers: Providers) -> AsyncIterator[dict[str, Sender]]:
    """One sender per channel, open for the duration of the block."""
    async with contextlib.AsyncExitStack() as stack:
        push: Sender = ConsoleSender(Channel.PUSH)
        if providers.fcm_credentials:
            # a connection for each send the dispatcher has at FCM at once (a person's
            # second device waits for one): more would stay idle, fewer would queue sends
            push = FcmSender(providers.fcm_credentials, fcm_url=providers.fcm_url,
                             connections=IN_FLIGHT[Channel.PUSH])
            stack.push_async_callback(push.aclose)
        sms: Sender = ConsoleSender(Channel.SMS)
        voice: Sender = ConsoleSender(Channel.VOICE)
        if providers.twilio_account_sid and providers.twilio_auth_token:
            account = providers.twilio_account_sid, providers.twilio_auth_token
            api_url = providers.twilio_api_url
            sms = await stack.enter_async_context(TwilioSmsSender(
                *account, from_number=providers.twilio_from, base_url=api_url,
                messaging_service_sid=providers.twilio_messaging_service_sid,
                status_callback_url=providers.sms_status_url, rate_per_s=providers.sms_rate_per_s))
            if (providers.twilio_voice_from and providers.voice_status_url
                    and providers.voice_keypress_url):
                voice = await stack.enter_async_context(TwilioVoiceSender(
                    *account, from_number=providers.twilio_voice_from, base_url=api_url,
                    status_callback_url=providers.voice_status_url,
                    keypress_url=providers.voice_keypress_url,
                    rate_per_s=providers.voice_rate_per_s))
        yield {Channel.PUSH: push, Channel.SMS: sms, Channel.VOICE: voice}
