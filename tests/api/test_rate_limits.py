"""Sign-in limits hold when the requests arrive at the same moment (a script, or a phone
retrying in a loop): the check and the insert of one cannot interleave with another's."""

from __future__ import annotations

import asyncio
import json

from tests.asgi import first_answer

OTP, TOKEN = "/v1/auth/otp", "/v1/auth/token"
JSON = {"content-type": "application/json"}


def burst(client, phones: list[str], path: str = OTP, code: str | None = None) -> list[int]:
    """POST to /v1/auth/otp (or, with a code, /v1/auth/token) once per phone, all at once,
    from one address; the statuses."""

    def body(phone: str) -> bytes:
        return json.dumps({"phone": phone} | ({"code": code} if code else {})).encode()

    async def all_at_once() -> list[tuple[int, bytes]]:
        return await asyncio.gather(*(first_answer(client.app, "POST", path, JSON, body(p))
                                      for p in phones))

    return sorted(status for status, _ in client.blocking_portal.call(all_at_once))


async def test_twenty_requests_at_once_for_one_phone_get_one_code(client, db):
    """One 202, nineteen 429, one code stored."""
    assert burst(client, ["+15125550142"] * 20) == [202] + [429] * 19
    assert await db.fetchval("select count(*) from auth_codes") == 1


async def test_requests_at_once_from_one_address_stop_at_its_limit(client, db):
    """An address one code short of its limit (60 in ten minutes: a school's Wi-Fi) asks
    for twenty more phones at once: one 202, nineteen 429."""
    phones = [f"+1512555{n:04d}" for n in range(79)]
    assert burst(client, phones[:59]) == [202] * 59
    assert burst(client, phones[59:]) == [202] + [429] * 19
    assert await db.fetchval("select count(*) from auth_codes") == 60


async def test_wrong_codes_at_once_from_one_address_stop_at_its_limit(client, db):
    """Twenty codes tried at once for one phone: five are compared (401), fifteen 429."""
    assert burst(client, ["+15125550142"], OTP) == [202]
    assert burst(client, ["+15125550142"] * 20, TOKEN, "000000") == [401] * 5 + [429] * 15
    assert await db.fetchval("select count(*) from wrong_codes") == 5
