"""The roles a person can hold in a school (or, for district admins, a district)."""

from enum import StrEnum


class Role(StrEnum):
    """A membership's role; `district_admin` covers every school of its district."""

    TEACHER = "teacher"
    STAFF = "staff"
    SRO = "sro"
    PRINCIPAL = "principal"
    DISTRICT_ADMIN = "district_admin"
