"""The roles a person can hold in a school (or, for district admins, a district)."""

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    """A membership's role; `district_admin` covers every school of its district."""

    TEACHER = "teacher"
    STAFF = "staff"
    SRO = "sro"
    PRINCIPAL = "principal"
    DISTRICT_ADMIN = "district_admin"


# Weakest to strongest: when a person holds two memberships that reach the
# same school (a principal who is also a district admin), the stronger counts.
_RANK = {role: rank for rank, role in enumerate(Role)}


def strongest(roles: Iterable[Role]) -> Role:
    """The role that counts when several memberships reach one school."""
    return max(roles, key=_RANK.__getitem__)
