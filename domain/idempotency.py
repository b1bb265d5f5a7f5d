"""Idempotency-Key replays: a retry of the same request gets the first answer.

Phones retry "start lockdown" on a flaky network; a retry must not start a second event.
A key reused with a *different* body is a client bug, and guessing which body was meant
could start the wrong action, so it is refused.

A key means something only for its caller and its request (method and path): a district
admin's key used at one school says nothing about a start at another. It is kept for
KEPT_FOR after its first use; a retry later than that is a new request, since a phone
that gave up a day ago is not retrying, and keys kept for ever would be kept for nothing.
"""

import hashlib
import uuid
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from domain.errors import IdempotencyMismatch, Invalid
from domain.values import Value

KEPT_FOR = timedelta(hours=24)


class Replay(StrEnum):
    """What to do with a request that carries an Idempotency-Key."""

    PROCESS = "process"  # a new (or expired) key: do the work, store the answer
    REPLAY = "replay"  # the same request again: return the stored answer, do nothing


class KeyScope(Value):
    """Whose key, for which request: the same key from another caller, or on another
    method or path, is another key."""

    user_id: uuid.UUID
    method: str
    path: str
    key: str


class KeyUse(Value):
    """A use of a key: the fingerprint of its body and the time of its request."""

    fingerprint: str
    at: datetime


def fingerprint(body: bytes) -> str:
    """The SHA-256 (hex) of the body's JSON in canonical form (keys sorted, no spaces), so
    a retry that re-serialises the same JSON differently still counts as the same."""
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise Invalid(f"the request body is not valid JSON: {error}") from error
    return hashlib.sha256(msgspec.json.encode(value, order="sorted")).hexdigest()


def expired_before(now: datetime) -> datetime:
    """Keys first used before this time are expired: ignored, and purged."""
    return now - KEPT_FOR


def replay_decision(first: KeyUse | None, this: KeyUse) -> Replay:
    """Process a new or expired key, replay a repeated one, refuse one reused (within
    KEPT_FOR) for another body. `first` is the key's stored use in this scope, if any."""
    if first is None or first.at < expired_before(this.at):
        return Replay.PROCESS
    if first.fingerprint != this.fingerprint:
        raise IdempotencyMismatch(
            "this Idempotency-Key was already used with a different request body; "
            "use a new key for a new request"
        )
    return Replay.REPLAY
