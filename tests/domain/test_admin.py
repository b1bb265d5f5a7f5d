"""Administering a school: who may change whose membership, expiry, the school year."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.admin import (
    LONGEST_SUBSTITUTE,
    OPERATOR,
    Actor,
    check_entry_change,
    check_expiry,
    check_membership_change,
    check_school_change,
    school_year_start,
)
from domain.errors import Forbidden, Invalid
from domain.roles import Role

T, S, SRO, P, DA = Role.TEACHER, Role.STAFF, Role.SRO, Role.PRINCIPAL, Role.DISTRICT_ADMIN
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
ME, SOMEONE = uuid.uuid4(), uuid.uuid4()

# (actor's role, the person's current role, the new role; None: not a member / removed)
ALLOWED = [
    (P, None, T), (P, None, P), (P, T, SRO), (P, SRO, None), (P, P, T),
    (SRO, None, SRO), (SRO, T, S), (SRO, S, None),
    (DA, None, DA), (DA, DA, T), (DA, P, DA), (DA, DA, None),
]
REFUSED = [
    (P, None, DA), (P, T, DA), (P, DA, T), (P, DA, None),
    (SRO, None, P), (SRO, P, T), (SRO, P, None),
    (S, None, SRO), (T, None, S),  # (whether they may manage staff at all is the policy's)
]


@pytest.mark.parametrize(("actor", "current", "new"), ALLOWED)
def test_changes_up_to_ones_own_role_are_allowed(actor, current, new):
    """Granting, changing or removing a role no stronger than one's own is allowed."""
    check_membership_change(Actor(user_id=ME, role=actor), SOMEONE, current, new)


@pytest.mark.parametrize(("actor", "current", "new"), REFUSED)
def test_changes_above_ones_own_role_are_forbidden(actor, current, new):
    """Nobody grants a stronger role, or touches someone stronger (a principal and
    district_admin, in particular)."""
    with pytest.raises(Forbidden):
        check_membership_change(Actor(user_id=ME, role=actor), SOMEONE, current, new)


def test_principal_granting_district_admin_reads_as_a_sentence():
    """The refusal says who may not grant what."""
    with pytest.raises(Forbidden, match="a principal may not grant the district_admin role"):
        check_membership_change(Actor(user_id=ME, role=P), SOMEONE, None, DA)


@pytest.mark.parametrize(("current", "new"), [(P, T), (P, None), (DA, DA)])
def test_nobody_changes_their_own_membership(current, new):
    """Not even a district admin: a slip would lock them out."""
    with pytest.raises(Forbidden, match="your own membership"):
        check_membership_change(Actor(user_id=ME, role=DA), ME, current, new)


def test_the_operator_may_do_what_a_district_admin_may():
    """`muster import` acts with a district admin's powers and no user."""
    assert OPERATOR.user_id is None
    check_membership_change(OPERATOR, SOMEONE, DA, T)


@pytest.mark.parametrize("ahead", [timedelta(seconds=1), timedelta(days=1), LONGEST_SUBSTITUTE])
def test_expiry_in_the_coming_year_is_accepted(ahead):
    """A substitute's membership may end any time within the coming year."""
    check_expiry(NOW + ahead, NOW)
    check_expiry(None, NOW)


@pytest.mark.parametrize(("ahead", "says"), [
    (timedelta(0), "not in the future"), (-timedelta(days=3), "not in the future"),
    (LONGEST_SUBSTITUTE + timedelta(seconds=1), "days ahead")])
def test_expiry_now_past_or_too_far_is_refused(ahead, says):
    """An expiry that has passed, or more than a year ahead, names the field."""
    with pytest.raises(Invalid, match=says) as error:
        check_expiry(NOW + ahead, NOW)
    assert error.value.field == "expires_at"


@pytest.mark.parametrize(("text", "expected"), [("08-01", (8, 1)), ("01-31", (1, 31)),
                                                ("12-31", (12, 31)), ("02-28", (2, 28))])
def test_school_year_start_is_a_month_and_day(text, expected):
    """MM-DD gives (month, day)."""
    assert school_year_start(text) == expected


@pytest.mark.parametrize("text", ["02-29", "02-30", "13-01", "00-10", "04-31", "08-00", "ab-cd"])
def test_school_year_start_must_be_a_day_every_year_has(text):
    """A day that does not exist (or not every year) is refused, naming the field."""
    with pytest.raises(Invalid) as error:
        school_year_start(text)
    assert error.value.field == "school_year_start"


@pytest.mark.parametrize("role", [T, S, SRO, P])
def test_only_district_admins_add_or_change_schools(role):
    """A principal runs a school but does not describe it to the district."""
    with pytest.raises(Forbidden, match=f"a {role} may not add or change schools"):
        check_school_change(role)
    check_school_change(DA)


@pytest.mark.parametrize(("actor", "current", "allowed"), [
    (P, T, True), (P, P, True), (P, DA, False), (SRO, P, False), (DA, DA, True)])
def test_details_of_people_up_to_ones_own_role_may_be_changed(actor, current, allowed):
    """A principal fixes a teacher's entry, not a district admin's."""
    if allowed:
        check_entry_change(Actor(user_id=ME, role=actor), SOMEONE, current)
    else:
        with pytest.raises(Forbidden, match="may not change the details"):
            check_entry_change(Actor(user_id=ME, role=actor), SOMEONE, current)


def test_everyone_may_change_their_own_details():
    """Even a teacher (if the policy lets them manage staff) fixes their own entry."""
    check_entry_change(Actor(user_id=ME, role=T), ME, T)
