"""Who may change what is a person's at every school: their phone (their sign-in
identity) and their language (how every school's messages reach them).

A person is their phone: a code texted to it signs them in at every school where they
work. So changing someone's phone is a change at every one of those schools, and only
someone with authority at all of them may make it (or the person, who confirms the new
phone with a code sent to it). What a school calls a person, its directory entry, is the
school's own and is changed with a membership (domain/admin.py).

A language is the same kind of thing: set by one school, it is how every other school's
alerts reach the person. So the same authority is needed to set it for someone else; the
person sets their own without proof (PATCH /v1/me, or their own staff entry), since
nobody else is reached by it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from domain.errors import Forbidden
from domain.policy import Permission, Policy
from domain.roles import Role, strongest
from domain.values import Value

SELF_SERVICE = "POST /v1/me/phone"
OWN_LANGUAGE = "PATCH /v1/me"


class Holding(Value, kw_only=True):
    """A membership as this rule sees it: where (school_id None: the whole district, as a
    district admin's) and in which role."""

    district_id: uuid.UUID
    school_id: uuid.UUID | None
    role: Role


def covers(actor: Holding, target: Holding, policies: Mapping[uuid.UUID, Policy]) -> bool:
    """Whether a membership of the actor gives authority over one of the target's: it
    reaches the target's school (the same school, or its district as a district admin),
    its role is at least theirs there, and that school lets its role manage staff. A
    district-wide membership is covered only by another district admin of that district."""
    if actor.district_id != target.district_id:
        return False
    if target.school_id is None:
        return actor.school_id is None
    if actor.school_id not in (None, target.school_id):
        return False
    return (strongest((actor.role, target.role)) is actor.role
            and policies[target.school_id].allows(actor.role, Permission.MANAGE_STAFF))


def check_phone_change(actor_id: uuid.UUID | None, actor: Iterable[Holding],
                       target_id: uuid.UUID, target: Iterable[Holding],
                       policies: Mapping[uuid.UUID, Policy]) -> None:
    """May this actor change the target's phone? An operator (`actor_id` None) may; a
    person changes their own only by confirming the new phone; anyone else needs a
    membership covering each of the target's memberships (`policies`: each of those
    schools' policy). The refusal names no school: the caller may not know them."""
    if actor_id is None:
        return
    if actor_id == target_id:
        raise Forbidden(f"you change your own phone with {SELF_SERVICE}, which confirms the "
                        "new number with a code texted to it")
    if not manages_everywhere(actor, target, policies):
        raise Forbidden("a phone is how its owner signs in wherever they work, and you do not "
                        "manage them everywhere they do; they can change it themselves "
                        f"({SELF_SERVICE}), or ask an administrator of all their schools")


def manages_everywhere(actor: Iterable[Holding], target: Iterable[Holding],
                       policies: Mapping[uuid.UUID, Policy]) -> bool:
    """Whether the actor's memberships cover each of the target's."""
    held = list(actor)
    return all(any(covers(a, t, policies) for a in held) for t in target)


def may_change_language(actor_id: uuid.UUID | None, actor: Iterable[Holding],
                        target_id: uuid.UUID, target: Iterable[Holding],
                        policies: Mapping[uuid.UUID, Policy]) -> bool:
    """May this actor set the target's language? An operator may, and so may the person;
    anyone else only if they manage the person at each of their schools, as for a phone:
    a school must not change how another school's alerts reach someone."""
    return (actor_id is None or actor_id == target_id
            or manages_everywhere(actor, target, policies))


# Why a language change is refused (naming no school: the caller may not know them).
LANGUAGE_NOT_YOURS = (
    "a person's language is how every school they work at reaches them, and you do not "
    f"manage them everywhere they do; they can set it themselves ({OWN_LANGUAGE}), or ask "
    "an administrator of all their schools")
