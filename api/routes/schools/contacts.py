"""A school's contacts for real events (its 911 centre, police, fire, the district's
security): the list, and its replacement (the work: api/usecases/contacts.py)."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Router, get, put
from litestar.params import FromPath, JSONBody

from api.http.body import Body
from api.http.deps import CallerOf, Conn, Now, Work
from api.http.problems import problem_specs
from api.http.text import Name
from api.routes.schools.staff import Phone
from api.usecases import contacts
from domain.contacts import CallsOn, Contact, ContactEntry, ContactKind
from domain.values import Value


class ContactIn(Body, kw_only=True):
    """A contact: whom to call, at which number (as typed: stored E.164), who they are,
    and whether drills call them too (`real_and_drills`) or real events only (`real`)."""

    name: Name
    phone: Phone
    kind: ContactKind
    on: CallsOn


class ContactList(Value):
    items: list[Contact]


@get("/{school_id:uuid}/contacts", summary="The school's contacts for real events",
     responses=problem_specs(400, 401, 403, 404))
async def get_contacts(conn: Conn, caller: CallerOf,
                       school_id: FromPath[uuid.UUID]) -> ContactList:
    return ContactList(await contacts.list_contacts(conn, caller, school_id))


@put("/{school_id:uuid}/contacts", summary="Replace the school's contacts for real events",
     responses=problem_specs(400, 401, 403, 404))
async def put_contacts(uow: Work, caller: CallerOf, now: Now, school_id: FromPath[uuid.UUID],
                       data: JSONBody[list[ContactIn]]) -> ContactList:
    """The whole list, at most 20 (domain.contacts.MAX_CONTACTS), a number once; an empty
    list calls nobody. One bad item and nothing changes (400 naming it)."""
    wanted = [ContactEntry(**msgspec.structs.asdict(c)) for c in data]
    return ContactList(await contacts.replace_contacts(uow, caller, school_id, wanted, now))


router = Router("/", route_handlers=[get_contacts, put_contacts], tags=["administration"])
