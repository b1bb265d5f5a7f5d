"""Queue the alerts an event change calls for, in the transaction of that change.

The domain plans who gets what on which channel (domain/alerts.py); this reads
the people it needs and writes the plan to the outbox. Nothing is sent here.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db import outbox
from domain import alerts
from domain.alerts import MessageKind
from domain.events import Event
from domain.roles import Role


async def queue_alert(conn: asyncpg.Connection, event: Event, kind: MessageKind,
                      now: datetime) -> None:
    """An event started or changed action: alert the school (and, if real, its district)."""
    people = await outbox.recipients(conn, event.school_id, now)
    members = [p for p in people if p.role is not Role.DISTRICT_ADMIN]
    admins = [p for p in people if p.role is Role.DISTRICT_ADMIN]
    plan = alerts.plan_alert(event, kind, alerts.recipients_for(event, members, admins), now=now)
    await outbox.enqueue(conn, event.id, plan)


async def queue_ending(conn: asyncpg.Connection, event: Event, kind: MessageKind) -> None:
    """All-clear or cancellation: tell everyone who was alerted, on the same channels."""
    plan = alerts.plan_ending(event, kind, await outbox.notified(conn, event.id))
    await outbox.enqueue(conn, event.id, plan)
