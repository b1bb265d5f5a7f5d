"""The OAuth access token every FCM send carries, from the service account.

google-auth signs the assertion and asks the credential's `token_uri` (Google's, or a
fake's) with blocking `requests`, so a refresh runs in a thread, bounded by the
request timeout. The token is renewed `margin_s` before it expires, while sends go on
with the old one; only a send that finds no valid token waits for the refresh. One
refresh at a time: every send that needs it awaits the same one, and if it fails they
all fail with it (the next send starts another).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firebase_admin import credentials as firebase_credentials
from google.auth.transport import requests as google_requests
from google.oauth2 import service_account

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_UNSTATED_LIFETIME_S = 3600.0  # Google states expires_in; if not, its usual hour


class TokenRefused(Exception):
    """No access token could be had (refused, unreachable, timed out)."""


def credentials_of(service_account_info: str | Path | Mapping[str, Any]
                   ) -> service_account.Credentials:
    """The service account's credentials, from its JSON key file or the parsed JSON, as
    firebase-admin reads and checks them (ValueError if it is not a service account's
    key), narrowed to sending messages."""
    certificate = firebase_credentials.Certificate(
        dict(service_account_info) if isinstance(service_account_info, Mapping)
        else str(Path(service_account_info).expanduser()))
    credentials: service_account.Credentials = (
        certificate.get_credential().with_scopes([SCOPE]))
    return credentials


class _BoundedRequest(google_requests.Request):
    """google-auth's requests transport, with our timeout instead of its 120 s."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def __call__(self, url: str, method: str = "GET", body: Any = None,
                 headers: Mapping[str, str] | None = None, timeout: float | None = None,
                 **kwargs: Any) -> Any:
        return super().__call__(  # type: ignore[no-untyped-call]  # unannotated upstream
            url, method, body, headers, timeout=self._timeout_s, **kwargs)


class AccessTokens:
    """The current access token, renewed ahead of its expiry."""

    def __init__(self, credentials: service_account.Credentials, *, timeout_s: float,
                 margin_s: float) -> None:
        self._credentials, self._margin_s = credentials, margin_s
        self._request = _BoundedRequest(timeout_s)
        self._token: str | None = None
        self._renew_at = self._expires_at = 0.0  # time.monotonic()
        self._refreshing: asyncio.Future[None] | None = None

    async def current(self) -> str:
        """A valid token: the one held if it is still fresh, else (or once it is due for
        renewal) the refresh's; raises TokenRefused."""
        now = time.monotonic()
        if self._token is not None and now < self._renew_at:
            return self._token
        refreshing = self._refresh()
        if self._token is not None and now < self._expires_at:
            return self._token  # still valid: this send need not wait for the renewal
        await asyncio.shield(refreshing)
        assert self._token is not None  # the refresh succeeded, or raised
        return self._token

    def reject(self, token: str) -> None:
        """FCM refused `token` (401): the next send fetches another."""
        if token == self._token:
            self._renew_at = self._expires_at = 0.0

    def _refresh(self) -> asyncio.Future[None]:
        """The refresh under way, or a new one."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._fetch())
            # its failure is every waiter's; with none left, it is retrieved here
            self._refreshing.add_done_callback(lambda f: f.cancelled() or f.exception())
        return self._refreshing

    async def _fetch(self) -> None:
        try:
            await asyncio.to_thread(self._credentials.refresh, self._request)
        except Exception as error:  # google-auth's RefreshError, TransportError, timeouts
            raise TokenRefused(str(error)) from error
        expiry = self._credentials.expiry  # naive UTC, as google-auth keeps it
        lifetime = (_UNSTATED_LIFETIME_S if expiry is None
                    else (expiry - datetime.now(UTC).replace(tzinfo=None)).total_seconds())
        now = time.monotonic()
        self._token = self._credentials.token
        self._expires_at = now + lifetime
        self._renew_at = self._expires_at - self._margin_s
