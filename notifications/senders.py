"""The port every channel adapter implements, and the console adapter.

The console adapter is what `muster serve` uses without provider credentials:
one readable log line per message, recorded like any other send, so the whole
flow (outbox, dispatch, outcomes, timeline) works offline.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from domain.alerts import Channel
from domain.delivery import DeliveryOutcome, OutboxMessage
from domain.values import Value

log = logging.getLogger("muster.notifications")


class SendResult(Value, kw_only=True):
    """What a provider said: sent (with its id), failed for good, or try again."""

    outcome: DeliveryOutcome  # sent, failed or retry
    provider_id: str | None = None
    error_code: str | None = None
    dead_tokens: tuple[str, ...] = ()  # push tokens the provider called dead: disable them


class Sender(Protocol):
    async def send(self, message: OutboxMessage) -> SendResult: ...


@runtime_checkable  # a request's dependency (api/http/deps.py), checked as one
class TextSender(Protocol):
    """The SMS channel's own verb, for texts that are not alerts (sign-in codes)."""

    async def send_text(self, phone: str, body: str) -> SendResult: ...


class ConsoleSender:
    """Writes each message to the log instead of sending it."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    async def send(self, message: OutboxMessage) -> SendResult:
        if self.channel == Channel.PUSH and not message.push_tokens:
            return SendResult(outcome=DeliveryOutcome.FAILED, error_code="no-device")
        push = self.channel == Channel.PUSH
        to = f"{len(message.push_tokens)} device(s)" if push else message.phone
        to_whom = message.user_id or message.contact_id or message.guardian_id
        about = message.event_id or message.assist_id or message.reunification_id
        log.info("%s to %s (%s): %s", self.channel.upper(), to_whom, to, message.body,
                 extra={"event_id": str(about)})
        return SendResult(outcome=DeliveryOutcome.SENT, provider_id=f"console-{message.id}")

    async def send_text(self, phone: str, body: str) -> SendResult:
        log.info("%s to %s: %s", self.channel.upper(), phone, body)
        return SendResult(outcome=DeliveryOutcome.SENT)

