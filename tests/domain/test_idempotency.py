"""Idempotency-Key replays: the same body is recognised, a different one refused."""

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError, IdempotencyMismatch, Invalid
from domain.idempotency import Replay, fingerprint, replay_decision

BODY = b'{"action": "lockdown", "drill": false}'


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


def test_first_use_of_a_key_is_processed() -> None:
    """A key never seen before means: do the work."""
    assert replay_decision(None, fingerprint(BODY)) is Replay.PROCESS


def test_same_body_again_is_replayed() -> None:
    """A retry with the same key and body gets the stored answer."""
    assert replay_decision(fingerprint(BODY), fingerprint(BODY)) is Replay.REPLAY


def test_same_key_with_another_body_is_refused() -> None:
    """A reused key with a different body is refused, with a message saying so."""
    other = fingerprint(b'{"action": "hold", "drill": false}')
    with pytest.raises(IdempotencyMismatch) as error:
        replay_decision(fingerprint(BODY), other)
    assert isinstance(error.value, DomainError)
    assert "Idempotency-Key" in str(error.value)
