"""Push notifications through Firebase Cloud Messaging's HTTP v1 API: the sender
(sender.py) posts each device's message (message.py) with an OAuth token (oauth.py)
and reads FCM's answers (answers.py)."""

from notifications.fcm.sender import FcmSender

__all__ = ["FcmSender"]
