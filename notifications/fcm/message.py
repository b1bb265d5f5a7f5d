"""The JSON body of one FCM v1 send, per device token.

It is what firebase-admin's encoder makes of the `messaging.Message` Muster used to
send (tests/processes/test_fcm.py holds the two equal, so they cannot drift), built
here as plain dicts and encoded once per token: the SDK's objects, validators and
encoder cost more CPU than the send itself.
"""

from __future__ import annotations

from typing import Any

import msgspec

from domain.delivery import OutboxMessage

# A real alert: high priority, kept a minute, on the app's emergency channel with
# maximum priority; on iOS the critical sound, which rings through silent mode.
_CRITICAL: dict[str, Any] = {
    "android": {"priority": "high", "ttl": "60s", "notification": {
        "channel_id": "emergency", "notification_priority": "PRIORITY_MAX"}},
    "apns": {"headers": {"apns-priority": "10", "apns-push-type": "alert"},
             "payload": {"aps": {"sound": {"critical": 1, "name": "default", "volume": 1.0},
                                 "interruption-level": "critical"}}},
}
# A drill or a follow-up: normal priority and the default sound.
_NORMAL: dict[str, Any] = {
    "android": {"priority": "normal"},
    "apns": {"headers": {"apns-priority": "5", "apns-push-type": "alert"},
             "payload": {"aps": {"sound": "default"}}},
}

_encode = msgspec.json.Encoder().encode


def title(body: str) -> str:
    """The notification's title: the body's head before a colon ("LOCKDOWN",
    "DRILL — EVACUATE") when it is short, else the app's name."""
    head, colon, _ = body.partition(":")
    return head if colon and len(head) <= 40 else "Muster"


def send_bodies(message: OutboxMessage, tokens: list[str]) -> list[bytes]:
    """`{"message": {...}}` for each device token, as the bytes to post."""
    content: dict[str, Any] = {
        "notification": {"title": title(message.body), "body": message.body},
        **(_CRITICAL if message.critical else _NORMAL)}
    if message.data:  # the SDK leaves out an empty data map
        content["data"] = message.data
    return [_encode({"message": {**content, "token": token}}) for token in tokens]
