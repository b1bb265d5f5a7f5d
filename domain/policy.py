"""Who may do what in a school: defaults from the API contract, overridable per school.

A policy is a set of (permission, role) grants. A school stores only its overrides, as a
JSON object from permission name to the full list of roles allowed, e.g.
`{"start_real_event": ["sro", "principal", "district_admin"]}`; every permission it does
not name keeps the default.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Self

from domain.errors import Forbidden, Invalid
from domain.roles import Role
from domain.values import Value


class Permission(StrEnum):
    """Something a member may be allowed to do in a school."""

    START_REAL_EVENT = "start_real_event"
    START_DRILL = "start_drill"
    CHANGE_ACTION = "change_action"
    ALL_CLEAR = "all_clear"
    CANCEL = "cancel"
    POST_UPDATE = "post_update"
    CHECK_IN = "check_in"
    READ_ACCOUNTABILITY = "read_accountability"
    READ_REPORTS = "read_reports"
    EDIT_AFTER_ACTION = "edit_after_action"
    MANAGE_STAFF = "manage_staff"
    MANAGE_ROOMS = "manage_rooms"
    READ_ADMIN_AUDIT = "read_admin_audit"
    SET_SCHOOL_YEAR = "set_school_year"
    MANAGE_RESPONDERS = "manage_responders"
    READ_CONTACTS = "read_contacts"
    MANAGE_CONTACTS = "manage_contacts"
    READ_STUDENTS = "read_students"
    MANAGE_ROSTER = "manage_roster"
    RUN_REUNIFICATION = "run_reunification"
    REUNIFY = "reunify"
    APPROVE_RELEASE = "approve_release"


_EVERYONE = frozenset(Role)
_SAFETY_LEADS = frozenset({Role.SRO, Role.PRINCIPAL, Role.DISTRICT_ADMIN})
_ADMINISTRATORS = frozenset({Role.PRINCIPAL, Role.DISTRICT_ADMIN})

# Any member may start a real event: whoever sees the threat must not have to find a boss.
_DEFAULTS: dict[Permission, frozenset[Role]] = {
    Permission.START_REAL_EVENT: _EVERYONE,
    Permission.START_DRILL: _SAFETY_LEADS,
    Permission.CHANGE_ACTION: _SAFETY_LEADS,
    Permission.ALL_CLEAR: _SAFETY_LEADS,
    Permission.CANCEL: _SAFETY_LEADS,
    Permission.POST_UPDATE: _SAFETY_LEADS,
    Permission.CHECK_IN: _EVERYONE,
    Permission.READ_ACCOUNTABILITY: _EVERYONE,
    Permission.READ_REPORTS: _SAFETY_LEADS,
    Permission.EDIT_AFTER_ACTION: _SAFETY_LEADS,
    Permission.MANAGE_STAFF: _SAFETY_LEADS,
    Permission.MANAGE_ROOMS: _ADMINISTRATORS,
    Permission.READ_ADMIN_AUDIT: _ADMINISTRATORS,
    Permission.SET_SCHOOL_YEAR: _ADMINISTRATORS,
    Permission.MANAGE_RESPONDERS: _ADMINISTRATORS,
    # the numbers a real event calls: the SRO works with them, administrators keep them
    Permission.READ_CONTACTS: _SAFETY_LEADS,
    Permission.MANAGE_CONTACTS: _ADMINISTRATORS,
    # a teacher takes the roll of whoever is in the room, so every member sees the
    # school's students; only administrators load rosters and bell schedules
    Permission.READ_STUDENTS: _EVERYONE,
    Permission.MANAGE_ROSTER: _ADMINISTRATORS,
    # reunification: safety leads open and close it, any member may work at the site
    # (students in, adults in, releases), an adult not on a student's list needs an
    # administrator's approval
    Permission.RUN_REUNIFICATION: _SAFETY_LEADS,
    Permission.REUNIFY: _EVERYONE,
    Permission.APPROVE_RELEASE: _ADMINISTRATORS,
}

_DOING: dict[Permission, str] = {
    Permission.START_REAL_EVENT: "start a real event",
    Permission.START_DRILL: "start a drill",
    Permission.CHANGE_ACTION: "change an event's action",
    Permission.ALL_CLEAR: "give the all-clear",
    Permission.CANCEL: "cancel an event",
    Permission.POST_UPDATE: "send an update about an event",
    Permission.CHECK_IN: "check in a room",
    Permission.READ_ACCOUNTABILITY: "see room accountability",
    Permission.READ_REPORTS: "see drill reports and compliance",
    Permission.EDIT_AFTER_ACTION: "edit after-action notes",
    Permission.MANAGE_STAFF: "manage staff",
    Permission.MANAGE_ROOMS: "manage rooms",
    Permission.READ_ADMIN_AUDIT: "see the administrative audit trail",
    Permission.SET_SCHOOL_YEAR: "set the school year's dates",
    Permission.MANAGE_RESPONDERS: "choose who answers requests for help",
    Permission.READ_CONTACTS: "see the school's emergency contacts",
    Permission.MANAGE_CONTACTS: "change the school's emergency contacts",
    Permission.READ_STUDENTS: "see the school's students",
    Permission.MANAGE_ROSTER: "load the school's students, classes and bell schedule",
    Permission.RUN_REUNIFICATION: "open or close a reunification",
    Permission.REUNIFY: "check students and adults in, or release a student",
    Permission.APPROVE_RELEASE: "approve releasing a student to an adult not on their list",
}
_WHO: dict[Role, str] = {
    Role.TEACHER: "a teacher",
    Role.STAFF: "a staff member",
    Role.SRO: "an SRO",
    Role.PRINCIPAL: "a principal",
    Role.DISTRICT_ADMIN: "a district admin",
}


def permission_to_start(drill: bool) -> Permission:
    """Starting a drill and starting a real event are granted separately."""
    return Permission.START_DRILL if drill else Permission.START_REAL_EVENT


def _roles(permission: Permission, names: object) -> frozenset[Role]:
    """Parse one override's list of role names, refusing anything we would have to guess."""
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise Invalid(f"{permission} must be a list of role names", field=permission)
    unknown = sorted(set(names) - set(Role))
    if unknown:
        known = ", ".join(Role)
        message = f"unknown role {unknown[0]!r} for {permission}; known: {known}"
        raise Invalid(message, field=permission)
    if not names:
        # An empty list would lock everyone out, e.g. of starting a lockdown.
        message = f"at least one role must be allowed to {_DOING[permission]}"
        raise Invalid(message, field=permission)
    return frozenset(Role(n) for n in names)


class Policy(Value, kw_only=True):
    """The (permission, role) pairs a school allows; anything not granted is refused."""

    grants: frozenset[tuple[Permission, Role]]

    @classmethod
    def default(cls) -> Self:
        """The API contract's defaults, for a school that changed nothing."""
        return cls.from_overrides({})

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, object]) -> Self:
        """Apply a school's stored overrides; each one replaces its permission's roles."""
        unknown = sorted(set(overrides) - set(Permission))
        if unknown:
            known = ", ".join(Permission)
            raise Invalid(f"unknown permission {unknown[0]!r}; known: {known}", field=unknown[0])
        table = dict(_DEFAULTS)
        for name, names in overrides.items():
            table[Permission(name)] = _roles(Permission(name), names)
        return cls(grants=frozenset((p, r) for p, roles in table.items() for r in roles))

    def allows(self, role: Role, permission: Permission) -> bool:
        """Whether a member with `role` may do `permission` at this school."""
        return (permission, role) in self.grants

    def require(self, role: Role, permission: Permission) -> None:
        """Refuse with Forbidden, in words the member can read, unless allowed."""
        if not self.allows(role, permission):
            raise Forbidden(f"{_WHO[role]} may not {_DOING[permission]} at this school")
