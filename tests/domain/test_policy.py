"""Who may do what in a school: the API contract's defaults and per-school overrides."""

import itertools

import msgspec
import pytest

from domain.errors import Forbidden, Invalid
from domain.policy import Permission, Policy, permission_to_start
from domain.roles import Role

EVERYONE = set(Role)
LEADS = {Role.SRO, Role.PRINCIPAL, Role.DISTRICT_ADMIN}
ADMINS = {Role.PRINCIPAL, Role.DISTRICT_ADMIN}

# Written out from docs/rules.md "Who may do what", independently of the module's table.
CONTRACT = {
    Permission.START_REAL_EVENT: EVERYONE,
    Permission.START_DRILL: LEADS,
    Permission.CHANGE_ACTION: LEADS,
    Permission.ALL_CLEAR: LEADS,
    Permission.CANCEL: LEADS,
    Permission.POST_UPDATE: LEADS,
    Permission.CHECK_IN: EVERYONE,
    Permission.READ_ACCOUNTABILITY: EVERYONE,
    Permission.READ_REPORTS: LEADS,
    Permission.EDIT_AFTER_ACTION: LEADS,
    Permission.MANAGE_STAFF: LEADS,
    Permission.MANAGE_ROOMS: ADMINS,
    Permission.READ_ADMIN_AUDIT: ADMINS,
    Permission.SET_SCHOOL_YEAR: ADMINS,
    Permission.MANAGE_RESPONDERS: ADMINS,
    Permission.READ_CONTACTS: LEADS,
    Permission.MANAGE_CONTACTS: ADMINS,
    Permission.READ_STUDENTS: EVERYONE,
    Permission.MANAGE_ROSTER: ADMINS,
    Permission.RUN_REUNIFICATION: LEADS,
    Permission.REUNIFY: EVERYONE,
    Permission.APPROVE_RELEASE: ADMINS,
}


def test_contract_names_every_permission() -> None:
    """No permission is left without a documented default."""
    assert set(CONTRACT) == set(Permission)


@pytest.mark.parametrize(("role", "permission"), list(itertools.product(Role, Permission)))
def test_defaults_follow_the_contract(role: Role, permission: Permission) -> None:
    """Every role x permission default is exactly what docs/rules.md promises."""
    assert Policy.default().allows(role, permission) is (role in CONTRACT[permission])


@pytest.mark.parametrize(("role", "permission"), list(itertools.product(Role, Permission)))
def test_require_agrees_with_allows(role: Role, permission: Permission) -> None:
    """`require` refuses exactly what `allows` denies."""
    policy = Policy.default()
    if policy.allows(role, permission):
        policy.require(role, permission)
    else:
        with pytest.raises(Forbidden):
            policy.require(role, permission)


def test_forbidden_says_who_and_what() -> None:
    """The refusal reads as a sentence the member understands."""
    with pytest.raises(Forbidden) as error:
        Policy.default().require(Role.TEACHER, Permission.START_DRILL)
    assert str(error.value) == "a teacher may not start a drill at this school"


def test_override_replaces_one_permission_and_keeps_the_rest() -> None:
    """A school limiting real events to SROs and admins changes nothing else."""
    policy = Policy.from_overrides({"start_real_event": ["sro", "principal", "district_admin"]})
    assert not policy.allows(Role.TEACHER, Permission.START_REAL_EVENT)
    assert policy.allows(Role.SRO, Permission.START_REAL_EVENT)
    assert policy.allows(Role.TEACHER, Permission.CHECK_IN)
    assert not policy.allows(Role.TEACHER, Permission.START_DRILL)


def test_override_can_widen_a_permission() -> None:
    """A school may let teachers run drills."""
    policy = Policy.from_overrides({"start_drill": ["teacher", "principal"]})
    assert policy.allows(Role.TEACHER, Permission.START_DRILL)
    assert not policy.allows(Role.SRO, Permission.START_DRILL)


def test_default_is_no_overrides() -> None:
    """The default policy is the one a school with an empty override object gets."""
    assert Policy.default() == Policy.from_overrides({})
    assert Policy.default() != Policy.from_overrides({"cancel": ["principal"]})


def test_unknown_permission_is_refused() -> None:
    """A typo in a permission name is named, not silently ignored."""
    with pytest.raises(Invalid) as error:
        Policy.from_overrides({"start_real_events": ["sro"]})
    assert error.value.field == "start_real_events"
    assert "start_real_events" in str(error.value)


def test_unknown_role_is_refused() -> None:
    """A role that does not exist is named along with its permission."""
    with pytest.raises(Invalid) as error:
        Policy.from_overrides({"cancel": ["principal", "janitor"]})
    assert error.value.field == "cancel"
    assert "janitor" in str(error.value)


@pytest.mark.parametrize("value", ["sro", None, 3, [1], {"sro": True}])
def test_override_must_be_a_list_of_role_names(value: object) -> None:
    """A stored override of the wrong shape is refused rather than guessed at."""
    with pytest.raises(Invalid) as error:
        Policy.from_overrides({"cancel": value})
    assert error.value.field == "cancel"


def test_empty_override_is_refused() -> None:
    """Nobody-may is refused: it would lock a whole school out of, say, lockdowns."""
    with pytest.raises(Invalid) as error:
        Policy.from_overrides({"start_real_event": []})
    assert error.value.field == "start_real_event"


@pytest.mark.parametrize(
    ("drill", "permission"),
    [(True, Permission.START_DRILL), (False, Permission.START_REAL_EVENT)],
)
def test_permission_to_start(drill: bool, permission: Permission) -> None:
    """Drills and real events are started under separate permissions."""
    assert permission_to_start(drill) is permission


def test_policy_is_immutable() -> None:
    """A policy value cannot be changed after it is built."""
    policy = Policy.default()
    with pytest.raises(AttributeError):
        policy.grants = frozenset()  # type: ignore[misc]
    assert hash(policy) == hash(Policy.default())


def test_policy_round_trips_through_json() -> None:
    """A policy can be cached as JSON and read back unchanged."""
    policy = Policy.from_overrides({"manage_staff": ["principal"]})
    assert msgspec.json.decode(msgspec.json.encode(policy), type=Policy) == policy
