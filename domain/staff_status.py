"""Staff reporting themselves during an event: safe, needing help, not with students,
off site.

A room's report accounts for its students; the people without a room at that moment (a
counsellor in the hall, the cooks, a teacher on a planning period, someone at the
district office) are accounted for by reporting themselves. Each person's newest report
counts. Reporting oneself needs no permission, as acknowledging an alert needs none: it
is about oneself, and any member of the event's school may.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from domain.events import Event, given_text, require_active
from domain.text import Text500
from domain.values import Value


class StaffStatus(StrEnum):
    """Where a member of staff is."""

    SAFE = "safe"
    NEED_HELP = "need_help"
    NOT_WITH_STUDENTS = "not_with_students"
    OFF_SITE = "off_site"


class StatusRequest(Value, kw_only=True):
    """A member's report of themselves; `note` says more ("in the kitchen with 3")."""

    status: StaffStatus
    note: Text500 | None = None


class StaffReport(Value, kw_only=True):
    """A member's report of themselves, as stored and on the timeline."""

    event_id: uuid.UUID
    user_id: uuid.UUID
    status: StaffStatus
    note: str | None
    reported_at: datetime


class StaffReported(Value, kw_only=True):
    """The report, and whether it asks the school's responders for help."""

    report: StaffReport
    asks_for_help: bool


def report_status(event: Event, request: StatusRequest, *, user_id: uuid.UUID,
                  now: datetime) -> StaffReported:
    """The caller's report of themselves during an active event (EventClosed after)."""
    require_active(event, "take a staff member's status")
    report = StaffReport(event_id=event.id, user_id=user_id, status=request.status,
                         note=given_text(request.note), reported_at=now)
    return StaffReported(report=report, asks_for_help=request.status is StaffStatus.NEED_HELP)


class StaffTally(Value, kw_only=True):
    """The staff of an event's school: how many, how many reported and how, and who has
    not reported (in the order the members were given)."""

    total: int
    reported: int
    by_status: dict[StaffStatus, int]
    not_reported: list[uuid.UUID]


def account_staff(members: Iterable[uuid.UUID],
                  latest: Mapping[uuid.UUID, StaffReport]) -> StaffTally:
    """Tally the school's `members` and each person's `latest` report; someone who
    reported without being a member now (a district admin on site, a substitute whose
    day ended) is counted among those who reported."""
    people = dict.fromkeys([*members, *latest])
    by_status = dict.fromkeys(StaffStatus, 0)
    for report in latest.values():
        by_status[report.status] += 1
    return StaffTally(total=len(people), reported=len(latest), by_status=by_status,
                      not_reported=[p for p in people if p not in latest])
