"""A school's contacts for real events (its 911 centre, police, fire, the district's
security) and what Muster tells them.

A contact is no user: a number on the school's list, called by voice and sent an SMS
with a read-only link to the live event (domain/watch.py). The call says the facts once
in plain words (the voice sender repeats them and asks to press 1): real or drill, the
SRP action, the school and its address, who started it and from which room, and when,
by the school's clock. The SMS says the same, cut to fit, and ends with the link.

Contacts are called when an event starts and again when a lead changes its action: a
lockdown that becomes an evacuation puts people outside, which changes what officers
on their way do, and a dispatcher on another call may miss a text. An ending (all-clear,
cancellation) asks nobody to act: the contacts who were called get an SMS, no call.
A drill never calls a contact marked `real`: a 911 centre that answers practice calls
learns to expect them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from msgspec.structs import replace

from domain import srp
from domain.alerts import (
    Channel,
    MessageKind,
    PlannedMessage,
    ending_words,
    priority_of,
    sms_text,
)
from domain.errors import Invalid
from domain.events import Event
from domain.language import Language
from domain.values import Value

MAX_CONTACTS = 20  # a school's list; more is a mistake (or someone's whole phone book)


class ContactKind(StrEnum):
    """Who a contact is: the 911 centre (public safety answering point), police, fire
    department, or the district's own security."""

    PSAP = "psap"
    POLICE = "police"
    FIRE = "fire"
    DISTRICT_SECURITY = "district_security"


class CallsOn(StrEnum):
    """Which events call a contact: real ones only, or drills too."""

    REAL = "real"
    REAL_AND_DRILLS = "real_and_drills"


class ContactEntry(Value, kw_only=True):
    """A contact as an administrator lists it."""

    name: str
    phone: str
    kind: ContactKind
    on: CallsOn


class Contact(ContactEntry, kw_only=True):
    """A contact on a school's list (`phone` E.164)."""

    id: uuid.UUID


class Replacement(Value, kw_only=True):
    """A school's list replaced: the new list in the order given, which of it is new,
    and the ids of the contacts it no longer has."""

    contacts: list[Contact]
    added: list[Contact]
    removed: list[uuid.UUID]


def replace_list(current: Sequence[Contact], typed: Sequence[ContactEntry],
                 new_id: Callable[[], uuid.UUID],
                 phone: Callable[[str, str], str]) -> Replacement:
    """The list `typed`, its numbers as people type them (`phone(number, field)` gives
    one as E.164, or refuses it naming the field), refused whole (Invalid, naming the
    item) if it is too long or lists a number twice. A number already on the list keeps
    its contact's id (and so its links to events under way); a number left out is
    removed."""
    if len(typed) > MAX_CONTACTS:
        raise Invalid(f"a school has at most {MAX_CONTACTS} contacts, not {len(typed)}",
                      field="body")
    wanted = [replace(e, phone=phone(e.phone, f"[{i}].phone")) for i, e in enumerate(typed)]
    first: dict[str, int] = {}
    for i, entry in enumerate(wanted):
        j = first.setdefault(entry.phone, i)
        if j != i:
            raise Invalid(f"{entry.phone} is also item {j}", field=f"[{i}].phone")
    known = {c.phone: c.id for c in current}
    contacts = [Contact(id=known.get(e.phone) or new_id(), name=e.name, phone=e.phone,
                        kind=e.kind, on=e.on) for e in wanted]
    kept = {c.phone for c in wanted}
    return Replacement(contacts=contacts,
                       added=[c for c in contacts if c.phone not in known],
                       removed=[c.id for c in current if c.phone not in kept])


def called_for(event: Event, contacts: Sequence[Contact]) -> list[Contact]:
    """The contacts an event calls: all for a real event, for a drill those who asked."""
    if not event.drill:
        return list(contacts)
    return [c for c in contacts if c.on is CallsOn.REAL_AND_DRILLS]


class EventFacts(Value, kw_only=True):
    """What a call says besides the event itself: the school, where it is, who started
    the event (as the school names them) and from which room, and when by the school's
    clock (`local_start`, the start in the school's time zone)."""

    school_name: str
    address: str | None
    started_by: str | None
    room: str | None
    local_start: datetime


def clock_time(at: datetime) -> str:
    """"9:42 AM CST": a time as a US dispatcher says it, with its zone."""
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'} {at.tzname() or ''}".strip()


_CHANGED = {MessageKind.ALERT: "", MessageKind.ACTION: "The action has changed. "}


def call_words(event: Event, kind: MessageKind, facts: EventFacts) -> str:
    """The call's words, once: a drill says so before anything else."""
    opening = ("This is a drill, not a real emergency." if event.drill
               else "This is a real emergency, not a drill.")
    where = f"{facts.school_name}, {facts.address}" if facts.address else facts.school_name
    action = f"{event.action.title()}{' drill' if event.drill else ''}: {event.directive}"
    message = f" {event.message.strip()}" if event.message and event.message.strip() else ""
    return (f"Muster emergency call for {where}. {opening} {_CHANGED[kind]}{action}{message} "
            f"{_started(facts)} A text message with a live view follows.")


def text_words(event: Event, kind: MessageKind, facts: EventFacts) -> str:
    """The SMS's words (before its link): the alert as staff read it, then the facts."""
    where = f"{facts.school_name}, {facts.address}" if facts.address else facts.school_name
    alert = srp.alert_text(event.action, event.drill, event.directive, event.message)
    return f"{_CHANGED[kind]}{alert} At {where}. {_started(facts)} Live view:"


def _started(facts: EventFacts) -> str:
    by = f" by {facts.started_by}" if facts.started_by else ""
    room = f", from room {facts.room}" if facts.room else ""
    return f"Started {clock_time(facts.local_start)}{by}{room}."


def plan_calls(event: Event, kind: MessageKind, contacts: Sequence[Contact],
               facts: EventFacts, links: Mapping[uuid.UUID, str],
               now: datetime) -> list[PlannedMessage]:
    """A call and an SMS to each contact the event calls (`links` has each one's read-only
    link), with the safety leads' priority: the people who respond hear first."""
    if kind not in _CHANGED:
        raise ValueError(f"contacts are called for an alert or an action change, not {kind}")
    priority = priority_of(event.drill, True, kind)
    said, written = call_words(event, kind, facts), text_words(event, kind, facts)
    plan = []
    for contact in called_for(event, contacts):
        for channel, body, data in (
                (Channel.VOICE, said, {"language": Language.EN.value}),
                (Channel.SMS, sms_text(written, links[contact.id]), {})):
            plan.append(PlannedMessage(
                user_id=None, contact_id=contact.id, phone=contact.phone, channel=channel,
                kind=kind, priority=priority, body=body, critical=False, data=data,
                not_before=now))
    return plan


def plan_ending(event: Event, kind: MessageKind, school_name: str,
                called: Sequence[tuple[uuid.UUID, str]]) -> list[PlannedMessage]:
    """The all-clear or cancellation, by SMS, to each (contact, phone) that was called,
    once each, on the number that was called."""
    ending, when = ending_words(event, kind)
    body = sms_text(f"{ending} At {school_name}.")
    priority = priority_of(event.drill, False, kind)
    return [PlannedMessage(user_id=None, contact_id=contact_id, phone=phone,
                           channel=Channel.SMS, kind=kind, priority=priority, body=body,
                           critical=False, data={}, not_before=when)
            for contact_id, phone in dict(called).items()]
