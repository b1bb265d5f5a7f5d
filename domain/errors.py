"""The domain's errors; `str(e)` says what was wrong and becomes the problem `detail`.

    DomainError
    ├── Forbidden            the caller's role may not do this here         (403)
    ├── Conflict             the school's current state forbids it          (409)
    │   └── EventClosed      the event has already ended                    (409)
    ├── Invalid              a bad request the types could not catch        (400)
    ├── IdempotencyMismatch  an Idempotency-Key reused with another body    (422)
    ├── NotFound             no such thing, or another tenant's             (404)
    ├── Expired              it was here, and is no longer                  (410)
    ├── SignInRefused        a wrong or used code, a dead refresh token     (401)
    └── SlowDown             asked too often; try after `retry_after_s`     (429)
"""

import uuid


class DomainError(Exception):
    """Base of every rule the domain refuses; never raised itself."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(DomainError):
    """The role exists in the school but the school's policy does not allow this."""


class Conflict(DomainError):
    """The request is fine but clashes with what is going on (e.g. an active event)."""

    def __init__(self, message: str, *, active_event_id: uuid.UUID | None = None) -> None:
        super().__init__(message)
        self.active_event_id = active_event_id


class EventClosed(Conflict):
    """The event has ended (all-clear, cancelled or superseded); it cannot change."""


class Invalid(DomainError):
    """A request the wire types accepted but the rules do not; names the field if one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class IdempotencyMismatch(DomainError):
    """A retry reused an Idempotency-Key with a different body: we cannot tell which one to
    honour, so we refuse rather than replay the wrong answer."""


class NotFound(DomainError):
    """No such thing, or not one the caller may know exists (another school's)."""


class Expired(DomainError):
    """It existed and has run out for good (an event's link, long after the event)."""


class SignInRefused(DomainError):
    """The code or refresh token does not sign anyone in; the words never say whether
    the phone is known."""


class SlowDown(DomainError):
    """Too many requests of this kind lately; `retry_after_s` says when to try again."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
