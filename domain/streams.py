"""Who may hold an event's live stream, and how many.

A stream is opened once and then read for hours, so the checks of the request that
opened it are not enough: access is re-judged while it is open, and a stream ends
when its reader's access ends.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from domain.errors import SlowDown
from domain.roles import Role

# A principal with a laptop, a phone and a few tabs holds ~5; more is a leak or an attack
# (each open stream holds memory and a share of every fan-out).
MAX_STREAMS_PER_PERSON = 10
RETRY_STREAM_AFTER_S = 15  # a closed tab's stream is noticed at its next heartbeat (15 s)


class StreamEnd(StrEnum):
    """Why a stream was ended by the server; sent to the reader as its last message."""

    TOKEN_EXPIRED = "token_expired"
    SIGNED_OUT = "signed_out"  # the session ended (logout, theft of a refresh token) or the
    # person was deleted
    ACCESS_ENDED = "access_ended"  # no longer a member of the event's school


def refuse_another_stream(open_now: int) -> None:
    """SlowDown (429) when the person already holds the most streams allowed."""
    if open_now >= MAX_STREAMS_PER_PERSON:
        raise SlowDown(f"at most {MAX_STREAMS_PER_PERSON} live streams per person are open "
                       "at once; close one first", retry_after_s=RETRY_STREAM_AFTER_S)


def why_stream_ends(now: datetime, token_expires: datetime,
                    roles: dict[uuid.UUID, Role] | None, school_id: uuid.UUID
                    ) -> StreamEnd | None:
    """Why a reader's stream of an event at `school_id` must end now, or None while they
    still may read it. `roles` is None when their session has ended (or they are gone)."""
    if now >= token_expires:
        return StreamEnd.TOKEN_EXPIRED
    if roles is None:
        return StreamEnd.SIGNED_OUT
    if school_id not in roles:
        return StreamEnd.ACCESS_ENDED
    return None
