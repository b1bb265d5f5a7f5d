"""Reunification: each student handed to an adult who may collect them, once.

A safety lead opens a reunification at a site; the guardians of the school's students are
texted where to go and to bring photo ID (never a student's name: a text can be read by
anyone holding the phone). At the site staff check students in, then adults; an adult is
matched against the student's roster: `listed` (one of the student's guardians, by the
roster's guardian or by name) or not, and `restricted` when a no-contact order or custody
note names them. A release needs, in this order:

    the reunification open            else  closed
    the student checked in at the site      not_arrived
    the student not released already        already_released
    the adult checked in at the site        adult_not_checked_in
    no restriction naming the adult         restricted        (an approval never overrides)
    the adult listed, or approved           not_listed
    their photo ID seen, or approved        id_not_seen

An administrator's approval stands in for a listing (and for an ID not seen): it is
recorded with the release (`verification = approved`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from msgspec.structs import replace

from domain.alerts import Channel, MessageKind, PlannedMessage, sms_text
from domain.errors import Conflict, Invalid
from domain.language import Language
from domain.students import Restriction, same_person
from domain.values import Value


class Reunification(Value, kw_only=True):
    """A reunification of one school's students at a site; one open per school at a time."""

    id: uuid.UUID
    school_id: uuid.UUID
    event_id: uuid.UUID | None = None
    site: str
    address: str | None = None
    opened_at: datetime
    opened_by: uuid.UUID
    closed_at: datetime | None = None
    closed_by: uuid.UUID | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None


class RosterAdult(Value, kw_only=True):
    """One of a student's guardians, as the roster lists them."""

    guardian_id: uuid.UUID
    name: str
    relationship: str


class Adult(Value, kw_only=True):
    """An adult checked in at the site: a guardian of the roster (`guardian_id`) or not."""

    id: uuid.UUID
    reunification_id: uuid.UUID
    guardian_id: uuid.UUID | None = None
    name: str
    relationship: str | None = None
    id_seen: bool
    arrived_at: datetime
    checked_in_by: uuid.UUID


class Need(StrEnum):
    """What releasing a student to an adult needs: nothing more, an administrator's
    approval, or it is refused (a restriction names the adult)."""

    NOTHING = "nothing"
    APPROVAL = "approval"
    REFUSED = "refused"


class Verification(StrEnum):
    """How a release was verified: the adult is on the student's list, or approved."""

    LISTED = "listed"
    APPROVED = "approved"


class Refusal(StrEnum):
    """Why a release is refused; each is its own problem type (release-<reason>)."""

    CLOSED = "closed"
    NOT_ARRIVED = "not-arrived"
    ALREADY_RELEASED = "already-released"
    ADULT_NOT_CHECKED_IN = "adult-not-checked-in"
    RESTRICTED = "restricted"
    NOT_LISTED = "not-listed"
    ID_NOT_SEEN = "id-not-seen"


class ReleaseRefused(Conflict):
    """A release (or an approval) the rules refuse; `reason` names the rule."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def opened(*, reunification_id: uuid.UUID, school_id: uuid.UUID, event_id: uuid.UUID | None,
           site: str, address: str | None, actor_id: uuid.UUID,
           now: datetime) -> Reunification:
    """A new reunification; the site is named in words a parent can find."""
    site = site.strip()
    if not site:
        raise Invalid("name the site, e.g. Riverbend Middle School gym", field="site")
    return Reunification(id=reunification_id, school_id=school_id, event_id=event_id,
                         site=site, address=(address or "").strip() or None,
                         opened_at=now, opened_by=actor_id)


def closed(reunification: Reunification, *, actor_id: uuid.UUID,
           now: datetime) -> Reunification:
    if not reunification.open:
        raise Conflict(f"reunification {reunification.id} is closed already")
    return replace(reunification, closed_at=now, closed_by=actor_id)


def require_open(reunification: Reunification) -> None:
    if not reunification.open:
        raise ReleaseRefused(Refusal.CLOSED, f"reunification {reunification.id} is closed")


def listed(adult: Adult, guardians: Iterable[RosterAdult]) -> RosterAdult | None:
    """The roster's entry for the adult among the student's guardians: the same guardian,
    or (an adult checked in by name) the same name."""
    for guardian in guardians:
        if adult.guardian_id is not None and adult.guardian_id == guardian.guardian_id:
            return guardian
    if adult.guardian_id is None:
        for guardian in guardians:
            if same_person(adult.name, guardian.name):
                return guardian
    return None


def restrictions_naming(adult: Adult, restrictions: Iterable[Restriction]) -> list[Restriction]:
    """The student's restrictions that name the adult: by the roster's guardian, or by
    name whoever the adult says they are (a name on an order is never overlooked)."""
    return [r for r in restrictions
            if (r.guardian_id is not None and r.guardian_id == adult.guardian_id)
            or same_person(r.adult_name, adult.name)]


def need(adult: Adult, guardians: Iterable[RosterAdult],
         restrictions: Iterable[Restriction]) -> Need:
    """What releasing the student to the adult needs: a restriction naming them refuses
    it; not listed, or listed without photo ID seen, needs an approval."""
    if restrictions_naming(adult, restrictions):
        return Need.REFUSED
    if listed(adult, guardians) is None or not adult.id_seen:
        return Need.APPROVAL
    return Need.NOTHING


class EarlierRelease(Value, kw_only=True):
    """The release that already handed the student over."""

    adult_name: str
    released_at: datetime


class ReleaseCase(Value, kw_only=True):
    """What a release is decided on, read in its transaction."""

    reunification: Reunification
    student_name: str
    arrived: bool
    earlier: EarlierRelease | None
    adult: Adult | None
    guardians: tuple[RosterAdult, ...]
    restrictions: tuple[Restriction, ...]
    approved: bool


def check_release(case: ReleaseCase) -> Verification:
    """How the release is verified, or ReleaseRefused naming the first rule it breaks
    (the order of the module's table)."""
    require_open(case.reunification)
    name = case.student_name
    if not case.arrived:
        raise ReleaseRefused(Refusal.NOT_ARRIVED,
                             f"{name} has not been checked in at the site")
    if case.earlier is not None:
        raise already_released(name, case.earlier)
    adult = case.adult
    if adult is None:
        raise ReleaseRefused(Refusal.ADULT_NOT_CHECKED_IN,
                             "that adult has not been checked in at this site")
    check_not_restricted(name, adult, case.restrictions)
    if case.approved:
        return Verification.APPROVED
    if listed(adult, case.guardians) is None:
        raise ReleaseRefused(Refusal.NOT_LISTED,
                             f"{adult.name} is not on {name}'s list of adults; "
                             "an administrator's approval is needed")
    if not adult.id_seen:
        raise ReleaseRefused(Refusal.ID_NOT_SEEN,
                             f"{adult.name}'s photo ID was not seen; "
                             "an administrator's approval is needed")
    return Verification.LISTED


def already_released(student_name: str, earlier: EarlierRelease) -> ReleaseRefused:
    """The refusal of a second release, naming the first."""
    return ReleaseRefused(Refusal.ALREADY_RELEASED,
                          f"{student_name} was already released to {earlier.adult_name} at "
                          f"{earlier.released_at.isoformat()}")


def check_not_restricted(student_name: str, adult: Adult,
                         restrictions: Iterable[Restriction]) -> None:
    """A restriction naming the adult refuses a release, and an approval of one."""
    naming = restrictions_naming(adult, restrictions)
    if naming:
        kinds = " and ".join(sorted({_RESTRICTION_WORDS[r.kind] for r in naming}))
        raise ReleaseRefused(Refusal.RESTRICTED,
                             f"{student_name} may not be released to {adult.name}: {kinds} "
                             "on the student's record")


_RESTRICTION_WORDS = {"no_contact": "a no-contact order", "custody": "a custody note"}


class Timings(Value, kw_only=True):
    """How long after opening the first release came, half the students at the site were
    released, and all of them (None: not yet)."""

    first_release_s: float | None
    half_released_s: float | None
    all_released_s: float | None


def timings(opened_at: datetime, released_at: Sequence[datetime], at_site: int) -> Timings:
    """The milestones of the students checked in at the site (`at_site`): the first
    release; the release that makes half of them (rounded up) released; the last one,
    once every one of them is released."""
    times = sorted(released_at)

    def after(n: int) -> float | None:
        if n < 1 or len(times) < n:
            return None
        return (times[n - 1] - opened_at) / timedelta(seconds=1)

    return Timings(first_release_s=after(1),
                   half_released_s=after(-(-at_site // 2)) if at_site else None,
                   all_released_s=after(at_site) if at_site and len(times) >= at_site
                   else None)


_GUARDIAN_TEXT = {
    Language.EN: "{school}: students are being reunited with families at {where}. "
                 "Go there to pick up your child and bring photo ID. "
                 "Only listed adults can pick up.",
    Language.ES: "{school}: los estudiantes se reúnen con sus familias en {where}. "
                 "Vaya allí para recoger a su hijo/a y traiga una identificación con foto. "
                 "Solo adultos autorizados pueden recogerlos.",
}


def guardian_text(language: Language, *, school: str, site: str, address: str | None) -> str:
    """The text to a guardian: the school, where to go, to bring photo ID; no student's
    name and no link (guardians never reach Muster). At most two SMS segments: what does
    not fit is cut at the end."""
    where = f"{site}, {address}" if address else site
    return sms_text(_GUARDIAN_TEXT[language].format(school=school, where=where))


# After a real event's alerts to staff (8, 9), before anything of a drill (4, 5).
_PRIORITY = 6


class GuardianPhone(Value, kw_only=True):
    """A guardian to text, once however many of their children are students."""

    guardian_id: uuid.UUID
    phone: str
    language: Language = Language.EN


def plan_guardian_texts(guardians: Iterable[GuardianPhone], texts: dict[Language, str], *,
                        now: datetime) -> list[PlannedMessage]:
    """One SMS per guardian (each once), in their language, now."""
    seen: set[uuid.UUID] = set()
    plan = []
    for g in guardians:
        if g.guardian_id in seen:
            continue
        seen.add(g.guardian_id)
        plan.append(PlannedMessage(user_id=None, guardian_id=g.guardian_id, phone=g.phone,
                                   channel=Channel.SMS, kind=MessageKind.REUNIFICATION,
                                   priority=_PRIORITY, body=texts[g.language], critical=False,
                                   data={}, not_before=now))
    return plan
