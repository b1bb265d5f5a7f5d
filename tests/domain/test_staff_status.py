"""Staff reporting themselves: when it is taken, and how the school's staff add up."""

import uuid
from datetime import UTC, datetime

import pytest

from domain.errors import EventClosed
from domain.events import EventRequest, all_clear, start_event
from domain.policy import Policy
from domain.roles import Role
from domain.srp import Action
from domain.staff_status import (
    StaffReport,
    StaffStatus,
    StatusRequest,
    account_staff,
    report_status,
)

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
SCHOOL, EVENT_ID, SRO = uuid.UUID(int=1), uuid.UUID(int=100), uuid.UUID(int=3)
A, B, C, D = (uuid.UUID(int=n) for n in (11, 12, 13, 14))
EVENT = start_event(None, EventRequest(action=Action.LOCKDOWN, drill=False), event_id=EVENT_ID,
                    school_id=SCHOOL, actor_id=SRO, role=Role.SRO, policy=Policy.default(),
                    now=NOW).event


@pytest.mark.parametrize("status", list(StaffStatus))
def test_a_report_asks_for_help_only_when_it_says_need_help(status: StaffStatus) -> None:
    """`need_help` is what the school's responders are alerted for."""
    reported = report_status(EVENT, StatusRequest(status=status, note="  in the kitchen "),
                             user_id=A, now=NOW)
    assert reported.asks_for_help is (status is StaffStatus.NEED_HELP)
    assert reported.report == StaffReport(event_id=EVENT_ID, user_id=A, status=status,
                                          note="in the kitchen", reported_at=NOW)


def test_an_ended_event_takes_no_report() -> None:
    ended = all_clear(EVENT, actor_id=SRO, role=Role.SRO, policy=Policy.default(), now=NOW)
    with pytest.raises(EventClosed, match="status"):
        report_status(ended, StatusRequest(status=StaffStatus.SAFE), user_id=A, now=NOW)


def report(user: uuid.UUID, status: StaffStatus) -> StaffReport:
    return StaffReport(event_id=EVENT_ID, user_id=user, status=status, note=None,
                       reported_at=NOW)


def test_staff_add_up_by_status_and_those_not_reported_in_order() -> None:
    tally = account_staff([A, B, C], {B: report(B, StaffStatus.NEED_HELP),
                                      A: report(A, StaffStatus.SAFE)})
    assert (tally.total, tally.reported, tally.not_reported) == (3, 2, [C])
    assert tally.by_status == {StaffStatus.SAFE: 1, StaffStatus.NEED_HELP: 1,
                               StaffStatus.NOT_WITH_STUDENTS: 0, StaffStatus.OFF_SITE: 0}


def test_someone_who_reported_without_being_a_member_now_counts_as_reported() -> None:
    """A district admin on site, or a substitute whose day ended, is counted once."""
    tally = account_staff([A], {D: report(D, StaffStatus.OFF_SITE)})
    assert (tally.total, tally.reported, tally.not_reported) == (2, 1, [A])
