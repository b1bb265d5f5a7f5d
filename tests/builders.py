"""Values for the pure rules' tests, built in memory (tests/factories.py writes rows)."""

from __future__ import annotations

import uuid
from datetime import datetime

from domain.events import Event
from domain.srp import Action, EventStatus

EVENT_ID, SCHOOL_ID = uuid.UUID(int=900), uuid.UUID(int=800)


def event(*, by: uuid.UUID, started_at: datetime, status: EventStatus = EventStatus.ACTIVE,
          ended_at: datetime | None = None) -> Event:
    """A lockdown drill (EVENT_ID at SCHOOL_ID) that `by` started, and ended if `ended_at`."""
    return Event(
        id=EVENT_ID, school_id=SCHOOL_ID, action=Action.LOCKDOWN, drill=True, status=status,
        message=None, directive="Locks, lights, out of sight.", location=None, hazard=None,
        strategy=None, started_at=started_at, started_by=by, ended_at=ended_at,
        ended_by=by if ended_at else None)
