"""Retry timing and channel fallback after a provider's answer."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.calls import WORDS, call_language
from domain.delivery import (
    MAX_ATTEMPTS,
    VOICE_CALLS,
    CallEnd,
    after_call,
    falls_back_to_sms,
    next_attempt,
    wave_handed_off,
)
from domain.language import Language

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 5), (2, 10), (3, 20), (7, 300)])
def test_backoff_doubles_up_to_five_minutes(attempts, seconds):
    """With middle jitter the wait is 5 s, 10 s, 20 s ... and never more than 5 min."""
    assert next_attempt(attempts, T0, 0.5) == T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(("jitter", "seconds"), [(0.0, 5), (0.999, 14.99)])
def test_jitter_spreads_between_half_and_one_and_a_half(jitter, seconds):
    """Jitter moves the retry between half and one and a half times the backoff."""
    wait = (next_attempt(2, T0, jitter) - T0).total_seconds()
    assert wait == pytest.approx(seconds)


def test_gives_up_after_the_last_attempt():
    """After MAX_ATTEMPTS transient failures there is no next attempt."""
    assert next_attempt(MAX_ATTEMPTS - 1, T0, 0.5) is not None
    assert next_attempt(MAX_ATTEMPTS, T0, 0.5) is None


@pytest.mark.parametrize(("channel", "kind", "outcome", "expected"), [
    ("push", "alert", "failed", True),
    ("push", "action", "failed", True),
    ("push", "alert", "sent", False),
    ("push", "alert", "retry", False),
    ("push", "all_clear", "failed", False),
    ("sms", "alert", "failed", False),
])
def test_only_a_failed_push_alert_falls_back(channel, kind, outcome, expected):
    """Only an alert or action change that push could not deliver brings SMS forward."""
    assert falls_back_to_sms(channel, kind, outcome) is expected


@pytest.mark.parametrize(("pending", "handled", "last", "expected"), [
    (0, 3, 0, True),
    (1, 3, 0, False),
    (0, 3, 3, False),
    (0, 4, 3, True),
    (0, 0, 0, False),
])
def test_a_wave_is_announced_once_when_nothing_due_is_left(pending, handled, last, expected):
    """The hand-off milestone comes once per wave, only when nothing due is still pending."""
    assert wave_handed_off(pending, handled, last) is expected


@pytest.mark.parametrize("status", ["queued", "initiated", "ringing", "in-progress", ""])
def test_a_call_not_over_decides_nothing(status):
    assert after_call(status, None, confirmed=False, calls=1) is None


@pytest.mark.parametrize("status", ["completed", "busy", "no-answer", "failed", "canceled"])
def test_a_confirmed_call_is_delivered_however_it_ended(status):
    assert after_call(status, None, confirmed=True, calls=VOICE_CALLS) == CallEnd(
        outcome="delivered")


@pytest.mark.parametrize(("status", "error_code", "reason"), [
    ("completed", None, "unconfirmed"),  # answered (or voicemail), nobody pressed 1
    ("busy", None, "busy"), ("no-answer", None, "no-answer"), ("canceled", None, "canceled"),
    ("failed", "13224", "13224"), ("failed", None, "failed"),
])
def test_an_unconfirmed_call_is_called_again_after_30_then_60_seconds(status, error_code,
                                                                      reason):
    first = after_call(status, error_code, confirmed=False, calls=1)
    second = after_call(status, error_code, confirmed=False, calls=2)
    assert first == CallEnd(outcome="retry", retry_in=timedelta(seconds=30), reason=reason)
    assert second == CallEnd(outcome="retry", retry_in=timedelta(seconds=60), reason=reason)


@pytest.mark.parametrize(("status", "outcome"), [
    ("completed", "failed"), ("busy", "failed"), ("no-answer", "failed"),
    ("canceled", "failed"), ("failed", "undelivered")])
def test_after_the_last_call_it_fails_or_the_number_cannot_take_calls(status, outcome):
    """Three calls at most; a last call Twilio could not place means the number cannot
    take calls (undelivered)."""
    assert VOICE_CALLS == 3
    end = after_call(status, None, confirmed=False, calls=VOICE_CALLS)
    assert end is not None and (end.outcome, end.retry_in) == (outcome, None)
    assert after_call(status, None, confirmed=False, calls=VOICE_CALLS + 1) == end


def test_a_call_speaks_the_rows_language_english_otherwise():
    assert call_language({"language": "es"}) is Language.ES
    assert call_language({"language": "en"}) is Language.EN
    assert call_language({}) is Language.EN
    assert call_language({"language": "fr"}) is Language.EN


def test_every_language_has_the_calls_words():
    assert set(WORDS) == set(Language)
    assert WORDS[Language.ES].ask == "Presione 1 para confirmar que escuchó este mensaje."
    assert all("1" in words.ask for words in WORDS.values())
