"""Sign-in rules: rate limits, code storage and what a presented refresh token means."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.signin import (
    CODE_TTL,
    MAX_WRONG_TRIES,
    PER_ADDRESS,
    PER_PHONE,
    REFRESH_RETRY_GRACE,
    Limit,
    PresentedToken,
    Refresh,
    StoredCode,
    code_digest,
    code_matches,
    format_code,
    judge_refresh,
    retry_after_seconds,
    usable,
    wait_before_next,
    wait_for_code,
)

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def ago(**delta: float) -> datetime:
    return T0 - timedelta(**delta)


@pytest.mark.parametrize(("earlier", "wait"), [
    ([], None),
    ([ago(seconds=31)], None),
    ([ago(seconds=10)], timedelta(seconds=20)),  # one every 30 s
    ([ago(minutes=m) for m in (1, 10, 20, 30)], None),  # the fifth of the hour
    ([ago(minutes=m) for m in (1, 10, 20, 30, 40)], timedelta(minutes=20)),  # a sixth
    ([ago(minutes=m) for m in (1, 10, 20, 30, 61)], None),  # the oldest fell out
], ids=["first", "after-30s", "too-soon", "fifth", "sixth", "window-slid"])
def test_per_phone_limits(earlier, wait):
    """One code per phone every 30 s and five an hour; the wait is until one more fits."""
    assert wait_before_next(earlier, PER_PHONE, T0) == wait


def test_per_address_limit_lets_a_school_sign_in_together():
    """Sixty phones from one school Wi-Fi in ten minutes are fine; the 61st waits."""
    times = [ago(seconds=s) for s in range(0, 600, 10)]
    assert len(times) == 60
    assert wait_before_next(times[:59], PER_ADDRESS, T0) is None
    assert wait_before_next(times, PER_ADDRESS, T0) == timedelta(seconds=10)


def test_the_longest_wait_of_several_limits_wins():
    limits = (Limit(1, timedelta(seconds=5)), Limit(2, timedelta(minutes=1)))
    assert wait_before_next([ago(seconds=1), ago(seconds=2)], limits, T0) == timedelta(seconds=58)


def test_requests_in_the_future_do_not_count():
    """A row with a later time (another process's clock) is not 'recent'."""
    assert wait_before_next([T0 + timedelta(seconds=1)], PER_PHONE, T0) is None


@pytest.mark.parametrize(("wait", "header"), [
    (timedelta(seconds=20), 20), (timedelta(seconds=0.2), 1), (timedelta(seconds=19.01), 20)])
def test_retry_after_rounds_up(wait, header):
    assert retry_after_seconds(wait) == header


@pytest.mark.parametrize(("n", "text"), [(0, "000000"), (42, "000042"), (999999, "999999")])
def test_codes_are_always_six_digits(n, text):
    assert format_code(n) == text


def test_a_code_is_stored_keyed_and_salted():
    """The digest depends on the server key and the code's id, not just the digits."""
    d = code_digest("key", "id-1", "123456")
    assert "123456" not in d
    assert d != code_digest("key", "id-2", "123456")
    assert d != code_digest("other", "id-1", "123456")
    assert code_matches("key", "id-1", "123456", d)
    assert not code_matches("key", "id-1", "123457", d)


def _code(**change) -> StoredCode:
    fields = {"id": "c", "digest": "d", "expires_at": T0 + CODE_TTL, "attempts": 0,
              "consumed": False}
    return StoredCode(**(fields | change))


@pytest.mark.parametrize(("code", "now", "ok"), [
    (None, T0, False),
    (_code(), T0, True),
    (_code(), T0 + CODE_TTL, False),  # expired on the dot
    (_code(consumed=True), T0, False),
    (_code(attempts=MAX_WRONG_TRIES - 1), T0, True),
    (_code(attempts=MAX_WRONG_TRIES), T0, False),
], ids=["none", "fresh", "expired", "used", "last-try", "no-tries"])
def test_a_code_is_usable_once_within_five_minutes_and_five_tries(code, now, ok):
    assert usable(code, now) is ok


def _token(**change) -> PresentedToken:
    fields = {"expires_at": T0 + timedelta(days=60), "replaced_at": None, "session_ended": False}
    return PresentedToken(**(fields | change))


@pytest.mark.parametrize(("token", "verdict"), [
    (_token(), Refresh.ROTATE),
    (_token(expires_at=T0), Refresh.REFUSE),
    (_token(session_ended=True), Refresh.REFUSE),
    (_token(replaced_at=T0 - REFRESH_RETRY_GRACE), Refresh.RETRY),
    (_token(replaced_at=T0 - REFRESH_RETRY_GRACE - timedelta(seconds=1)), Refresh.REUSE),
    (_token(replaced_at=T0 - timedelta(days=1), session_ended=True), Refresh.REFUSE),
], ids=["current", "expired", "signed-out", "retry", "reuse", "reuse-after-sign-out"])
def test_refresh_verdicts(token, verdict):
    """Current: rotate. Exchanged seconds ago: a retry. Exchanged before: theft."""
    assert judge_refresh(token, T0) is verdict


def test_a_code_waits_for_the_stricter_of_phone_and_address():
    """The phone's 30 s spacing and a full address each hold the next code back."""
    assert wait_for_code([], [], T0) is None
    assert wait_for_code([ago(seconds=10)], [], T0) == timedelta(seconds=20)
    busy_wifi = [ago(seconds=s) for s in range(0, 600, 10)]
    assert wait_for_code([ago(seconds=5)], busy_wifi, T0) == timedelta(seconds=25)
    assert wait_for_code([ago(minutes=5)], busy_wifi, T0) == timedelta(seconds=10)
