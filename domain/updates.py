"""What we know: an update during an event, to everyone the event alerted.

An SRO learns more as a lockdown goes on (where the threat is, that police are inside,
that a wing is clear), and everyone hiding needs to know it, without a critical sound that
could give a room away. An update is posted while its event is active by whoever may
(`post_update`: the safety leads by default) and goes to each (person, channel) the event
alerted, at the normal priority of an ending, in each person's language, the SMS with the
person's link to the event's page, which shows the newest update under the directive.

The words a person types are sent as typed; the words around them (the label, "Threat")
are in the recipient's language.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from domain import srp
from domain.alerts import Channel, MessageKind, PlannedMessage, event_message, priority_of
from domain.errors import Invalid
from domain.events import Event, given_text, require_active
from domain.language import Language
from domain.policy import Permission, Policy
from domain.roles import Role
from domain.text import Text200, Text1000
from domain.values import Value


class UpdateRequest(Value, kw_only=True):
    """What we know now, and where the threat is if known; a blank text is no update."""

    text: Text1000
    threat_location: Text200 | None = None


class Update(Value, kw_only=True):
    """An update as posted: on the event's timeline, and sent to everyone it alerted."""

    id: uuid.UUID
    event_id: uuid.UUID
    text: str
    threat_location: str | None
    posted_at: datetime
    posted_by: uuid.UUID


def post_update(
    event: Event, request: UpdateRequest, *, update_id: uuid.UUID, actor_id: uuid.UUID,
    role: Role, policy: Policy, now: datetime,
) -> Update:
    """The update to post, once the caller may (Forbidden), the event is active
    (EventClosed: an update after the all-clear would only confuse) and its words are
    fit to send (Invalid: empty, or a DRILL mix-up, naming the field)."""
    policy.require(role, Permission.POST_UPDATE)
    require_active(event, "take an update")
    text = given_text(request.text)
    if text is None:
        raise Invalid("an update needs its text: what we know now", field="text")
    threat_location = given_text(request.threat_location)
    srp.refuse_mixed_signals(event.drill, {"text": text, "threat_location": threat_location})
    return Update(id=update_id, event_id=event.id, text=text, threat_location=threat_location,
                  posted_at=now, posted_by=actor_id)


# What labels an update, by language; its drill prefix and threat words are the SRP's.
_LABELS: dict[Language, str] = {Language.EN: "UPDATE", Language.ES: "ACTUALIZACIÓN"}


def update_text(update: Update, drill: bool, language: Language) -> str:
    """The update's words for a person, e.g. "UPDATE: Threat: North lot. Police are
    inside."; the threat's place first, as an SMS too long is cut at its end."""
    words = srp.WORDS[language]
    body = f"{_LABELS[language]}:"
    if update.threat_location:
        place = update.threat_location.rstrip(".")
        body = f"{body} {words.threats[drill]}: {place}."
    body = f"{body} {update.text}"
    return f"{words.drill}{body}" if drill else body


# An update goes by push and SMS; a voice call is for a call to act.
_CHANNELS = frozenset({Channel.PUSH, Channel.SMS})


def plan_update(
    event: Event, update: Update, notified: Sequence[tuple[uuid.UUID, str, Language]],
    links: Mapping[uuid.UUID, str],
) -> list[PlannedMessage]:
    """The update's messages, to each (person, channel, language) the event alerted (as
    for an ending, only what was sent or is queued), each with the person's `links`
    entry. Normal priority, never critical: it asks nobody to act at once."""
    if update.event_id != event.id:
        raise ValueError(f"update {update.id} is not about event {event.id}")
    texts = {language: update_text(update, event.drill, language) for language in Language}
    priority = priority_of(event.drill, False, MessageKind.UPDATE)
    plan, seen = [], set()
    for user_id, name, language in notified:
        channel = Channel(name)
        if channel not in _CHANNELS or (user_id, channel) in seen:
            continue
        seen.add((user_id, channel))
        plan.append(event_message(event, user_id, channel, MessageKind.UPDATE, priority,
                                  texts[language], language, update.posted_at,
                                  link=links[user_id]))
    return plan
