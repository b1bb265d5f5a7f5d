"""Who sees a student's guardians and restrictions, and who may erase a school's student
data (domain/students.py)."""

import pytest

from domain.errors import Forbidden, Invalid
from domain.policy import Policy
from domain.roles import Role
from domain.students import check_erasure, sees_guardians


def test_by_default_every_member_sees_guardians():
    """REUNIFY is everyone's: whoever hands a child over sees who may not take them."""
    assert all(sees_guardians(Policy.default(), role) for role in Role)


def test_a_school_that_narrows_reunify_leaves_guardians_to_those_who_load_the_roster():
    policy = Policy.from_overrides({"reunify": ["sro"]})
    assert {role for role in Role if sees_guardians(policy, role)} == {
        Role.SRO, Role.PRINCIPAL, Role.DISTRICT_ADMIN}
    narrow = Policy.from_overrides({"reunify": ["sro"], "manage_roster": ["district_admin"]})
    assert {role for role in Role if sees_guardians(narrow, role)} == {
        Role.SRO, Role.DISTRICT_ADMIN}


@pytest.mark.parametrize("role", [Role.TEACHER, Role.STAFF, Role.SRO, Role.PRINCIPAL])
def test_only_a_district_admin_erases(role):
    with pytest.raises(Forbidden, match="district admin may"):
        check_erasure(role, "Riverbend High", "Riverbend High")


@pytest.mark.parametrize("typed", ["riverbend high", " Riverbend   HIGH "])
def test_the_schools_name_confirms_case_and_spacing_aside(typed):
    check_erasure(Role.DISTRICT_ADMIN, "Riverbend High", typed)


@pytest.mark.parametrize("typed", ["Riverbend", "Cedar Elementary", ""])
def test_another_name_is_refused_naming_confirm(typed):
    with pytest.raises(Invalid) as refused:
        check_erasure(Role.DISTRICT_ADMIN, "Riverbend High", typed)
    assert refused.value.field == "confirm"
