"""Push through FCM's HTTP v1 API, one outbox message at a time.

A message goes to each of the person's working device tokens, one request per token,
concurrently, over one pool of keep-alive connections (aiohttp): firebase-admin's
`send_each_async` cost ~4 ms of CPU a push (httpx, which also reconnected most of the
time), this ~0.2-0.3 ms (bench/push_transport.py). One accepted token makes the
message sent; the dead tokens come back in `SendResult.dead_tokens` either way, for
the caller to disable (see answers.py for how FCM's answers are read).

A send that FCM answers 429, 500 or 503, or that could not reach it, is tried again
here a few times (after FCM's Retry-After, or 0.5, 1, 2 s) as long as the whole send
stays within `deadline_s`; then it is the dispatcher's to retry. A 401 fetches a new
access token and tries again at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from domain.delivery import DeliveryOutcome, OutboxMessage
from notifications.fcm.answers import Answer, Kind, read, unanswered
from notifications.fcm.message import send_bodies
from notifications.fcm.oauth import AccessTokens, TokenRefused, credentials_of
from notifications.senders import SendResult

FCM_URL = "https://fcm.googleapis.com/v1/projects/{0}/messages:send"
_MOST_TOKENS = 500  # a bound on one person's devices (the SDK's per call): nobody has 500
TRIES = 4  # firebase-admin made 5, with 7 s of backoff: the dispatcher retries too
_BACKOFF_S = 0.5  # then doubled, and jittered so that 300 failed sends do not return at once
_TRY_AGAIN = frozenset({429, 500, 503})
_UNAUTHENTICATED = 401


class FcmSender:
    """The push channel's Sender.

    `timeout_s` bounds each HTTP request (FCM, OAuth); `deadline_s` a whole send, its
    retries here included: keep it under the dispatcher's lease. `fcm_url` is FCM's send
    URL with `{0}` for the project id (an emulator's, a fake's). `connections` bounds
    the pool: size it to the sends the dispatcher has in flight. The access token is
    renewed `renew_margin_s` before it expires."""

    def __init__(self, service_account: str | Path | Mapping[str, Any], *,
                 timeout_s: float = 5.0, deadline_s: float = 20.0,
                 fcm_url: str | None = None, connections: int = 400,
                 renew_margin_s: float = 300.0) -> None:
        credentials = credentials_of(service_account)
        if not credentials.project_id:
            raise ValueError("the FCM service account names no project_id")
        self._tokens = AccessTokens(credentials, timeout_s=timeout_s, margin_s=renew_margin_s)
        self._url = (fcm_url or FCM_URL).format(credentials.project_id)
        self._timeout_s, self._deadline_s, self._connections = timeout_s, deadline_s, connections
        self._session: aiohttp.ClientSession | None = None  # opened in the loop, at first send
        self._headers: dict[str, str] = {}  # for the access token they carry
        self._headers_of = ""

    async def send(self, message: OutboxMessage) -> SendResult:
        tokens = message.push_tokens[:_MOST_TOKENS]
        if not tokens:
            return SendResult(outcome=DeliveryOutcome.FAILED, error_code="no-device")
        access = await self._access()
        if access is None:
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code="oauth")
        bodies = send_bodies(message, tokens)
        until = time.monotonic() + self._deadline_s
        try:  # on a timeout some devices may have it: a retry repeats it, the safe side
            async with asyncio.timeout(self._deadline_s):
                if len(bodies) == 1:  # the usual person: one phone, no task to gather
                    answers = [await self._deliver(bodies[0], access, until)]
                else:
                    answers = await asyncio.gather(
                        *(self._deliver(body, access, until) for body in bodies))
        except TimeoutError:
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code="deadline")
        return _result(tokens, answers)

    @property
    def connections(self) -> int:
        """The pool's size: requests to FCM at once, beyond which sends wait."""
        return self._connections

    async def aclose(self) -> None:
        """Close the pool's connections."""
        if self._session is not None:
            await self._session.close()

    async def _access(self) -> str | None:
        """The access token to send with, or None when none can be had in time."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._tokens.current()
        except (TimeoutError, TokenRefused):
            return None

    async def _deliver(self, body: bytes, access: str, until: float) -> Answer:
        """One token's send, tried again here while that is worth it and time allows."""
        tries = 1
        while True:
            answer, retry_after = await self._post(body, access)
            wait = _wait_to_try_again(answer, retry_after, tries)
            if wait is None or tries == TRIES or time.monotonic() + wait + self._timeout_s > until:
                return answer
            if answer.status == _UNAUTHENTICATED:
                self._tokens.reject(access)
                if (renewed := await self._access()) is None:
                    return Answer(Kind.RETRY, "oauth")
                access = renewed
            await asyncio.sleep(wait)
            tries += 1

    async def _post(self, body: bytes, access: str) -> tuple[Answer, float | None]:
        """FCM's answer to one request, and its Retry-After in seconds if it gave one."""
        session = self._session or self._open()
        try:
            async with session.post(self._url, data=body,
                                    headers=self._headers_for(access)) as response:
                return read(response.status, await response.read()), _seconds(
                    response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as error:
            return unanswered(error), None

    def _open(self) -> aiohttp.ClientSession:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._connections),
            timeout=aiohttp.ClientTimeout(total=self._timeout_s))
        return self._session

    def _headers_for(self, access: str) -> dict[str, str]:
        if access != self._headers_of:
            self._headers_of = access
            self._headers = {"Authorization": f"Bearer {access}",
                             "Content-Type": "application/json; charset=UTF-8",
                             "X-GOOG-API-FORMAT-VERSION": "2"}  # as firebase-admin sends
        return self._headers


def _wait_to_try_again(answer: Answer, retry_after: float | None, tries: int) -> float | None:
    """Seconds to wait before trying a send again here, or None if not worth it: not
    after a timeout (it took its time already) nor any answer but these."""
    if answer.status == _UNAUTHENTICATED and answer.kind is Kind.RETRY:
        return 0.0  # an expired or revoked access token: another, at once
    if answer.status in _TRY_AGAIN or (answer.status == 0 and answer.code != "deadline-exceeded"):
        if retry_after is not None:
            return retry_after
        return _BACKOFF_S * 2.0 ** (tries - 1) * random.uniform(0.5, 1.0)
    return None


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After's delay-seconds; an HTTP date (FCM sends none) counts as absent."""
    try:
        return max(0.0, float(int(retry_after))) if retry_after else None
    except ValueError:
        return None


def _result(tokens: list[str], answers: list[Answer]) -> SendResult:
    dead = tuple(token for token, a in zip(tokens, answers, strict=True) if a.kind is Kind.DEAD)
    if sent := next((a for a in answers if a.kind is Kind.SENT), None):
        return SendResult(outcome=DeliveryOutcome.SENT, provider_id=sent.code, dead_tokens=dead)
    if retry := next((a for a in answers if a.kind is Kind.RETRY), None):
        return SendResult(outcome=DeliveryOutcome.RETRY, error_code=retry.code, dead_tokens=dead)
    return SendResult(outcome=DeliveryOutcome.FAILED, error_code=answers[0].code,
                      dead_tokens=dead)
