"""What the Twilio senders (SMS, voice) share: the SDK client of one account, opened in
the running loop, each hand-off under a rate limit and a timeout; what Twilio's answers
mean; and the check that a callback is Twilio's.

Outcomes of a hand-off: "sent" with the resource's SID; "failed" for what will never
succeed (an invalid To, wrong credentials, other 4xx); "retry" for 20429, 30001, HTTP
429/5xx, timeouts and connection errors. The SDK's own timeout setting is not applied to
async requests, so each request runs under our `timeout_s`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, Self

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from domain.delivery import DeliveryOutcome
from notifications.senders import SendResult

BACK_OFF_CODES = frozenset({20429, 30001})  # too many concurrent requests, queue overflow


class TokenBucket:
    """At most `rate_per_s` hand-offs a second on average, `burst` at once after a pause.

    `reserve` books the next slot without awaiting, so concurrent callers each get their
    own slot in call order; a caller cancelled while waiting leaves its slot unused (the
    rate errs low, never high).
    """

    def __init__(self, rate_per_s: float, *, burst: int = 1,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self._rate, self._burst, self._clock, self._sleep = rate_per_s, burst, clock, sleep
        self._tokens, self._at = float(burst), clock()

    def reserve(self) -> float:
        """Take a token; the seconds to wait before using it."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        self._tokens -= 1
        return max(0.0, -self._tokens / self._rate)

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await self._sleep(delay)


class _Resource(Protocol):
    @property
    def sid(self) -> str | None: ...


class TwilioAccount:
    """One Twilio account's SDK client, as an async context manager: `async with` opens
    the SDK's aiohttp session inside the running loop, and leaving the block closes it.

    `base_url` is the test hook: it points the SDK at a fake Twilio (for example
    "http://127.0.0.1:PORT") instead of https://api.twilio.com.
    """

    def __init__(self, account_sid: str, auth_token: str, *, rate_per_s: float,
                 timeout_s: float, base_url: str | None) -> None:
        self._account_sid, self._auth_token, self._base_url = account_sid, auth_token, base_url
        self._bucket = TokenBucket(rate_per_s)
        self._timeout_s = timeout_s
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

    async def __aenter__(self) -> Self:
        self._http = AsyncTwilioHttpClient()  # its aiohttp session binds to the running loop
        self._client = Client(self._account_sid, self._auth_token, http_client=self._http)
        if self._base_url is not None:
            self._client.api.base_url = self._base_url
            self._client.edge = self._client.region = None  # TWILIO_EDGE would rewrite it
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    async def _hand_off(self, create: Callable[[Client], Awaitable[_Resource]]) -> SendResult:
        """One request creating a resource (a message, a call), at the rate limit."""
        if self._client is None:
            raise RuntimeError(f"{type(self).__name__} used outside `async with`")
        await self._bucket.acquire()
        try:
            async with asyncio.timeout(self._timeout_s):
                resource = await create(self._client)
        except (TwilioRestException, TwilioServiceException) as e:
            return rest_error_result(e.status, e.code)
        except TimeoutError:
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code="timeout")
        except aiohttp.ClientError:
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code="connection")
        return SendResult(outcome=DeliveryOutcome.SENT, provider_id=resource.sid)


def rest_error_result(status: int, code: int | None) -> SendResult:
    """Twilio's error answer as an outcome: back off and retry, or failed for good."""
    error_code = str(code if code is not None else status)
    if code in BACK_OFF_CODES or status == 429 or status >= 500:
        return SendResult(outcome=DeliveryOutcome.RETRY, error_code=error_code)
    return SendResult(outcome=DeliveryOutcome.FAILED, error_code=error_code)


def validate_signature(auth_token: str, public_url: str, form: dict[str, str],
                       signature: str | None) -> bool:
    """Whether Twilio signed this callback. `public_url` is the URL Twilio was given
    (configured), not the request's (a proxy in between changes host and scheme)."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(public_url, form, signature))
