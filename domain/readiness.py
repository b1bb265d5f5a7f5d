"""Readiness before the day: who in a school an alert would not reach, and why.

Uvalde's lesson: alerts that do not arrive are found out too late. A principal
fixes this list before a drill, not after.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from domain.roles import Role
from domain.values import Value


class ReachProblem(StrEnum):
    """Why an alert might not reach a member."""

    NO_DEVICE = "no_device"  # no phone with the app registered: no push at all
    DEVICE_DISABLED = "device_disabled"  # FCM rejected a token; the app must re-register
    SMS_UNDELIVERABLE = "sms_undeliverable"  # the last SMS to this number failed
    # the last call to this number failed: an unacknowledged real alert cannot call them
    VOICE_UNDELIVERABLE = "voice_undeliverable"


class MemberReach(Value, kw_only=True):
    """What is known about reaching one member."""

    user_id: uuid.UUID
    name: str
    role: Role
    phone: str
    working_devices: int
    disabled_devices: int
    last_sms_failed: bool
    last_voice_failed: bool = False


class Unreachable(Value, kw_only=True):
    user_id: uuid.UUID
    name: str
    role: Role
    phone: str
    problems: list[ReachProblem]


def problems_of(member: MemberReach) -> list[ReachProblem]:
    """Every reason an alert might miss this person (empty: fully reachable)."""
    found = []
    if member.working_devices == 0:
        found.append(ReachProblem.NO_DEVICE)
    if member.disabled_devices:
        found.append(ReachProblem.DEVICE_DISABLED)
    if member.last_sms_failed:
        found.append(ReachProblem.SMS_UNDELIVERABLE)
    if member.last_voice_failed:
        found.append(ReachProblem.VOICE_UNDELIVERABLE)
    return found


def unreachable(members: list[MemberReach]) -> list[Unreachable]:
    """The members with at least one problem, in the order given."""
    return [Unreachable(user_id=m.user_id, name=m.name, role=m.role, phone=m.phone,
                        problems=found)
            for m in members if (found := problems_of(m))]


def by_text_only(member: Unreachable) -> bool:
    """Whether the person's only problem is having no app: every alert still reaches them
    by SMS, with the link to the event's check-in page, so an alert does not miss them."""
    return member.problems == [ReachProblem.NO_DEVICE]
