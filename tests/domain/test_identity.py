"""Who may change a person's phone: authority over every membership they hold."""

import uuid

import pytest

from domain.errors import Forbidden
from domain.identity import Holding, check_phone_change, may_change_language
from domain.policy import Policy
from domain.roles import Role

T, S, SRO, P, DA = Role.TEACHER, Role.STAFF, Role.SRO, Role.PRINCIPAL, Role.DISTRICT_ADMIN
ONE, TWO = uuid.uuid4(), uuid.uuid4()  # districts
CEDAR, RIVERBEND, GAMMA = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()  # Gamma is in TWO
ME, HER = uuid.uuid4(), uuid.uuid4()
DEFAULTS = {s: Policy.default() for s in (CEDAR, RIVERBEND, GAMMA)}


def at(school: uuid.UUID | None, role: Role, district: uuid.UUID = ONE) -> Holding:
    return Holding(district_id=district, school_id=school, role=role)


def allowed(actor: list[Holding], target: list[Holding], policies=DEFAULTS) -> bool:
    try:
        check_phone_change(ME, actor, HER, target, policies)
    except Forbidden:
        return False
    return True


def test_the_attack_of_issue_12_is_refused():
    """Cedar's SRO added Riverbend's principal to Cedar as a teacher: authority over the
    Cedar membership is not authority over the Riverbend one."""
    assert not allowed([at(CEDAR, SRO)], [at(RIVERBEND, P), at(CEDAR, T)])


@pytest.mark.parametrize(("actor", "target", "ok"), [
    ([at(CEDAR, P)], [at(CEDAR, T)], True),  # one school, a weaker role
    ([at(CEDAR, P)], [at(CEDAR, P)], True),  # an equal role
    ([at(CEDAR, SRO)], [at(CEDAR, P)], False),  # a stronger role
    ([at(CEDAR, P), at(RIVERBEND, P)], [at(CEDAR, T), at(RIVERBEND, P)], True),
    ([at(CEDAR, P), at(RIVERBEND, T)], [at(CEDAR, T), at(RIVERBEND, S)], False),  # a teacher
    ([at(None, DA)], [at(CEDAR, T), at(RIVERBEND, P)], True),  # the district's admin
    ([at(None, DA)], [at(None, DA)], True),
    ([at(CEDAR, P)], [at(None, DA)], False),  # a district admin is the district's
    ([at(CEDAR, P), at(RIVERBEND, P)], [at(CEDAR, T), at(None, DA)], False),
    ([at(None, DA)], [at(CEDAR, T), at(GAMMA, T, TWO)], False),  # another district
    ([at(None, DA), at(None, DA, TWO)], [at(CEDAR, T), at(GAMMA, T, TWO)], True),
    ([], [at(CEDAR, T)], False),
])
def test_authority_over_every_membership(actor, target, ok):
    assert allowed(actor, target) is ok


def test_authority_means_managing_staff_there():
    """A school whose policy lets only principals manage staff: its SRO has no say over
    a teacher's phone, though an SRO outranks a teacher."""
    strict = DEFAULTS | {CEDAR: Policy.from_overrides({"manage_staff": ["principal"]})}
    assert not allowed([at(CEDAR, SRO)], [at(CEDAR, T)], strict)
    assert allowed([at(CEDAR, P)], [at(CEDAR, T)], strict)


def test_nobody_changes_their_own_phone_as_staff():
    """Their own goes through the self-service route, which texts the new phone a code."""
    with pytest.raises(Forbidden, match="POST /v1/me/phone"):
        check_phone_change(ME, [at(None, DA)], ME, [at(None, DA)], DEFAULTS)


def test_the_refusal_names_no_school():
    with pytest.raises(Forbidden) as refused:
        check_phone_change(ME, [at(CEDAR, SRO)], HER, [at(RIVERBEND, P), at(CEDAR, T)],
                           DEFAULTS)
    assert str(RIVERBEND) not in str(refused.value) and "principal" not in str(refused.value)


def test_an_operator_at_the_command_line_may():
    check_phone_change(None, [], HER, [at(RIVERBEND, P), at(None, DA, TWO)], DEFAULTS)


@pytest.mark.parametrize(("actor_id", "actor", "target", "ok"), [
    (None, [], [at(CEDAR, P), at(RIVERBEND, T)], True),  # an operator
    (HER, [], [at(CEDAR, T), at(RIVERBEND, T)], True),  # her own language, anywhere
    (ME, [at(CEDAR, P)], [at(CEDAR, T)], True),  # Cedar alone has her
    (ME, [at(CEDAR, P)], [at(CEDAR, T), at(RIVERBEND, T)], False),  # Riverbend has her too
    (ME, [at(None, DA)], [at(CEDAR, T), at(RIVERBEND, P)], True),  # the district's admin
    (ME, [at(CEDAR, T)], [at(CEDAR, T)], False),  # a teacher manages no staff
])
def test_a_language_is_set_by_her_or_by_whoever_manages_her_everywhere(
        actor_id, actor, target, ok):
    """A language is how every school reaches her: one school may not set it for another
    (the phone's rule), but she needs no proof to set her own."""
    assert may_change_language(actor_id, actor, HER, target, DEFAULTS) is ok
