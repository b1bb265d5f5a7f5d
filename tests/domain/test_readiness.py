"""Readiness: each reason an alert could miss someone is found, and only those."""

import uuid

import pytest

from domain.readiness import MemberReach, ReachProblem, by_text_only, problems_of, unreachable
from domain.roles import Role


def member(**fields) -> MemberReach:
    return MemberReach(**{"user_id": uuid.uuid4(), "name": "A", "role": Role.TEACHER,
                          "phone": "+15125550100", "working_devices": 1,
                          "disabled_devices": 0, "last_sms_failed": False,
                          "last_voice_failed": False} | fields)


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, []),
    ({"working_devices": 0}, [ReachProblem.NO_DEVICE]),
    ({"disabled_devices": 1}, [ReachProblem.DEVICE_DISABLED]),
    ({"working_devices": 0, "disabled_devices": 2},
     [ReachProblem.NO_DEVICE, ReachProblem.DEVICE_DISABLED]),
    ({"last_sms_failed": True}, [ReachProblem.SMS_UNDELIVERABLE]),
    ({"last_voice_failed": True}, [ReachProblem.VOICE_UNDELIVERABLE]),
    ({"working_devices": 0, "last_voice_failed": True},
     [ReachProblem.NO_DEVICE, ReachProblem.VOICE_UNDELIVERABLE]),
])
def test_problems_of(fields, expected):
    """Each fact maps to its problem; a fully reachable member has none."""
    assert problems_of(member(**fields)) == expected


def test_unreachable_keeps_order_and_drops_the_reachable():
    """Only members with a problem are listed, in the order given."""
    ok, no_app, bad_sms = member(), member(working_devices=0), member(last_sms_failed=True)
    assert [u.user_id for u in unreachable([no_app, ok, bad_sms])] == [
        no_app.user_id, bad_sms.user_id]


def test_someone_without_the_app_is_reached_by_text_unless_texts_fail_too():
    """No app alone: alerts come by SMS with the check-in link. No app and a failing
    phone, or a phone the app must re-register: an alert would miss them."""
    no_app, both = member(working_devices=0), member(working_devices=0, last_sms_failed=True)
    stale = member(working_devices=0, disabled_devices=1)
    assert [by_text_only(u) for u in unreachable([no_app, both, stale])] == [True, False, False]
