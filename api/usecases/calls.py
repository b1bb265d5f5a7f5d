"""A key pressed on a voice call: 1 confirms the call was heard, as an acknowledgement
of its event by the user called; another key is asked again."""

from __future__ import annotations

from datetime import datetime

from api.usecases.unit_of_work import UnitOfWork
from db import calls, events
from domain.calls import CONFIRM_DIGIT
from domain.language import Language


async def keypress(uow: UnitOfWork, call_sid: str, digits: str,
                   now: datetime) -> tuple[Language, bool] | None:
    """The call's language and whether the key confirmed it; None for no call of ours
    (nothing is stored). A confirmation of a call to a user about an event is their
    acknowledgement of it (the first one counts); its message's next call, if one is
    queued, is never placed."""
    async with uow:
        if digits != CONFIRM_DIGIT:
            language = await calls.call_language_of(uow.conn, call_sid)
            return None if language is None else (language, False)
        confirmed = await calls.confirm_call(uow.conn, call_sid, now)
        if confirmed is None:
            return None
        if confirmed.event_id and confirmed.user_id:
            await events.record_ack(uow.conn, confirmed.event_id, confirmed.user_id, now)
        return confirmed.language, True
