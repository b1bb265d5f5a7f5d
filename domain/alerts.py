"""Who is alerted about an event, on which channel, in what order and with what words.

The plan is data; `notifications/` queues it, sends it and tracks acknowledgements.
Real events go out on push and SMS in parallel (one channel alone proved unreliable in
the field); drills go by push, with SMS for those without a working device and, after an
acknowledgement window, for those who have not acknowledged. A recipient with neither a
device nor a phone gets nothing: the readiness report lists them, to be fixed before the
day. Voice calls a school's contacts for real events, and people who have not
acknowledged a real alert: a real alert is repeated to them, round by round, on the next
channel (domain/repeats.py).
"""

import functools
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from msgspec.structs import replace

from domain import srp
from domain.events import Event
from domain.language import Language
from domain.repeats import DEFAULT_WINDOWS, RepeatWindows, repeat_channels, spoken_alert
from domain.roles import Role, strongest
from domain.srp import EventStatus
from domain.values import Value


class Channel(StrEnum):
    """How a message reaches a person."""

    PUSH = "push"
    SMS = "sms"
    VOICE = "voice"


class MessageKind(StrEnum):
    """Why a message is sent; `reminder` is a drill's SMS to those who have not
    acknowledged, `repeat` a real alert's next round to them; `update` is "what we know"
    during an event; `assist` a request for help to a school's responders;
    `reunification` tells a student's guardians where to collect them."""

    ALERT = "alert"
    ACTION = "action"
    ALL_CLEAR = "all_clear"
    CANCELLED = "cancelled"
    REMINDER = "reminder"
    UPDATE = "update"
    ASSIST = "assist"
    REPEAT = "repeat"
    REUNIFICATION = "reunification"


class Recipient(Value, kw_only=True):
    """A person to alert and how they can be reached; `phone` is E.164, `push_devices`
    counts their devices whose push token still works."""

    user_id: uuid.UUID
    role: Role
    phone: str | None
    push_devices: int
    name: str
    language: Language = Language.EN


class PlannedMessage(Value, kw_only=True):
    """One message to one person on one channel: an outbox row, not yet a delivery. It may
    go from `not_before`, but not if `unless_acknowledged` and the person has acknowledged
    the event by then. `priority` is 0..9, higher first; `critical` asks for the iOS critical
    sound and Android high priority; `data` is the push payload (strings, for the app's deep
    link), empty for SMS. It goes to a person (`user_id`), to one of a school's contacts
    (`contact_id`) or to a student's guardian (`guardian_id`): neither is a user, so
    `phone` is the number to reach."""

    user_id: uuid.UUID | None
    channel: Channel
    kind: MessageKind
    priority: int
    body: str
    critical: bool
    data: dict[str, str]
    not_before: datetime
    unless_acknowledged: bool = False
    contact_id: uuid.UUID | None = None
    guardian_id: uuid.UUID | None = None
    phone: str | None = None


def recipients_for(
    event: Event, members: Sequence[Recipient], district_admins: Sequence[Recipient]
) -> list[Recipient]:
    """Everyone to alert: the school's members (the caller includes today's substitutes),
    and the district admins for real events only, so that a district's drills do not
    train its admins to ignore alerts. A person listed twice is alerted once, under the
    stronger role. (A school's contacts are no users: domain/contacts.py plans their calls.)"""
    merged: dict[uuid.UUID, Recipient] = {}
    for person in [*members, *(() if event.drill else district_admins)]:
        seen = merged.setdefault(person.user_id, person)
        if seen is not person:
            merged[person.user_id] = replace(seen, role=strongest((seen.role, person.role)))
    return list(merged.values())


# The channels that reach a recipient, by (drill, has a working push device); a deferred
# SMS waits out the acknowledgement window. SMS needs a phone; without one it is dropped.
_ROUTES: dict[tuple[bool, bool], tuple[tuple[Channel, bool], ...]] = {
    (False, True): ((Channel.PUSH, False), (Channel.SMS, False)),
    (False, False): ((Channel.SMS, False),),
    (True, True): ((Channel.PUSH, False), (Channel.SMS, True)),
    (True, False): ((Channel.SMS, False),),
}

# The channels a real alert's repeats climb, weakest first (domain/repeats.py).
_LADDER = (Channel.PUSH, Channel.SMS, Channel.VOICE)

# Real before drill; within an event the safety leads first, so those who respond know
# soonest. A reminder or a repeat goes behind every first alert of its kind of event.
_LEADS = frozenset({Role.SRO, Role.PRINCIPAL, Role.DISTRICT_ADMIN})
# (drill, safety lead) -> priority
_PRIORITY = {(False, True): 9, (False, False): 8, (True, True): 5, (True, False): 4}
_REMINDER_DROP = 2

_CALLS_TO_ACT = frozenset({MessageKind.ALERT, MessageKind.ACTION})
_FOLLOW_UPS = frozenset({MessageKind.REMINDER, MessageKind.REPEAT})
# A real event's push sounds as critical when it asks the person to act.
_CRITICAL = _CALLS_TO_ACT | {MessageKind.REPEAT}
# An ending's kind, and the status the event must have to send it.
_ENDINGS: dict[MessageKind, EventStatus] = {
    MessageKind.ALL_CLEAR: EventStatus.ALL_CLEAR,
    MessageKind.CANCELLED: EventStatus.CANCELLED,
}


def priority_of(drill: bool, lead: bool, kind: MessageKind) -> int:
    """A message's place in the dispatchers' queue (0..9, higher first)."""
    return _PRIORITY[(drill, lead)] - (_REMINDER_DROP if kind in _FOLLOW_UPS else 0)


def leads_first(recipients: Sequence[Recipient]) -> list[Recipient]:
    """The order a large alert is written out in, a part at a time: the safety leads'
    messages are written, and so sent, first (as they are claimed first once written)."""
    return sorted(recipients, key=lambda person: person.role not in _LEADS)


URGENCIES = 3  # what by_urgency sorts a plan into


def by_urgency(plan: Sequence[PlannedMessage],
               now: datetime) -> tuple[list[PlannedMessage], ...]:
    """A large alert's messages in the order they are written out, everyone's first before
    anyone's next: the pushes due `now` (sent hundreds at a time), the other messages due
    now (SMS, sent at the provider's rate: a few dozen a second), those due later (a
    drill's SMS reminders, a real alert's repeats)."""
    phases: tuple[list[PlannedMessage], ...] = tuple([] for _ in range(URGENCIES))
    for message in plan:
        if message.not_before > now:
            phases[2].append(message)
        else:
            phases[0 if message.channel is Channel.PUSH else 1].append(message)
    return phases


def alert_body(event: Event, language: Language) -> str:
    """An event's alert in one language: the SRP's words in it (srp.directive_in), and what
    somebody typed as they typed it."""
    directive = srp.directive_in(language, event.action, event.directive,
                                 location=event.location, hazard=event.hazard,
                                 strategy=event.strategy)
    return srp.alert_text(event.action, event.drill, directive, event.message,
                          event.location, language=language)


def plan_alert(
    event: Event, kind: MessageKind, recipients: Sequence[Recipient], *,
    links: Mapping[uuid.UUID, str], now: datetime,
    ack_window: timedelta = timedelta(seconds=60), repeats: RepeatWindows = DEFAULT_WINDOWS,
) -> list[PlannedMessage]:
    """The messages for an event's start (`alert`) or an action change (`action`), in
    sending order: highest priority first, the drill reminders and the real alert's
    repeats (after `repeats`' windows) last. `links` has each recipient's link to the
    event (domain/links.py): every SMS ends with it and every push carries it, so the
    alert opens the page to check the room in. Each person gets it in their language
    (the words are made once per language, not per person)."""
    if kind not in _CALLS_TO_ACT:
        raise ValueError(f"plan_alert plans an alert or an action change, not {kind}")
    bodies = {language: alert_body(event, language) for language in Language}
    plan = []
    for person in recipients:
        lead, link = person.role in _LEADS, links[person.user_id]
        first = []
        for channel, deferred in _ROUTES[(event.drill, person.push_devices > 0)]:
            if channel is Channel.SMS and person.phone is None:
                continue
            sent_as = MessageKind.REMINDER if deferred else kind
            first.append(event_message(
                event, person.user_id, channel, sent_as,
                priority_of(event.drill, lead, sent_as),
                bodies[person.language], person.language,
                now + ack_window if deferred else now, unless_acknowledged=deferred,
                link=link,
            ))
        plan += first
        if not event.drill:
            plan += _repeats(event, person, [m.channel for m in first],
                             bodies[person.language], link, now, repeats.window(lead))
    plan.sort(key=lambda m: (-m.priority, m.not_before))
    return plan


def _repeats(event: Event, person: Recipient, had: list[Channel], body: str, link: str,
             alerted_at: datetime, window: timedelta) -> list[PlannedMessage]:
    """A real alert's rounds after the first, each one window after the one before and
    dropped once the person has acknowledged (domain/repeats.py). Push and SMS say what
    the alert said, with the link; a call says it in the person's language."""
    reachable = [c for c in _LADDER
                 if (person.push_devices > 0 if c is Channel.PUSH else person.phone is not None)]
    priority = priority_of(event.drill, person.role in _LEADS, MessageKind.REPEAT)
    plan = []
    for n, channel in enumerate(repeat_channels(had, reachable), start=1):
        when = alerted_at + n * window
        if channel is Channel.VOICE:
            plan.append(PlannedMessage(
                user_id=person.user_id, channel=channel, kind=MessageKind.REPEAT,
                priority=priority, body=spoken_alert(body, person.language), critical=False,
                data={"language": person.language.value}, not_before=when,
                unless_acknowledged=True))
        else:
            plan.append(event_message(event, person.user_id, channel, MessageKind.REPEAT,
                                      priority, body, person.language, when,
                                      unless_acknowledged=True, link=link))
    return plan


def plan_ending(
    event: Event, kind: MessageKind, notified: Sequence[tuple[uuid.UUID, str, str]]
) -> list[PlannedMessage]:
    """The all-clear or cancellation of an ended event, to each (person, channel) that was
    notified, in the person's language (pass only what was sent or is queued: a skipped
    reminder notified nobody). Channels and languages may come as plain strings.

    The outbox rows carry no role and an ending asks nobody to act, so everyone gets the
    same priority and no critical sound, which in a lockdown could give a room away."""
    words = {language: ending_words(event, kind, language) for language in Language}
    priority = priority_of(event.drill, False, kind)
    people = dict.fromkeys((user_id, Channel(channel), Language(language))
                           for user_id, channel, language in notified)
    return [event_message(event, user_id, channel, kind, priority, words[language][0],
                          language, words[language][1])
            for user_id, channel, language in people]  # de-duplicated, in the order given


def ending_words(event: Event, kind: MessageKind,
                 language: Language = Language.EN) -> tuple[str, datetime]:
    """The words of an ended event's all-clear or cancellation in `language` (its note
    included), and when it ended; ValueError if the event did not end that way."""
    status = _ENDINGS.get(kind)
    if status is not event.status or event.ended_at is None:
        raise ValueError(f"event {event.id} is {event.status}; it has no {kind} to send")
    return srp.ending_text(event.drill, status, event.end_reason, language), event.ended_at


def event_message(
    event: Event, user_id: uuid.UUID, channel: Channel, kind: MessageKind, priority: int,
    body: str, language: Language, when: datetime, *, unless_acknowledged: bool = False,
    link: str | None = None,
) -> PlannedMessage:
    """One message about `event`, with the body, sound and payload its channel calls for;
    only a call to act is critical. A message that has a page to open carries the
    person's `link` (an ending has none to give). The push payload says the person's
    language, for the app's own words around the alert."""
    push = channel is Channel.PUSH
    data = {"event_id": str(event.id), "school_id": str(event.school_id),
            "action": event.action.value, "drill": "true" if event.drill else "false",
            "kind": kind.value, "language": language.value} | ({"link": link} if link else {})
    return PlannedMessage(
        user_id=user_id, channel=channel, kind=kind, priority=priority,
        body=body if push else sms_text(body, link),
        critical=push and not event.drill and kind in _CRITICAL,
        data=data if push else {}, not_before=when, unless_acknowledged=unless_acknowledged,
    )


# An SMS is at most two segments: a carrier joins them (and bills them) as one message.
# Joined, a GSM-7 segment carries 153 septets (160 alone), a UCS-2 one 67 characters (70).
SMS_SEGMENTS = 2
# GSM 03.38: the basic set, then the extension set (two septets each, still GSM-7).
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) | _GSM7_EXTENSION
_TYPOGRAPHY = str.maketrans({"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"',
                             "`": "'"})
_CUT = "..."
# A link's shape: its basic GSM-7 characters as "x" (one septet each), the rest as they are.
_SHAPE = str.maketrans(dict.fromkeys(_GSM7 - _GSM7_EXTENSION, "x"))


def sms_segments(text: str) -> int:
    """How many segments an SMS of `text` takes (GSM-7 if every character is, else UCS-2)."""
    if all(c in _GSM7 for c in text):
        units, alone, joined = len(text) + sum(c in _GSM7_EXTENSION for c in text), 160, 153
    else:
        units, alone, joined = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= alone else -(-units // joined)


def sms_text(text: str, link: str | None = None) -> str:
    """`text` as an SMS of at most SMS_SEGMENTS segments, ending with `link` whole on a
    line of its own: the words are cut to make room, never the link."""
    if link is None:
        return _sms_words(text, "")
    # all of an event's links have one shape (a base URL, a fixed-length token): the
    # words are worked out once for a wave of 10,000 SMS, for a stand-in of that shape
    return f"{_sms_words(text, link.translate(_SHAPE))}\n{link}"


def _gsm7_char(char: str) -> str:
    """A character as GSM-7 has it, or without its accent (í -> i); one with no GSM-7 form
    (Chinese, emoji) is kept: words in a longer UCS-2 SMS beat question marks."""
    if char in _GSM7:
        return char
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and all(c in _GSM7 for c in base) else char


@functools.lru_cache(maxsize=256)
def _sms_words(text: str, link_shape: str) -> str:
    """The words of an SMS followed by a link of `link_shape`. One character outside GSM-7
    (our own em dash included) makes the whole message UCS-2, under half the characters a
    segment; and what does not fit is cut at the end, where the words matter least (the
    app and the page show them all), after a whole word if one ends near the cut."""
    text = "".join(_gsm7_char(c) for c in text.translate(_TYPOGRAPHY))
    tail = f"\n{link_shape}" if link_shape else ""
    if sms_segments(text + tail) <= SMS_SEGMENTS:
        return text

    def fits(n: int) -> bool:
        return sms_segments(f"{text[:n].rstrip()}{_CUT}{tail}") <= SMS_SEGMENTS

    low, high = 0, len(text)  # fits(low); not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    word_end = text.rfind(" ", 0, low + 1)
    if word_end > low * 3 // 4:  # a whole word, unless that drops most of the room
        low = word_end
    return f"{text[:low].rstrip()}{_CUT}"
