"""Sign-in rules: rate limits, code storage and what a presented refresh token means."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.signin import (
    CODE_SPACING,
    CODE_TTL,
    CODES,
    GUESSING_ODDS,
    LIVE_CODES,
    REFRESH_RETRY_GRACE,
    WRONG_CODES,
    Earlier,
    Limit,
    PresentedToken,
    Refresh,
    StoredCode,
    code_digest,
    code_matches,
    counted_address,
    daily_most,
    format_code,
    guessing_odds,
    judge_refresh,
    matching_code,
    retry_after_seconds,
    usable,
    wait_before_next,
    wait_under,
)

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def ago(**delta: float) -> datetime:
    return T0 - timedelta(**delta)


def earlier(phone=(), phone_from_address=(), address=()) -> Earlier:
    """Requests for this phone from this address count under all three."""
    return Earlier(phone=[*phone, *phone_from_address], phone_from_address=phone_from_address,
                   address=[*address, *phone_from_address])


@pytest.mark.parametrize(("mine", "wait"), [
    ([], None),
    ([ago(seconds=61)], None),
    ([ago(seconds=10)], timedelta(seconds=50)),  # one a minute
    ([ago(minutes=m) for m in (1, 10, 20, 30)], None),  # the fifth of the hour
    ([ago(minutes=m) for m in (1, 10, 20, 30, 40)], timedelta(minutes=20)),  # a sixth
    ([ago(minutes=m) for m in (1, 10, 20, 30, 61)], None),  # the oldest fell out
], ids=["first", "after-a-minute", "too-soon", "fifth", "sixth", "window-slid"])
def test_codes_for_a_phone_from_one_address(mine, wait):
    """One code a minute for a phone, and five an hour to it from one address."""
    assert wait_under(CODES, earlier(phone_from_address=mine), T0) == wait


def test_a_stranger_holds_a_members_code_back_a_minute_at_most():
    """However many codes others asked for this phone (one a second for a day, more
    than the limits let through), the member's own address waits at most 60 s."""
    strangers = [ago(seconds=s) for s in range(86400)]
    assert wait_under(CODES, earlier(phone=strangers), T0) == CODE_SPACING
    assert wait_under(CODES, earlier(phone=strangers[1:]), T0) <= CODE_SPACING


def test_per_address_limit_lets_a_school_sign_in_together():
    """Sixty phones from one school Wi-Fi in ten minutes are fine; the 61st waits."""
    times = [ago(seconds=s) for s in range(0, 600, 10)]
    assert len(times) == 60
    assert wait_under(CODES, earlier(address=times[:59]), T0) is None
    assert wait_under(CODES, earlier(address=times), T0) == timedelta(seconds=10)


def test_a_strangers_wrong_codes_do_not_stop_the_member():
    """Wrong codes tried for the phone from other addresses, up to the ceiling, leave
    the member's own tries alone."""
    strangers = [ago(minutes=m) for m in range(WRONG_CODES.phone[0].count - 1)]
    assert wait_under(WRONG_CODES, earlier(phone=strangers), T0) is None


@pytest.mark.parametrize(("mine", "wait"), [
    ([ago(minutes=m) for m in range(4)], None),
    ([ago(minutes=m) for m in range(5)], timedelta(minutes=11)),  # five in 15 min
    ([ago(minutes=m) for m in range(5)] + [ago(hours=h) for h in range(1, 6)],
     timedelta(hours=19)),  # ten in a day
], ids=["four", "five", "ten-today"])
def test_one_address_tries_few_wrong_codes_for_a_phone(mine, wait):
    assert wait_under(WRONG_CODES, earlier(phone_from_address=mine), T0) == wait


def test_the_ceiling_of_wrong_codes_for_a_phone():
    """Thirty wrong codes a day for a phone, from all addresses together."""
    others = [ago(minutes=m) for m in range(30)]
    assert wait_under(WRONG_CODES, earlier(phone=others), T0) == timedelta(hours=23, minutes=31)


def test_one_address_cannot_fill_the_ceiling_alone():
    """So one client can never keep a member from trying their code."""
    assert daily_most(WRONG_CODES.phone_from_address) < WRONG_CODES.phone[0].count
    assert daily_most(CODES.phone_from_address) == 24 * 5


def test_the_guessing_odds_are_negligible():
    """Each wrong code is compared with the phone's live codes (at most five: one a
    minute, each living five minutes), of a million possible. A day of the ceiling's
    thirty wrong codes: 0.015 %; one address's ten: 0.005 %."""
    assert LIVE_CODES == 5
    assert round(GUESSING_ODDS, 9) == 30 * 5 / 10**6
    assert guessing_odds(daily_most(WRONG_CODES.phone_from_address)) == pytest.approx(5e-5)


@pytest.mark.parametrize(("address", "counted"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("testclient", "testclient"),
    ("", ""),
], ids=["ipv4", "ipv6", "same-64", "ipv4-mapped", "not-an-ip", "none"])
def test_an_ipv6_client_is_counted_by_its_64(address, counted):
    """An IPv6 client can pick any of its /64's addresses: they are one client."""
    assert counted_address(address) == counted


def test_the_longest_wait_of_several_limits_wins():
    limits = (Limit(1, timedelta(seconds=5)), Limit(2, timedelta(minutes=1)))
    assert wait_before_next([ago(seconds=1), ago(seconds=2)], limits, T0) == timedelta(seconds=58)


def test_requests_in_the_future_do_not_count():
    """A row with a later time (another process's clock) is not 'recent'."""
    assert wait_before_next([T0 + timedelta(seconds=1)], CODES.phone, T0) is None


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
    fields = {"id": "c", "digest": "d", "expires_at": T0 + CODE_TTL, "consumed": False}
    return StoredCode(**(fields | change))


@pytest.mark.parametrize(("code", "now", "ok"), [
    (_code(), T0, True),
    (_code(), T0 + CODE_TTL, False),  # expired on the dot
    (_code(consumed=True), T0, False),
], ids=["fresh", "expired", "used"])
def test_a_code_is_usable_once_within_five_minutes(code, now, ok):
    assert usable(code, now) is ok


def _sent(n: int, code: str, **change) -> StoredCode:
    return _code(id=f"id-{n}", digest=code_digest("key", f"id-{n}", code), **change)


def test_any_live_code_of_the_phone_matches():
    """A code asked for since (by anyone) does not void the one the member holds."""
    newest_first = [_sent(2, "222222"), _sent(1, "111111")]
    assert matching_code("key", newest_first, "111111", T0) == "id-1"
    assert matching_code("key", newest_first, "222222", T0) == "id-2"
    assert matching_code("key", newest_first, "333333", T0) is None
    assert matching_code("key", [], "111111", T0) is None


def test_used_expired_and_older_codes_do_not_match():
    """Only the newest five count, whatever the store returns: the odds depend on it."""
    assert matching_code("key", [_sent(1, "111111", consumed=True)], "111111", T0) is None
    assert matching_code("key", [_sent(1, "111111", expires_at=T0)], "111111", T0) is None
    six = [_sent(n, f"{n}" * 6) for n in range(6, 0, -1)]
    assert matching_code("key", six, "222222", T0) == "id-2"
    assert matching_code("key", six, "111111", T0) is None


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


def test_a_code_waits_for_the_strictest_limit():
    """The phone's minute and a full address each hold the next code back."""
    busy_wifi = [ago(seconds=s) for s in range(0, 600, 10)]
    assert wait_under(CODES, earlier(phone=[ago(seconds=5)], address=busy_wifi),
                      T0) == timedelta(seconds=55)
    assert wait_under(CODES, earlier(phone=[ago(minutes=5)], address=busy_wifi),
                      T0) == timedelta(seconds=10)
