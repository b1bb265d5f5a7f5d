"""Reunification: open it (and text the guardians), check students and adults in at the
site, approve, release, close; the live view and the record.

Student data is the most sensitive thing Muster holds: every step and every read of the
lists writes an entry of the school's audit trail in its own transaction (a read too:
the entry and the answer stand or fall together). Another school's reunification is a
404 that names only the reunification. The rules are domain/reunification.py's; a
release's race is settled by the releases table's unique key.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import msgspec

from api.usecases.access import load_event_as
from api.usecases.callers import Caller
from api.usecases.unit_of_work import UnitOfWork
from db import outbox
from db import reunifications as db
from db.events import load_school_policy
from db.pool import Connection
from db.schools import get_school
from domain import reunification as rules
from domain.admin import AdminChange
from domain.errors import Conflict, Invalid, NotFound
from domain.language import Language
from domain.policy import Permission
from domain.reunification import Adult, Need, Reunification, Timings
from domain.students import Restriction
from domain.text import NO_NUL
from domain.values import Value

_Site = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
_Address = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=NO_NUL)]
_AdultName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
_Relationship = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NO_NUL)]
_Note = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=NO_NUL)]
# an adult comes for their own children: a family, not a class
_Students = Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=20)]


class Opening(Value, kw_only=True):
    """Where families go: the site's name, and its address when it is not the school."""

    site: _Site
    address: _Address | None = None


async def open_for_event(uow: UnitOfWork, caller: Caller, event_id: uuid.UUID,
                         opening: Opening, now: datetime) -> Reunification:
    """Once per event, active or ended."""
    async with uow:
        ctx, _ = await load_event_as(uow.conn, caller, event_id)
        return await _open(uow, caller, ctx.event.school_id, event_id, opening, now)


async def open_for_school(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                          opening: Opening, now: datetime) -> Reunification:
    async with uow:
        return await _open(uow, caller, school_id, None, opening, now)


async def _open(uow: UnitOfWork, caller: Caller, school_id: uuid.UUID,
                event_id: uuid.UUID | None, opening: Opening, now: datetime) -> Reunification:
    """Opens it (one open per school), audited, and queues one text per guardian."""
    conn, role = uow.conn, caller.role_at(school_id)
    (await load_school_policy(conn, school_id)).require(role, Permission.RUN_REUNIFICATION)
    school = await get_school(conn, school_id, lock=True)  # opens at one school take turns
    if school is None:
        raise NotFound(f"no school {school_id}")
    r = rules.opened(reunification_id=uuid.uuid4(), school_id=school_id, event_id=event_id,
                     site=opening.site, address=opening.address, actor_id=caller.user_id,
                     now=now)
    standing = await db.open_or_events(conn, school_id, event_id)
    if standing is not None and event_id is not None and standing.event_id == event_id:
        raise Conflict(f"this event's reunification is {standing.id} already")
    if standing is not None or not await db.insert(conn, r):
        raise Conflict("the school has a reunification open already"
                       + (f": {standing.id}; close it first" if standing else ""))
    guardians = await db.guardians_to_text(conn, school_id)
    texts = {lang: rules.guardian_text(lang, school=school.name, site=r.site,
                                       address=r.address) for lang in Language}
    await outbox.enqueue(conn, None, rules.plan_guardian_texts(guardians, texts, now=now),
                         reunification_id=r.id)
    await db.audit(conn, r, caller.user_id, AdminChange.REUNIFICATION_OPENED,
                   {"site": r.site, "event_id": str(event_id) if event_id else None,
                    "guardians_texted": len(guardians)}, now)
    return r


async def list_for_school(conn: Connection, caller: Caller, school_id: uuid.UUID,
                          after: tuple[datetime, uuid.UUID] | None,
                          limit: int) -> list[Reunification]:
    """Names no student: any member may see that one is open, and where."""
    caller.role_at(school_id)
    return await db.list_for_school(conn, school_id, after, limit)


async def _load_as(conn: Connection, caller: Caller, reunification_id: uuid.UUID,
                   permission: Permission, *, lock: str | None = None) -> Reunification:
    """The reunification if the caller's role at its school allows `permission`."""
    r = await db.load(conn, reunification_id, lock=lock)
    role = caller.role_at(r.school_id, missing=f"no reunification {reunification_id}")
    (await load_school_policy(conn, r.school_id)).require(role, permission)
    return r


async def close(uow: UnitOfWork, caller: Caller, reunification_id: uuid.UUID,
                now: datetime) -> Reunification:
    async with uow:
        r = await _load_as(uow.conn, caller, reunification_id, Permission.RUN_REUNIFICATION,
                           lock="update")
        r = rules.closed(r, actor_id=caller.user_id, now=now)
        await db.close(uow.conn, r)
        await db.audit(uow.conn, r, caller.user_id, AdminChange.REUNIFICATION_CLOSED, {}, now)
    return r


class LiveView(Value, kw_only=True):
    """The site as it stands: figures, students (the roster too if asked), adults waiting."""

    reunification: Reunification
    counts: db.SiteCounts
    open_for_s: float
    students: list[db.SiteStudent]
    adults_waiting: list[db.WaitingAdult]


async def live_view(uow: UnitOfWork, caller: Caller, reunification_id: uuid.UUID,
                    now: datetime, *, with_roster: bool = False) -> LiveView:
    """Every read is audited (who read it, when)."""
    async with uow:
        conn = uow.conn
        r = await _load_as(conn, caller, reunification_id, Permission.REUNIFY)
        await db.audit(conn, r, caller.user_id, AdminChange.REUNIFICATION_READ,
                       {"roster": with_roster}, now)
        end = r.closed_at or now
        return LiveView(reunification=r, counts=await db.counts(conn, r),
                        open_for_s=max(0.0, (end - r.opened_at).total_seconds()),
                        students=await db.site_students(conn, r, with_roster),
                        adults_waiting=await db.waiting_adults(conn, r.id))


class Arrival(Value, kw_only=True):
    student_id: uuid.UUID
    name: str
    arrived_at: datetime
    new: bool


async def student_arrived(uow: UnitOfWork, caller: Caller, reunification_id: uuid.UUID,
                          student_id: uuid.UUID, now: datetime) -> Arrival:
    """Once: a second check-in of the student answers the first one's time."""
    async with uow:
        conn = uow.conn
        r = await _load_as(conn, caller, reunification_id, Permission.REUNIFY, lock="share")
        rules.require_open(r)
        student = await db.student_at_site(conn, r.id, r.school_id, student_id)
        if student is None:
            raise Invalid(f"{student_id} is not a student of this school", field="student_id")
        if student.arrived_at is not None:
            return Arrival(student_id=student_id, name=student.name,
                           arrived_at=student.arrived_at, new=False)
        new = await db.add_student(conn, r, student_id, now, caller.user_id)
        if not new:  # checked in by someone else a moment ago
            again = await db.student_at_site(conn, r.id, r.school_id, student_id)
            assert again is not None and again.arrived_at is not None
            return Arrival(student_id=student_id, name=student.name,
                           arrived_at=again.arrived_at, new=False)
        await db.audit(conn, r, caller.user_id, AdminChange.STUDENT_ARRIVED,
                       {"student_id": str(student_id)}, now)
    return Arrival(student_id=student_id, name=student.name, arrived_at=now, new=True)


class AdultArriving(Value, kw_only=True):
    """An adult at the site: their name, whether staff saw their photo ID, the students
    they came for; `guardian_id` when staff picked them from a student's roster."""

    name: _AdultName
    id_seen: bool
    student_ids: _Students
    relationship: _Relationship | None = None
    guardian_id: uuid.UUID | None = None


class Match(Value, kw_only=True):
    """One student the adult came for, and what releasing them to this adult needs."""

    student_id: uuid.UUID
    student: str
    listed: bool
    listed_as: str | None  # the roster's relationship
    restricted: bool
    restrictions: list[Restriction]
    needs: Need


class AdultCheckedIn(Value, kw_only=True):
    adult: Adult
    students: list[Match]


async def adult_arrived(uow: UnitOfWork, caller: Caller, reunification_id: uuid.UUID,
                        arriving: AdultArriving, now: datetime) -> AdultCheckedIn:
    """The adult, matched against each named student's roster: listed or not, the
    student's restrictions (all of them: staff must see them) and whether one names them."""
    ids = list(dict.fromkeys(arriving.student_ids))
    if not ids:
        raise Invalid("name the students the adult came for", field="student_ids")
    async with uow:
        conn = uow.conn
        r = await _load_as(conn, caller, reunification_id, Permission.REUNIFY, lock="share")
        rules.require_open(r)
        if set(ids) - await db.school_students(conn, r.school_id, ids):
            raise Invalid("not every id is a student of this school", field="student_ids")
        if arriving.guardian_id is not None and await db.guardian_name(
                conn, r.school_id, arriving.guardian_id) is None:
            raise Invalid(f"{arriving.guardian_id} is not a guardian of this school",
                          field="guardian_id")
        adult = Adult(id=uuid.uuid4(), reunification_id=r.id, guardian_id=arriving.guardian_id,
                      name=arriving.name, relationship=arriving.relationship,
                      id_seen=arriving.id_seen, arrived_at=now, checked_in_by=caller.user_id)
        await db.add_adult(conn, r.school_id, adult, ids)
        matches = await _matches(conn, r, adult, ids)
        await db.audit(conn, r, caller.user_id, AdminChange.ADULT_ARRIVED,
                       {"adult_id": str(adult.id), "student_ids": [str(s) for s in ids],
                        "listed": [str(m.student_id) for m in matches if m.listed],
                        "restricted": [str(m.student_id) for m in matches if m.restricted]},
                       now)
    return AdultCheckedIn(adult=adult, students=matches)


async def _matches(conn: Connection, r: Reunification, adult: Adult,
                   ids: Sequence[uuid.UUID]) -> list[Match]:
    roster = await db.roster_adults(conn, ids)
    restrictions = await db.restrictions(conn, ids)
    matches = []
    for student_id in ids:
        student = await db.student_at_site(conn, r.id, r.school_id, student_id)
        assert student is not None
        entry = rules.listed(adult, roster[student_id])
        naming = rules.restrictions_naming(adult, restrictions[student_id])
        matches.append(Match(student_id=student_id, student=student.name,
                             listed=entry is not None,
                             listed_as=entry.relationship if entry else None,
                             restricted=bool(naming), restrictions=restrictions[student_id],
                             needs=rules.need(adult, roster[student_id],
                                              restrictions[student_id])))
    return matches


class ReleaseAsked(Value, kw_only=True):
    """A student and the adult checked in at the site to hand them to (or approve)."""

    student_id: uuid.UUID
    adult_id: uuid.UUID
    note: _Note | None = None


class Approval(Value, kw_only=True):
    reunification_id: uuid.UUID
    student_id: uuid.UUID
    adult_id: uuid.UUID
    approved_by: uuid.UUID
    new: bool


async def approve(uow: UnitOfWork, caller: Caller, reunification_id: uuid.UUID,
                  asked: ReleaseAsked, now: datetime) -> Approval:
    """An administrator approves an adult not on the student's list (or whose ID was not
    seen); never one a restriction names."""
    async with uow:
        conn = uow.conn
        r = await _load_as(conn, caller, reunification_id, Permission.APPROVE_RELEASE,
                           lock="share")
        rules.require_open(r)
        student, adult = await _student_and_adult(conn, r, asked)
        rules.check_not_restricted(
            student.name, adult, (await db.restrictions(conn, [student.id]))[student.id])
        new = await db.approve(conn, r.id, student.id, adult.id, caller.user_id, now,
                               asked.note)
        if new:
            await db.audit(conn, r, caller.user_id, AdminChange.RELEASE_APPROVED,
                           {"student_id": str(student.id), "adult_id": str(adult.id)}, now)
        approver = await db.approved_by(conn, r.id, student.id, adult.id)
        assert approver is not None
    return Approval(reunification_id=r.id, student_id=student.id, adult_id=adult.id,
                    approved_by=approver, new=new)


async def _student_and_adult(conn: Connection, r: Reunification,
                             asked: ReleaseAsked) -> tuple[db.StudentAtSite, Adult]:
    student = await db.student_at_site(conn, r.id, r.school_id, asked.student_id)
    if student is None:
        raise Invalid(f"{asked.student_id} is not a student of this school",
                      field="student_id")
    adult = await db.load_adult(conn, r.id, asked.adult_id)
    if adult is None:
        raise rules.ReleaseRefused(rules.Refusal.ADULT_NOT_CHECKED_IN,
                                   f"adult {asked.adult_id} has not been checked in here")
    return student, adult


class Released(Value, kw_only=True):
    id: uuid.UUID
    reunification_id: uuid.UUID
    student_id: uuid.UUID
    adult_id: uuid.UUID
    verification: rules.Verification
    approved_by: uuid.UUID | None
    released_at: datetime
    released_by: uuid.UUID
    note: str | None


async def release(uow: UnitOfWork, caller: Caller, reunification_id: uuid.UUID,
                  asked: ReleaseAsked, now: datetime) -> Released:
    """The student handed to the adult, once, by the rules (domain/reunification.py);
    audited in the same transaction."""
    async with uow:
        conn = uow.conn
        r = await _load_as(conn, caller, reunification_id, Permission.REUNIFY, lock="share")
        rules.require_open(r)
        student = await db.student_at_site(conn, r.id, r.school_id, asked.student_id)
        if student is None:
            raise Invalid(f"{asked.student_id} is not a student of this school",
                          field="student_id")
        adult = await db.load_adult(conn, r.id, asked.adult_id)
        approver = await db.approved_by(conn, r.id, student.id, asked.adult_id)
        case = rules.ReleaseCase(
            reunification=r, student_name=student.name, arrived=student.arrived_at is not None,
            earlier=student.earlier, adult=adult,
            guardians=tuple((await db.roster_adults(conn, [student.id]))[student.id]),
            restrictions=tuple((await db.restrictions(conn, [student.id]))[student.id]),
            approved=approver is not None)
        verification = rules.check_release(case)
        done = Released(id=uuid.uuid4(), reunification_id=r.id, student_id=student.id,
                        adult_id=asked.adult_id, verification=verification,
                        approved_by=approver if verification is rules.Verification.APPROVED
                        else None, released_at=now, released_by=caller.user_id,
                        note=asked.note)
        if not await db.release(conn, r, done.id, done.student_id, done.adult_id,
                                done.verification, done.approved_by, now, caller.user_id,
                                asked.note):
            # released a moment ago by another request: decided again on what is stored
            again = await db.student_at_site(conn, r.id, r.school_id, student.id)
            assert again is not None and again.earlier is not None
            raise rules.already_released(student.name, again.earlier)
        await db.audit(conn, r, caller.user_id, AdminChange.STUDENT_RELEASED,
                       {"student_id": str(student.id), "adult_id": str(asked.adult_id),
                        "verification": verification}, now)
    return done


class Record(Value, kw_only=True):
    """The reunification afterwards: every release, and its milestones."""

    reunification: Reunification
    school: str
    timezone: str  # the school's, for the printable page
    counts: db.SiteCounts
    timings: Timings
    releases: list[db.ReleaseEntry]


async def record(uow: UnitOfWork, caller: Caller, reunification_id: uuid.UUID,
                 now: datetime) -> Record:
    """A read of the list of releases: audited as one."""
    async with uow:
        conn = uow.conn
        r = await _load_as(conn, caller, reunification_id, Permission.REUNIFY)
        await db.audit(conn, r, caller.user_id, AdminChange.REUNIFICATION_READ,
                       {"record": True}, now)
        counts = await db.counts(conn, r)
        entries = await db.releases(conn, r)
        school = await get_school(conn, r.school_id)
        assert school is not None
    return Record(reunification=r, school=school.name, timezone=school.timezone,
                  counts=counts, releases=entries,
                  timings=rules.timings(r.opened_at, [e.released_at for e in entries],
                                        counts.arrived))



class SitePage(Value, kw_only=True):
    """What the site's page starts from: the reunification (no student in it), its
    school, and what the caller's role may do there."""

    reunification: Reunification
    school: str
    can_approve: bool
    can_close: bool


async def site_page(conn: Connection, caller: Caller,
                    reunification_id: uuid.UUID) -> SitePage:
    """For the site's members; the lists come from the live view (audited) by script."""
    r = await _load_as(conn, caller, reunification_id, Permission.REUNIFY)
    policy, role = await load_school_policy(conn, r.school_id), caller.role_at(r.school_id)
    school = await get_school(conn, r.school_id)
    assert school is not None
    return SitePage(reunification=r, school=school.name,
                    can_approve=policy.allows(role, Permission.APPROVE_RELEASE),
                    can_close=policy.allows(role, Permission.RUN_REUNIFICATION))


async def of_event(conn: Connection, school_id: uuid.UUID,
                   event_id: uuid.UUID | None) -> Reunification | None:
    """The event's reunification, else the school's open one (for pages to link to; the
    caller's access to the school or event is checked by the page already)."""
    return await db.open_or_events(conn, school_id, event_id)
