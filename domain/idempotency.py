"""Idempotency-Key replays: a retry of the same request gets the first answer.

Phones retry "start lockdown" on a flaky network; a retry must not start a second event.
A key reused with a *different* body is a client bug, and guessing which body was meant
could start the wrong action, so it is refused.
"""

import hashlib
from enum import StrEnum

import msgspec

from domain.errors import IdempotencyMismatch, Invalid


class Replay(StrEnum):
    """What to do with a request that carries an Idempotency-Key."""

    PROCESS = "process"  # first time this key is seen: do the work, store the answer
    REPLAY = "replay"  # the same request again: return the stored answer, do nothing


def fingerprint(body: bytes) -> str:
    """The SHA-256 (hex) of the body's JSON in canonical form (keys sorted, no spaces), so
    a retry that re-serialises the same JSON differently still counts as the same."""
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise Invalid(f"the request body is not valid JSON: {error}") from error
    return hashlib.sha256(msgspec.json.encode(value, order="sorted")).hexdigest()


def replay_decision(stored_fingerprint: str | None, fingerprint: str) -> Replay:
    """Process a new key, replay a repeated one, refuse one reused for another body."""
    if stored_fingerprint is None:
        return Replay.PROCESS
    if stored_fingerprint != fingerprint:
        raise IdempotencyMismatch(
            "this Idempotency-Key was already used with a different request body; "
            "use a new key for a new request"
        )
    return Replay.REPLAY
