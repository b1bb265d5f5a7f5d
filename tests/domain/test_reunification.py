"""Reunification's rules: who is listed, who is restricted, what a release needs and
why it is refused (in the module's order), the record's milestones, the guardians' texts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from msgspec.structs import replace

from domain import reunification as rules
from domain.alerts import SMS_SEGMENTS, sms_segments
from domain.errors import Conflict, Invalid
from domain.language import Language
from domain.reunification import (
    Adult,
    EarlierRelease,
    GuardianPhone,
    Need,
    Refusal,
    ReleaseCase,
    ReleaseRefused,
    RosterAdult,
    Verification,
)
from domain.students import Restriction, RestrictionKind

NOW = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
STUDENT = uuid.uuid4()
MOTHER = RosterAdult(guardian_id=uuid.uuid4(), name="Maria Diaz", relationship="mother")
ORDER = Restriction(id=uuid.uuid4(), student_id=STUDENT, kind=RestrictionKind.NO_CONTACT,
                    adult_name="Jorge Diaz")
OPEN = rules.opened(reunification_id=uuid.uuid4(), school_id=uuid.uuid4(), event_id=None,
                    site="Gym", address=None, actor_id=uuid.uuid4(), now=NOW)


def adult(name: str = "Maria Diaz", *, guardian_id: uuid.UUID | None = None,
          id_seen: bool = True) -> Adult:
    return Adult(id=uuid.uuid4(), reunification_id=OPEN.id, guardian_id=guardian_id,
                 name=name, id_seen=id_seen, arrived_at=NOW, checked_in_by=uuid.uuid4())


def case(who: Adult | None, **changes) -> ReleaseCase:
    fields = {"reunification": OPEN, "student_name": "Ana Diaz", "arrived": True,
              "earlier": None, "adult": who, "guardians": (MOTHER,), "restrictions": (ORDER,),
              "approved": False}
    return ReleaseCase(**(fields | changes))


def refusal(c: ReleaseCase) -> Refusal:
    with pytest.raises(ReleaseRefused) as refused:
        rules.check_release(c)
    return refused.value.reason


def test_listed_by_the_rosters_guardian_or_by_the_same_name():
    assert rules.listed(adult("Someone", guardian_id=MOTHER.guardian_id), [MOTHER]) == MOTHER
    assert rules.listed(adult("  maria   DIAZ "), [MOTHER]) == MOTHER
    assert rules.listed(adult("Maria Dias"), [MOTHER]) is None


def test_a_guardian_of_another_student_is_not_listed_by_name():
    """Picked from another student's roster, the name alone does not list them here."""
    assert rules.listed(adult("Maria Diaz", guardian_id=uuid.uuid4()), [MOTHER]) is None


def test_a_restriction_names_an_adult_by_name_or_by_guardian():
    linked = replace(ORDER, adult_name="J. Diaz", guardian_id=uuid.uuid4())
    assert rules.restrictions_naming(adult("jorge diaz"), [ORDER]) == [ORDER]
    assert rules.restrictions_naming(adult("Jorge", guardian_id=linked.guardian_id),
                                     [linked]) == [linked]
    assert rules.restrictions_naming(adult("Maria Diaz"), [ORDER, linked]) == []


@pytest.mark.parametrize(("who", "needs"), [
    (adult(), Need.NOTHING),
    (adult(id_seen=False), Need.APPROVAL),
    (adult("A Neighbour"), Need.APPROVAL),
    (adult("Jorge Diaz"), Need.REFUSED),
])
def test_what_a_release_needs(who, needs):
    assert rules.need(who, [MOTHER], [ORDER]) is needs


def test_a_listed_adult_with_id_is_released_as_listed():
    assert rules.check_release(case(adult())) is Verification.LISTED


def test_an_approval_stands_in_for_a_listing_and_for_an_id():
    assert rules.check_release(case(adult("A Neighbour", id_seen=False), approved=True)) \
        is Verification.APPROVED


@pytest.mark.parametrize(("c", "reason"), [
    (case(adult(), reunification=rules.closed(OPEN, actor_id=uuid.uuid4(), now=NOW)),
     Refusal.CLOSED),
    (case(adult(), arrived=False), Refusal.NOT_ARRIVED),
    (case(adult(), earlier=EarlierRelease(adult_name="Maria Diaz", released_at=NOW)),
     Refusal.ALREADY_RELEASED),
    (case(None), Refusal.ADULT_NOT_CHECKED_IN),
    (case(adult("Jorge Diaz")), Refusal.RESTRICTED),
    (case(adult("Jorge Diaz"), approved=True), Refusal.RESTRICTED),
    (case(adult("A Neighbour")), Refusal.NOT_LISTED),
    (case(adult(id_seen=False)), Refusal.ID_NOT_SEEN),
])
def test_each_refusal(c, reason):
    assert refusal(c) is reason


def test_the_first_rule_broken_is_the_one_named():
    """Closed beats everything; a released student is named before the adult's faults."""
    closed = rules.closed(OPEN, actor_id=uuid.uuid4(), now=NOW)
    earlier = EarlierRelease(adult_name="Maria Diaz", released_at=NOW)
    assert refusal(case(adult("Jorge Diaz"), reunification=closed, arrived=False)) \
        is Refusal.CLOSED
    assert refusal(case(adult("Jorge Diaz"), earlier=earlier)) is Refusal.ALREADY_RELEASED


def test_the_double_release_names_the_first():
    earlier = EarlierRelease(adult_name="Maria Diaz", released_at=NOW)
    assert "Maria Diaz" in str(rules.already_released("Ana Diaz", earlier))


def test_a_site_is_named_and_a_reunification_closes_once():
    with pytest.raises(Invalid):
        rules.opened(reunification_id=uuid.uuid4(), school_id=uuid.uuid4(), event_id=None,
                     site="  ", address=None, actor_id=uuid.uuid4(), now=NOW)
    closed = rules.closed(OPEN, actor_id=uuid.uuid4(), now=NOW)
    assert not closed.open
    with pytest.raises(Conflict):
        rules.closed(closed, actor_id=uuid.uuid4(), now=NOW)


def test_timings_to_first_half_and_all():
    times = [NOW + timedelta(minutes=m) for m in (30, 10, 20)]
    t = rules.timings(NOW, times, at_site=3)
    assert (t.first_release_s, t.half_released_s, t.all_released_s) == (600, 1200, 1800)
    t = rules.timings(NOW, times[:1], at_site=4)
    assert (t.first_release_s, t.half_released_s, t.all_released_s) == (1800, None, None)
    assert rules.timings(NOW, [], at_site=0) == rules.Timings(
        first_release_s=None, half_released_s=None, all_released_s=None)


@pytest.mark.parametrize("language", list(Language))
def test_the_guardians_text_fits_two_segments_and_names_the_place(language):
    text = rules.guardian_text(language, school="Riverbend High", site="Middle School gym",
                               address="12 Oak St")
    assert "Riverbend High" in text and "Middle School gym, 12 Oak St" in text
    assert "foto" in text if language is Language.ES else "photo ID" in text
    assert sms_segments(text) <= SMS_SEGMENTS
    long = rules.guardian_text(language, school="S" * 200, site="x" * 200, address="y" * 300)
    assert sms_segments(long) <= SMS_SEGMENTS


def test_each_guardian_is_texted_once_in_their_language():
    one, two = uuid.uuid4(), uuid.uuid4()
    plan = rules.plan_guardian_texts(
        [GuardianPhone(guardian_id=one, phone="+15125550101", language=Language.ES),
         GuardianPhone(guardian_id=one, phone="+15125550101", language=Language.ES),
         GuardianPhone(guardian_id=two, phone="+15125550102")],
        {Language.EN: "english", Language.ES: "spanish"}, now=NOW)
    assert [(m.guardian_id, m.phone, m.body, m.user_id) for m in plan] == [
        (one, "+15125550101", "spanish", None), (two, "+15125550102", "english", None)]
