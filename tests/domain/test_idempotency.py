"""Idempotency-Key replays: the same body is recognised, a different one refused, a key
older than 24 h is a new request."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError, IdempotencyMismatch, Invalid
from domain.idempotency import (
    KeyUse,
    Replay,
    expired_before,
    fingerprint,
    replay_decision,
)

BODY = b'{"action": "lockdown", "drill": false}'
T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def test_fingerprint_is_the_sha256_of_the_canonical_json() -> None:
    """The fingerprint hashes the compact, key-sorted form of the body."""
    expected = hashlib.sha256(b'{"action":"lockdown","drill":false}').hexdigest()
    assert fingerprint(b'{ "drill": false,\n  "action": "lockdown" }') == expected


def test_nested_key_order_does_not_matter() -> None:
    """Keys are sorted at every depth."""
    assert fingerprint(b'{"a": {"y": 1, "x": [{"q": 1, "p": 2}]}}') == fingerprint(
        b'{"a": {"x": [{"p": 2, "q": 1}], "y": 1}}'
    )


@pytest.mark.parametrize(
    "other",
    [
        b'{"action": "lockdown", "drill": true}',
        b'{"action": "hold", "drill": false}',
        b'{"action": "lockdown", "drill": false, "message": "x"}',
        b'["action", "lockdown", "drill", false]',
    ],
)
def test_different_bodies_differ(other: bytes) -> None:
    """A change in any value or key gives another fingerprint."""
    assert fingerprint(other) != fingerprint(BODY)


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b'{"a": 1} trailing'])
def test_invalid_json_is_refused(body: bytes) -> None:
    """A body that is not JSON cannot be fingerprinted and is refused as invalid."""
    with pytest.raises(Invalid):
        fingerprint(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _reversed_keys(value: object) -> object:
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


@given(json_values)
def test_reserialising_never_changes_the_fingerprint(value: object) -> None:
    """Any JSON, re-serialised with other spacing and key order, has the same fingerprint."""
    compact = json.dumps(value, separators=(",", ":")).encode()
    spaced = json.dumps(_reversed_keys(value), indent=2, ensure_ascii=True).encode()
    assert fingerprint(compact) == fingerprint(spaced)


def use(body: bytes = BODY, hours: float = 0) -> KeyUse:
    """A use of a key with `body`, `hours` after T0."""
    return KeyUse(fingerprint(body), T0 + timedelta(hours=hours))


def test_first_use_of_a_key_is_processed() -> None:
    """A key never seen before (in its scope) means: do the work."""
    assert replay_decision(None, use()) is Replay.PROCESS


@pytest.mark.parametrize("hours", [0, 0.001, 23.999, 24])
def test_same_body_again_within_a_day_is_replayed(hours: float) -> None:
    """A retry with the same key and body gets the stored answer, up to 24 h after the
    first use (and 24 h itself)."""
    assert replay_decision(use(), use(hours=hours)) is Replay.REPLAY


def test_a_first_use_later_than_the_retry_still_counts() -> None:
    """A clock moved back does not expire a key: only an age over 24 h does."""
    assert replay_decision(use(hours=1), use()) is Replay.REPLAY


@pytest.mark.parametrize("body", [BODY, b'{"action": "hold", "drill": false}'])
def test_a_key_older_than_a_day_is_a_new_request(body: bytes) -> None:
    """After 24 h, the key is expired: the request is processed as new, whatever its body."""
    later = timedelta(hours=24, microseconds=1)
    assert replay_decision(use(), KeyUse(fingerprint(body), T0 + later)) is Replay.PROCESS


def test_keys_expire_for_purging_as_for_replaying() -> None:
    """The purge cut-off is 24 h before the request, the age at which a key stops being
    replayed."""
    now = T0 + timedelta(hours=30)
    assert expired_before(now) == T0 + timedelta(hours=6)


def test_same_key_with_another_body_is_refused() -> None:
    """A reused key with a different body, within 24 h, is refused, with a message saying so."""
    with pytest.raises(IdempotencyMismatch) as error:
        replay_decision(use(), use(b'{"action": "hold", "drill": false}', hours=23))
    assert isinstance(error.value, DomainError)
    assert "Idempotency-Key" in str(error.value)
