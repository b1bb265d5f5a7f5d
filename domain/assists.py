"""Requests for help (assists): a member asks the school's responders to come, without a
lockdown; or a room's report asks for help during an event (`needs_help`).

An assist reaches the school's responders only: the members holding one of the school's
responder roles (by default the SRO and the principal) and the members it names (the
nurse). It wakes their phones as an alert does, push and SMS together, each in their own
language. Responders answer "on my way"; someone resolves it with an outcome; a responder
may turn it into an SRP event. Rules here decide; the caller stores and sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec.structs import replace

from domain.alerts import Channel, MessageKind, PlannedMessage, Recipient, sms_text
from domain.checkins import CheckIn, CheckInStatus
from domain.errors import Conflict, Forbidden, Invalid
from domain.events import EventRequest, given_text
from domain.language import Language
from domain.roles import Role, strongest
from domain.schools import Room
from domain.staff_status import StaffReport
from domain.text import Text200, Text1000
from domain.values import Value


class AssistKind(StrEnum):
    """What help is asked for; `needs_help` is a room's report during an event, never
    asked for directly."""

    MEDICAL = "medical"
    BEHAVIOR = "behavior"
    SECURITY = "security"
    OTHER = "other"
    NEEDS_HELP = "needs_help"


class AssistStep(StrEnum):
    """What a line of an assist's timeline records (the schema's list)."""

    REQUESTED = "requested"
    ON_THE_WAY = "on_the_way"
    CHANGED = "changed"  # the room's report changed while its help was open
    RESOLVED = "resolved"
    ESCALATED = "escalated"  # turned into an event


# Who answers when a school has said nothing: the people whose job it is.
DEFAULT_RESPONDER_ROLES = (Role.SRO, Role.PRINCIPAL)
# Those who may answer or escalate any assist of their school, responders or not.
_LEADS = frozenset({Role.SRO, Role.PRINCIPAL, Role.DISTRICT_ADMIN})
_PRIORITY = 9  # as a real alert to a safety lead: nothing goes before it
MAX_NAMED = 100


class AssistRequest(Value, kw_only=True):
    """A member's request for help; the room or a location (or both) says where."""

    kind: AssistKind
    room_id: uuid.UUID | None = None
    location: Text200 | None = None
    note: Text1000 | None = None


class OnTheWay(Value, kw_only=True):
    """A responder's "on my way", with the name the school has for them."""

    user_id: uuid.UUID
    name: str | None
    at: datetime


class Assist(Value, kw_only=True):
    """A request for help as kept; `event_id` is the event a room's report asked during,
    `became_event_id` the event it was turned into; `responses` who is coming."""

    id: uuid.UUID
    school_id: uuid.UUID
    kind: AssistKind
    event_id: uuid.UUID | None = None
    room_id: uuid.UUID | None = None
    location: str | None = None
    note: str | None = None
    checkin_id: uuid.UUID | None = None
    requested_by: uuid.UUID
    requested_at: datetime
    resolved_at: datetime | None = None
    resolved_by: uuid.UUID | None = None
    outcome: str | None = None
    became_event_id: uuid.UUID | None = None
    responses: tuple[OnTheWay, ...] = ()


class Responders(Value, kw_only=True):
    """Who a school's requests for help reach: its members holding one of `roles`, and
    the members named in `user_ids`."""

    roles: Annotated[list[Role], msgspec.Meta(max_length=len(Role))]
    user_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=MAX_NAMED)] = msgspec.field(
        default_factory=list)


def checked_responders(responders: Responders, members: Collection[uuid.UUID]) -> Responders:
    """The responders to store, each named once; a named person must be a member of the
    school (`members`), and someone must be reached."""
    outsiders = [str(u) for u in responders.user_ids if u not in members]
    if outsiders:
        raise Invalid(f"{outsiders[0]} is not a member of this school", field="user_ids")
    if not responders.roles and not responders.user_ids:
        raise Invalid("a request for help must reach someone: name a role or a member",
                      field="roles")
    return Responders(roles=sorted(set(responders.roles)),
                      user_ids=list(dict.fromkeys(responders.user_ids)))


def responders_among(people: Sequence[Recipient], responders: Responders,
                     requester: uuid.UUID | None) -> list[Recipient]:
    """The responders among a school's reachable people, each once under their strongest
    role; never the requester, who knows already."""
    merged: dict[uuid.UUID, Recipient] = {}
    for person in people:
        seen = merged.setdefault(person.user_id, person)
        merged[person.user_id] = replace(seen, role=strongest((seen.role, person.role)))
    return [p for p in merged.values() if p.user_id != requester
            and (p.role in responders.roles or p.user_id in responders.user_ids)]


def require_responder(role: Role, user_id: uuid.UUID, responders: Responders) -> None:
    """Answering or escalating is for the school's responders and its safety leads."""
    if role not in _LEADS and role not in responders.roles and user_id not in responders.user_ids:
        raise Forbidden("only a responder or a safety lead may answer a request for help")


def requested(request: AssistRequest, *, assist_id: uuid.UUID, school_id: uuid.UUID,
              actor_id: uuid.UUID, now: datetime) -> Assist:
    """A member's new request; a room's need for help comes only from its report."""
    if request.kind is AssistKind.NEEDS_HELP:
        raise Invalid("needs_help is asked for by a room's check-in during an event",
                      field="kind")
    return Assist(id=assist_id, school_id=school_id, kind=request.kind,
                  room_id=request.room_id, location=given_text(request.location),
                  note=given_text(request.note), requested_by=actor_id, requested_at=now)


def room_needs_help(checkin: CheckIn, *, assist_id: uuid.UUID, school_id: uuid.UUID) -> Assist:
    """The help a room's report asks for during its event."""
    return Assist(id=assist_id, school_id=school_id, kind=AssistKind.NEEDS_HELP,
                  event_id=checkin.event_id, room_id=checkin.room_id,
                  location=checkin.location, note=checkin.note, checkin_id=checkin.id,
                  requested_by=checkin.reported_by, requested_at=checkin.received_at)


def person_needs_help(report: StaffReport, *, assist_id: uuid.UUID,
                      school_id: uuid.UUID) -> Assist:
    """The help a member of staff asks for by reporting themselves "need help" during an
    event: no room (they may be anywhere), their note."""
    return Assist(id=assist_id, school_id=school_id, kind=AssistKind.NEEDS_HELP,
                  event_id=report.event_id, note=report.note, requested_by=report.user_id,
                  requested_at=report.reported_at)


def reported_again(assist: Assist, checkin: CheckIn) -> Assist:
    """The open help as the room's newer report tells it."""
    return replace(assist, checkin_id=checkin.id, location=checkin.location,
                   note=checkin.note)


def _require_open(assist: Assist, doing: str) -> None:
    if assist.resolved_at is not None:
        raise Conflict(f"request for help {assist.id} was resolved at "
                       f"{assist.resolved_at.isoformat()}; it cannot {doing}")


def respond(assist: Assist) -> None:
    """"On my way" is for help still open."""
    _require_open(assist, "be answered")


def resolve(assist: Assist, outcome: str, *, actor_id: uuid.UUID, now: datetime) -> Assist:
    """Close the request, saying how it ended; once only."""
    _require_open(assist, "be resolved again")
    said = given_text(outcome)
    if said is None:
        raise Invalid("say how it was resolved, e.g. 'nurse treated a nosebleed'",
                      field="outcome")
    return replace(assist, resolved_at=now, resolved_by=actor_id, outcome=said)


def escalation(assist: Assist, request: EventRequest) -> EventRequest:
    """The event an open request becomes (once): a real one, which says what the request
    said unless it says otherwise."""
    _require_open(assist, "become an event")
    if assist.became_event_id is not None:
        raise Conflict(f"request for help {assist.id} already became event "
                       f"{assist.became_event_id}", active_event_id=assist.became_event_id)
    if request.drill:
        raise Invalid("a request for help becomes a real event, not a drill", field="drill")
    return replace(request, message=given_text(request.message) or assist.note)


# -- what responders read ----------------------------------------------------------------

_KIND_WORDS: Mapping[Language, Mapping[AssistKind, str]] = {
    Language.EN: {AssistKind.MEDICAL: "medical", AssistKind.BEHAVIOR: "behavior",
                  AssistKind.SECURITY: "security", AssistKind.OTHER: "other",
                  AssistKind.NEEDS_HELP: "room needs help"},
    Language.ES: {AssistKind.MEDICAL: "médica", AssistKind.BEHAVIOR: "conducta",
                  AssistKind.SECURITY: "seguridad", AssistKind.OTHER: "otra",
                  AssistKind.NEEDS_HELP: "un aula necesita ayuda"},
}
_ASKS: Mapping[Language, str] = {
    Language.EN: "HELP NEEDED ({kind}): {who} asks for help{where}.",
    Language.ES: "SE NECESITA AYUDA ({kind}): {who} pide ayuda{where}.",
}
_ROOM: Mapping[Language, Mapping[AssistStep, str]] = {
    Language.EN: {AssistStep.REQUESTED: "ROOM NEEDS HELP{where}.",
                  AssistStep.CHANGED: "ROOM HELP UPDATE{where}."},
    Language.ES: {AssistStep.REQUESTED: "UN AULA NECESITA AYUDA{where}.",
                  AssistStep.CHANGED: "NOVEDAD DEL AULA QUE PIDIO AYUDA{where}."},
}
_AT: Mapping[Language, str] = {Language.EN: " at {}", Language.ES: " en {}"}
_COUNTS: Mapping[Language, str] = {
    Language.EN: "{present} present, {missing} missing, {injured} injured.",
    Language.ES: "{present} presentes, {missing} faltan, {injured} heridos.",
}
_STILL_OK: Mapping[Language, str] = {Language.EN: "Now reports OK.",
                                     Language.ES: "Ahora informa que todo está bien."}
_NOTE: Mapping[Language, str] = {Language.EN: "Note: {}", Language.ES: "Nota: {}"}
_DRILL: Mapping[Language, str] = {Language.EN: "DRILL - ", Language.ES: "SIMULACRO - "}


def place(room: Room | None, location: str | None) -> str | None:
    """Where help is needed, as people say it: "Library (R-104), by the stairs"."""
    parts = [f"{room.name} ({room.code})" if room else None, location]
    return ", ".join(p for p in parts if p) or None


def assist_text(language: Language, assist: Assist, *, asker: str | None,
                where: str | None) -> str:
    """A member's request in `language`: who asks, for what, where, and their note."""
    kind = _KIND_WORDS[language][assist.kind]
    at = _AT[language].format(where) if where else ""
    return _with_note(language, _ASKS[language].format(kind=kind, who=asker or "?", where=at),
                      assist.note)


def room_help_text(language: Language, step: AssistStep, checkin: CheckIn, *,
                   where: str | None, drill: bool) -> str:
    """A room's report asking for help (or, while it is open, its newer report) in
    `language`: the room, its counts and its note; a drill's says so first."""
    at = _AT[language].format(where) if where else ""
    words = [_ROOM[language][step].format(where=at),
             _COUNTS[language].format(present=checkin.students_present,
                                      missing=checkin.students_missing,
                                      injured=checkin.injured)]
    if checkin.status is CheckInStatus.OK:
        words.append(_STILL_OK[language])
    text = _with_note(language, " ".join(words), checkin.note)
    return _DRILL[language] + text if drill else text


_PERSON: Mapping[Language, str] = {Language.EN: "STAFF NEEDS HELP: {who}.",
                                   Language.ES: "UN MIEMBRO DEL PERSONAL NECESITA AYUDA: {who}."}


def person_help_text(language: Language, assist: Assist, *, who: str | None,
                     drill: bool) -> str:
    """A member of staff's own call for help during an event, in `language`: who, and
    their note; a drill's says so first."""
    text = _with_note(language, _PERSON[language].format(who=who or "?"), assist.note)
    return _DRILL[language] + text if drill else text


def _with_note(language: Language, text: str, note: str | None) -> str:
    return f"{text} {_NOTE[language].format(note)}" if note else text


def plan_assist(assist: Assist, responders: Sequence[Recipient],
                texts: Mapping[Language, str], *, now: datetime,
                drill: bool = False) -> list[PlannedMessage]:
    """Each responder's messages: push and SMS at once (one channel alone proved
    unreliable), the push waking the phone as a real alert does (not for a drill's
    room), each in the responder's language (`texts`, one per language)."""
    data = {"assist_id": str(assist.id), "school_id": str(assist.school_id),
            "kind": MessageKind.ASSIST.value, "assist_kind": assist.kind.value,
            "drill": "true" if drill else "false"}
    if assist.event_id:
        data["event_id"] = str(assist.event_id)
    plan = []
    for person in responders:
        body = texts[person.language]
        if person.push_devices > 0:
            plan.append(_message(person, Channel.PUSH, body, data, now, critical=not drill))
        if person.phone is not None:
            plan.append(_message(person, Channel.SMS, sms_text(body), {}, now, critical=False))
    return plan


def _message(person: Recipient, channel: Channel, body: str, data: dict[str, str],
             now: datetime, *, critical: bool) -> PlannedMessage:
    return PlannedMessage(user_id=person.user_id, channel=channel, kind=MessageKind.ASSIST,
                          priority=_PRIORITY, body=body, critical=critical, data=data,
                          not_before=now)
