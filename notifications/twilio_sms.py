"""SMS through Twilio: the sender, and what the status-callback webhook makes of a receipt.

The sender is an async context manager (notifications/twilio.py, shared with voice):
`async with TwilioSmsSender(...) as sms:`. Outcomes as there: "sent" with the Message
SID; "failed" for what will never succeed (21211 invalid To, 21614 not a mobile, 21610
unsubscribed, other 4xx); "retry" for 20429, 30001, HTTP 429/5xx, timeouts and
connection errors.
"""

from __future__ import annotations

from domain.delivery import DeliveryOutcome, OutboxMessage
from notifications.senders import SendResult
from notifications.twilio import TwilioAccount

# unreachable, blocked, unknown handset, landline: this number will not take SMS
HANDSET_CODES = frozenset({"30003", "30004", "30005", "30006"})

_FINAL = {  # Twilio's final statuses, as ours
    "delivered": DeliveryOutcome.DELIVERED, "read": DeliveryOutcome.DELIVERED,
    "undelivered": DeliveryOutcome.UNDELIVERED, "failed": DeliveryOutcome.FAILED,
    "canceled": DeliveryOutcome.FAILED}


class TwilioSmsSender(TwilioAccount):
    """The `sms` channel over Twilio's Messages API."""

    def __init__(self, account_sid: str, auth_token: str, *, from_number: str | None = None,
                 messaging_service_sid: str | None = None,
                 status_callback_url: str | None = None, validity_period_s: int = 600,
                 rate_per_s: float = 10.0, timeout_s: float = 10.0,
                 base_url: str | None = None) -> None:
        if (from_number is None) == (messaging_service_sid is None):
            raise ValueError("give exactly one of from_number and messaging_service_sid")
        super().__init__(account_sid, auth_token, rate_per_s=rate_per_s, timeout_s=timeout_s,
                         base_url=base_url)
        self._fixed = {k: v for k, v in {
            "from_": from_number, "messaging_service_sid": messaging_service_sid,
            "status_callback": status_callback_url, "validity_period": validity_period_s,
        }.items() if v is not None}

    async def send(self, message: OutboxMessage) -> SendResult:
        return await self.send_text(message.phone, message.body)

    async def send_text(self, phone: str, body: str) -> SendResult:
        """One SMS, under the same rate limit as alerts (a sign-in code is one too)."""
        return await self._hand_off(
            lambda client: client.messages.create_async(to=phone, body=body, **self._fixed))


def status_callback_outcome(status: str, error_code: str | int | None) -> DeliveryOutcome | None:
    """A status callback's final word, or None while the message is still on its way.

    "undelivered" means the number cannot take this SMS (30003-30006 whatever Twilio's
    status says, or Twilio's own "undelivered"); "failed" that Twilio gave up on it.
    """
    outcome = _FINAL.get(status)
    if outcome is DeliveryOutcome.FAILED and str(error_code) in HANDSET_CODES:
        return DeliveryOutcome.UNDELIVERED
    return outcome
