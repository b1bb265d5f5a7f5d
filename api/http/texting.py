"""Texts sent after the answer has gone: sign-in codes, and telling a person's old phone
that it changed. A lost text costs a new request, so they are not queued durably (nor
stored anywhere readable)."""

from __future__ import annotations

import logging

from litestar.background_tasks import BackgroundTask

from db.users import Reach
from domain.delivery import DeliveryOutcome
from domain.signin import phone_changed_text
from notifications.senders import TextSender

log = logging.getLogger("muster.signin")


async def send_text(texts: TextSender, phone: str, text: str) -> None:
    try:
        result = await texts.send_text(phone, text)
    except Exception:
        log.exception("a text to %s was not sent", phone)
        return
    if result.outcome != DeliveryOutcome.SENT:
        log.warning("a text to %s was not sent: %s", phone, result.error_code)


def told(texts: TextSender, old: Reach | None, new: str) -> BackgroundTask | None:
    """After the answer: a text to the phone a person had, in their language, saying that
    it changed."""
    if old is None:
        return None
    return BackgroundTask(send_text, texts, old.phone, phone_changed_text(new, old.language))
