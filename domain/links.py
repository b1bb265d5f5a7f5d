"""A person's link to an event: what an alert's SMS and push open, with no sign-in.

The token is the credential. It names one person and one event, and nothing else: it
opens that event's page for that person, takes their acknowledgement and their room
reports, and reaches no other event, school or person. It is

    base64url(HMAC-SHA256(secret, "link:<event_id>:<user_id>"))[:22]

132 bits that nobody can guess without the app's signing secret, and the same every
time it is worked out, so the start's SMS and an action change's SMS carry one link and
no token is ever stored: the database keeps its SHA-256 digest only, which resolves a
token that came back to its (event, person) and gives nothing away if copied.

A link works while its event is active and for OFFLINE_REPLAY_WINDOW after the event
ended, so that a phone that reported while out of reach can still send what it kept
(the report must still have been observed before the end); after that it has expired
(410). It stops at once for a person who is no longer a member of the event's school
(404, the same answer as a token never issued).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from datetime import datetime, timedelta

from domain.errors import Expired
from domain.events import Event
from domain.srp import EventStatus
from domain.values import Value

TOKEN_LENGTH = 22  # base64url characters: 132 bits
# How long after its event ends a link still takes the reports a phone kept offline.
OFFLINE_REPLAY_WINDOW = timedelta(hours=24)
# The page a link opens, under the public URL.
LINK_PATH = "/e/"

_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


class Links(Value, kw_only=True):
    """What links are made with: the app's signing secret and its public URL."""

    secret: str
    base_url: str

    def token(self, event_id: uuid.UUID, user_id: uuid.UUID) -> str:
        """The person's token for the event (see the module's docstring)."""
        mac = hmac.digest(self.secret.encode(), f"link:{event_id}:{user_id}".encode(),
                          "sha256")
        return base64.urlsafe_b64encode(mac).decode()[:TOKEN_LENGTH]

    def url(self, token: str) -> str:
        return f"{self.base_url.rstrip('/')}{LINK_PATH}{token}"


def digest(token: str) -> bytes:
    """What the database keeps of a token: enough to find it, not to make it."""
    return hashlib.sha256(token.encode()).digest()


def well_formed(token: str) -> bool:
    """Whether a token could be one of ours (anything else is not looked up)."""
    return _TOKEN.fullmatch(token) is not None


def open_until(event: Event) -> datetime | None:
    """When the event's links expire; None while it is active."""
    if event.status is EventStatus.ACTIVE or event.ended_at is None:
        return None
    return event.ended_at + OFFLINE_REPLAY_WINDOW


def require_open(event: Event, now: datetime) -> None:
    """Expired (410) once the event has been over for longer than the replay window."""
    until = open_until(event)
    if until is not None and now >= until:
        raise Expired(f"this link has expired: the event ended more than "
                      f"{OFFLINE_REPLAY_WINDOW.total_seconds() / 3600:g} hours ago")
