"""Push through Firebase Cloud Messaging (firebase-admin), one outbox message at a time.

A message fans out to each of the person's working device tokens in one
`send_each_async` call. Per token FCM accepts it, calls the token dead
(UNREGISTERED, SENDER_ID_MISMATCH, or an INVALID_ARGUMENT about the token itself),
refuses the message for good (another INVALID_ARGUMENT, APNs auth) or fails for now
(quota, unavailable, internal, timeout, transport, OAuth). One accepted token makes
the message sent; the dead tokens come back in `SendResult.dead_tokens` either way,
for the caller to disable.
"""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import firebase_admin
from firebase_admin import credentials, exceptions, messaging
from google.auth.exceptions import GoogleAuthError

from domain.delivery import DeliveryOutcome, OutboxMessage
from notifications.senders import SendResult

_CRITICAL_ANDROID = messaging.AndroidConfig(
    priority="high", ttl=60,
    notification=messaging.AndroidNotification(channel_id="emergency", priority="max"))
_CRITICAL_APNS = messaging.APNSConfig(
    headers={"apns-priority": "10", "apns-push-type": "alert"},
    payload=messaging.APNSPayload(aps=messaging.Aps(
        sound=messaging.CriticalSound("default", critical=True, volume=1.0),
        custom_data={"interruption-level": "critical"})))
_NORMAL_ANDROID = messaging.AndroidConfig(priority="normal")
_NORMAL_APNS = messaging.APNSConfig(
    headers={"apns-priority": "5", "apns-push-type": "alert"},
    payload=messaging.APNSPayload(aps=messaging.Aps(sound="default")))


class FcmSender:
    """The push channel's Sender, on a firebase App of its own (not the default app).

    `timeout_s` bounds each HTTP request (FCM, OAuth); `deadline_s` a whole send, the
    SDK's own retries of 500/503 included (5 tries, 7 s of backoff): keep it under the
    dispatcher's lease. `fcm_url` is for tests only: see `_use_endpoint`."""

    def __init__(self, service_account: str | Path | Mapping[str, Any], *,
                 timeout_s: float = 5.0, deadline_s: float = 20.0,
                 fcm_url: str | None = None) -> None:
        self._credential = credentials.Certificate(  # a path, or the parsed JSON
            dict(service_account) if isinstance(service_account, Mapping) else service_account)
        self._app = firebase_admin.initialize_app(
            self._credential, {"httpTimeout": timeout_s}, name=f"muster-fcm-{uuid.uuid4()}")
        self._timeout_s, self._deadline_s = timeout_s, deadline_s
        self._token_lock = asyncio.Lock()
        if fcm_url is not None:
            _use_endpoint(self._app, fcm_url)

    async def send(self, message: OutboxMessage) -> SendResult:
        tokens = message.push_tokens[:500]  # FCM's limit per call; nobody has 500 phones
        if not tokens:
            return SendResult(outcome=DeliveryOutcome.FAILED, error_code="no-device")
        try:
            await asyncio.wait_for(self._fresh_access_token(), self._timeout_s)
        except (TimeoutError, GoogleAuthError):
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code="oauth")
        try:  # on a timeout some devices may have it: a retry repeats it, the safe side
            batch = await asyncio.wait_for(messaging.send_each_async(
                [_fcm_message(message, t) for t in tokens], app=self._app), self._deadline_s)
        except TimeoutError:
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code="deadline")
        except exceptions.FirebaseError as error:  # e.g. the SDK's token refresh failed
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code=_code(error))
        sent = [r.message_id for r in batch.responses if r.success]
        failures = [(token, *_verdict(r.exception))
                    for token, r in zip(tokens, batch.responses, strict=True) if not r.success]
        dead = tuple(token for token, kind, _ in failures if kind == "dead")
        if sent:
            return SendResult(outcome=DeliveryOutcome.SENT, provider_id=sent[0], dead_tokens=dead)
        retry = [code for _, kind, code in failures if kind == "retry"]
        if retry:
            return SendResult(outcome=DeliveryOutcome.RETRY, error_code=retry[0], dead_tokens=dead)
        return SendResult(outcome=DeliveryOutcome.FAILED, error_code=failures[0][2],
                          dead_tokens=dead)

    async def aclose(self) -> None:
        """Close the SDK's HTTP client in this loop, then delete the firebase App."""
        await _close_http_client(self._app)
        # delete_app closes it again with asyncio.run, which needs a thread without a loop
        await asyncio.to_thread(firebase_admin.delete_app, self._app)

    async def _fresh_access_token(self) -> None:
        """Fetch the OAuth token in a thread: the SDK would fetch it inside the event
        loop, with blocking `requests` and a 120 s timeout."""
        async with self._token_lock:
            if not self._credential.get_credential().valid:
                await asyncio.to_thread(self._credential.get_access_token)


def _fcm_message(message: OutboxMessage, token: str) -> messaging.Message:
    head, colon, _ = message.body.partition(":")
    title = head if colon and len(head) <= 40 else "Muster"  # "LOCKDOWN", "DRILL — EVACUATE"
    with warnings.catch_warnings():
        # 7.7 deprecates `token` for `fid`, but a device's registration token is a token
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        return messaging.Message(
            token=token, data=message.data,
            notification=messaging.Notification(title=title, body=message.body),
            android=_CRITICAL_ANDROID if message.critical else _NORMAL_ANDROID,
            apns=_CRITICAL_APNS if message.critical else _NORMAL_APNS)


def _verdict(error: exceptions.FirebaseError) -> tuple[str, str]:
    """("dead" | "refused" | "retry", error code) for one token's failure."""
    if isinstance(error, messaging.UnregisteredError):
        return "dead", "unregistered"
    if isinstance(error, messaging.SenderIdMismatchError):
        return "dead", "sender-id-mismatch"
    if isinstance(error, exceptions.InvalidArgumentError):
        return ("dead", "invalid-token") if _about_token(error) else ("refused", _code(error))
    if isinstance(error, messaging.ThirdPartyAuthError):  # our APNs key: no retry fixes it
        return "refused", "third-party-auth"
    return "retry", _code(error)


def _about_token(error: exceptions.FirebaseError) -> bool:
    """Whether FCM's BadRequest details name the token field as the invalid one."""
    try:
        details = error.http_response.json()["error"]["details"]
    except (AttributeError, KeyError, TypeError, ValueError):
        return False
    return any(v.get("field") == "message.token"
               for d in details for v in d.get("fieldViolations", ()))


def _code(error: exceptions.FirebaseError) -> str:
    if isinstance(error, messaging.QuotaExceededError):
        return "quota-exceeded"
    return str(error.code).lower().replace("_", "-")  # "unavailable", "deadline-exceeded"


# -- firebase-admin internals: the only two places that touch them, hence the pin to
# firebase-admin==7.7.0 in pyproject.toml (checked here, so an upgrade fails loudly).


def _messaging_service(app: firebase_admin.App) -> Any:
    if firebase_admin.__version__ != "7.7.0":
        raise RuntimeError(f"notifications.fcm relies on firebase-admin 7.7.0 internals, "
                           f"not {firebase_admin.__version__}")
    return messaging._get_messaging_service(app)


def _use_endpoint(app: firebase_admin.App, fcm_url: str) -> None:
    """Point `app` at another FCM send URL (`{0}` = project id), for tests.
    `_MessagingService` reads its class attribute FCM_URL when an app's messaging
    service is created: set it, create this app's service now, put the default back."""
    service_class = messaging._MessagingService
    default, service_class.FCM_URL = service_class.FCM_URL, fcm_url
    try:
        _messaging_service(app)
    finally:
        service_class.FCM_URL = default


async def _close_http_client(app: firebase_admin.App) -> None:
    """The SDK only closes its httpx client with `asyncio.run` (in `delete_app`), which
    fails inside a running loop and, after it, on connections of a closed loop."""
    await _messaging_service(app)._async_client.aclose()
