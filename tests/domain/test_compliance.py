"""Drill compliance: which events count, each period's status, and every state pack's rules
applied to a school year of drills."""

import uuid
from datetime import date, timedelta

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import GradeBand, PeriodKind, default_year, school_year
from domain.compliance import (
    Counts,
    Drill,
    RulePack,
    Status,
    check_pack,
    counts_toward,
    evaluate,
    parse_pack,
)
from domain.compliance_rules import builtin_packs, builtin_rule_refs, state_pack
from domain.errors import Invalid
from domain.srp import Action, EventStatus, Hazard, Purpose

D = date
A, H, P = Action, Hazard, Purpose
YEAR = school_year(default_year(2026, 8, 1), first_day=D(2026, 8, 17),
                   last_day=D(2027, 5, 28), second_semester_start=D(2027, 1, 5))


def drill(day: date, action: Action, hazard: Hazard | None = None,
          purpose: Purpose | None = None, *, real: bool = False,
          status: EventStatus = EventStatus.ALL_CLEAR) -> Drill:
    return Drill(id=uuid.uuid4(), day=day, action=action, hazard=hazard, purpose=purpose,
                 drill=not real, status=status)


FIRE = Counts(actions=[A.EVACUATE], purposes=[P.FIRE])
NOT_FIRE = Counts(actions=[A.EVACUATE, A.LOCKDOWN], exclude_purposes=[P.FIRE])
TORNADO = Counts(actions=[A.SHELTER], hazards=[H.TORNADO])
REAL_TOO = Counts(actions=[A.LOCKDOWN], real_events=True)


@pytest.mark.parametrize(("counts", "event", "counted"), [
    (FIRE, drill(D(2026, 9, 1), A.EVACUATE, purpose=P.FIRE), True),
    (FIRE, drill(D(2026, 9, 1), A.EVACUATE, purpose=P.BUS), False),
    (FIRE, drill(D(2026, 9, 1), A.EVACUATE), False),  # no purpose: not a fire drill
    (FIRE, drill(D(2026, 9, 1), A.LOCKDOWN), False),
    (FIRE, drill(D(2026, 9, 1), A.EVACUATE, purpose=P.FIRE, real=True), False),
    (FIRE, drill(D(2026, 9, 1), A.EVACUATE, purpose=P.FIRE, status=EventStatus.CANCELLED),
     False),
    (FIRE, drill(D(2026, 9, 1), A.EVACUATE, purpose=P.FIRE, status=EventStatus.SUPERSEDED),
     False),
    (FIRE, drill(D(2026, 9, 1), A.EVACUATE, purpose=P.FIRE, status=EventStatus.ACTIVE), False),
    (NOT_FIRE, drill(D(2026, 9, 1), A.EVACUATE), True),  # no purpose: never excluded
    (NOT_FIRE, drill(D(2026, 9, 1), A.EVACUATE, purpose=P.BOMB_THREAT), True),
    (NOT_FIRE, drill(D(2026, 9, 1), A.EVACUATE, purpose=P.FIRE), False),
    (NOT_FIRE, drill(D(2026, 9, 1), A.LOCKDOWN), True),
    (TORNADO, drill(D(2026, 9, 1), A.SHELTER, H.TORNADO), True),
    (TORNADO, drill(D(2026, 9, 1), A.SHELTER, H.HAZMAT), False),
    (REAL_TOO, drill(D(2026, 9, 1), A.LOCKDOWN, real=True), True),
    (REAL_TOO, drill(D(2026, 9, 1), A.LOCKDOWN), True),
])
def test_which_events_count(counts: Counts, event: Drill, counted: bool) -> None:
    """An ended drill of a listed kind counts; cancelled, superseded, active and (unless
    the rule says so) real events never do."""
    assert counts_toward(counts, event) is counted


def pack(*rules: dict, replaces: tuple[str, ...] = ()) -> RulePack:
    return parse_pack({"id": "t", "title": "Test", "jurisdiction": "Test",
                       "rules": list(rules), "replaces": list(replaces)},
                      known_rules={"tx/fire"})


def rule(**fields) -> dict:
    return {"id": "r", "title": "Rule", "citation": "§1", "period": "year", "required": 2,
            "counts": {"actions": ["lockdown"]}} | fields


def status_on(today: date, events: list[Drill], **fields) -> tuple[Status, date | None]:
    (req,) = evaluate([pack(rule(**fields))], YEAR, events, today).requirements
    return req.status, req.next_due


LOCKDOWNS = [drill(D(2026, 9, 10), A.LOCKDOWN), drill(D(2027, 2, 1), A.LOCKDOWN)]


@pytest.mark.parametrize(("today", "events", "fields", "expected"), [
    # per year, due May 28: on track, then due soon in its last 30 days, then overdue
    (D(2026, 9, 1), [], {}, (Status.ON_TRACK, D(2027, 5, 28))),
    (D(2027, 4, 28), [], {}, (Status.ON_TRACK, D(2027, 5, 28))),
    (D(2027, 4, 29), [], {}, (Status.DUE_SOON, D(2027, 5, 28))),
    (D(2027, 5, 28), LOCKDOWNS[:1], {}, (Status.DUE_SOON, D(2027, 5, 28))),
    (D(2027, 5, 29), LOCKDOWNS[:1], {}, (Status.OVERDUE, None)),
    (D(2027, 5, 29), LOCKDOWNS, {}, (Status.MET, None)),
    (D(2026, 9, 1), LOCKDOWNS, {}, (Status.MET, None)),  # the future ones count once held
    # per semester, one each: S1 met, S2 ahead
    (D(2026, 12, 1), LOCKDOWNS[:1], {"period": "semester", "required": 1},
     (Status.ON_TRACK, D(2027, 5, 28))),
    # S1 missed: overdue all year, and the next due date is S2's
    (D(2027, 1, 5), [], {"period": "semester", "required": 1},
     (Status.OVERDUE, D(2027, 5, 28))),
    # a date deadline counts only up to it
    (D(2026, 12, 20), LOCKDOWNS, {"deadline": "12-31"}, (Status.DUE_SOON, D(2026, 12, 31))),
    # N days after the first day (Aug 17 + 90 = Nov 15)
    (D(2026, 11, 16), LOCKDOWNS, {"deadline_days": 90, "required": 1}, (Status.MET, None)),
    (D(2026, 11, 16), LOCKDOWNS[1:], {"deadline_days": 90, "required": 1},
     (Status.OVERDUE, None)),
    # counted from a day: a drill before Sep 15 does not count
    (D(2026, 10, 1), LOCKDOWNS[:1], {"count_from": "09-15", "required": 1},
     (Status.ON_TRACK, D(2027, 5, 28))),
])
def test_status_and_next_due(today, events, fields, expected) -> None:
    """Met once enough are held; overdue after the due date; due soon within the period's
    window (30 days for a year); next_due is the earliest unmet due date still ahead."""
    assert status_on(today, events, **fields) == expected


def test_due_soon_windows_by_period() -> None:
    """A month becomes due soon in its last 7 days, a quarter in 14, a semester in 21."""
    assert status_on(D(2026, 8, 24), [], period="month", required=1)[0] is Status.ON_TRACK
    assert status_on(D(2026, 8, 25), [], period="month", required=1)[0] is Status.DUE_SOON
    semester_end = D(2027, 1, 4)
    assert status_on(semester_end - timedelta(days=21), [], period="semester",
                     required=1)[0] is Status.ON_TRACK
    assert status_on(semester_end - timedelta(days=20), [], period="semester",
                     required=1)[0] is Status.DUE_SOON


def test_each_period_lists_its_event_ids() -> None:
    """Every counted event is named in the period it fell in."""
    (req,) = evaluate([pack(rule(period="semester", required=1))], YEAR, LOCKDOWNS,
                      D(2027, 3, 1)).requirements
    assert [p.event_ids for p in req.periods] == [[LOCKDOWNS[0].id], [LOCKDOWNS[1].id]]
    assert (req.required, req.conducted, req.status) == (2, 2, Status.MET)


# ---------------------------------------------------------------- the state packs

def year_of(*events: tuple) -> list[Drill]:
    return [drill(*e[:2], **e[2]) if len(e) == 3 else drill(*e) for e in events]


TX_DRILLS = year_of(
    (D(2026, 8, 20), A.EVACUATE, {"purpose": P.FIRE}),
    (D(2026, 9, 21), A.EVACUATE, {"purpose": P.FIRE}),
    (D(2026, 9, 15), A.LOCKDOWN),
    (D(2026, 10, 10), A.SECURE),
    (D(2026, 11, 1), A.SHELTER, {"hazard": H.TORNADO}),
    (D(2026, 11, 5), A.EVACUATE),  # no purpose: the general evacuation drill
    (D(2026, 11, 6), A.EVACUATE, {"purpose": P.FIRE, "real": True}),
    (D(2026, 11, 7), A.SHELTER, {"hazard": H.HAZMAT, "status": EventStatus.CANCELLED}),
)
NY_DRILLS = year_of(*[(D(2026, 9, 8) + timedelta(weeks=n), A.EVACUATE) for n in range(5)],
                    (D(2026, 10, 20), A.LOCKDOWN), (D(2026, 11, 17), A.LOCKDOWN),
                    (D(2026, 8, 31), A.EVACUATE))  # before September: not one of the eight
IL_DRILLS = year_of((D(2026, 9, 1), A.EVACUATE, {"purpose": P.FIRE}),
                    (D(2026, 10, 6), A.EVACUATE, {"purpose": P.FIRE}),
                    (D(2026, 9, 3), A.EVACUATE, {"purpose": P.BUS}),
                    (D(2026, 11, 16), A.LOCKDOWN))  # a day after its 90 days
OH_DRILLS = year_of((D(2026, 8, 24), A.EVACUATE, {"purpose": P.FIRE}),
                    (D(2026, 9, 14), A.LOCKDOWN),
                    (D(2026, 11, 2), A.EVACUATE, {"purpose": P.BOMB_THREAT}))

# (state, grade band, drills, today) -> {requirement: (conducted, status, next_due)}
STATES = [
    ("tx", None, TX_DRILLS, D(2026, 12, 20), {
        "tx/secure": (1, Status.MET, None),
        "tx/lockdown": (1, Status.ON_TRACK, D(2027, 5, 28)),
        "tx/evacuation": (1, Status.MET, None),
        "tx/shelter_hazmat": (0, Status.ON_TRACK, D(2027, 5, 28)),
        "tx/severe_weather": (1, Status.MET, None),
        "tx/fire": (2, Status.ON_TRACK, D(2027, 5, 28)),
    }),
    ("tx", None, TX_DRILLS, D(2027, 1, 5), {
        "tx/secure": (1, Status.MET, None),
        "tx/lockdown": (1, Status.ON_TRACK, D(2027, 5, 28)),
        "tx/evacuation": (1, Status.MET, None),
        "tx/shelter_hazmat": (0, Status.ON_TRACK, D(2027, 5, 28)),
        "tx/severe_weather": (1, Status.MET, None),
        "tx/fire": (2, Status.ON_TRACK, D(2027, 5, 28)),
    }),
    ("ny", None, NY_DRILLS, D(2026, 12, 15), {
        "ny/evacuation": (6, Status.ON_TRACK, D(2027, 5, 28)),
        "ny/lockdown": (2, Status.ON_TRACK, D(2027, 5, 28)),
        "ny/first_eight": (7, Status.DUE_SOON, D(2026, 12, 31)),
    }),
    ("il", None, IL_DRILLS, D(2026, 11, 20), {
        "il/fire": (2, Status.ON_TRACK, D(2027, 5, 28)),
        "il/bus": (1, Status.MET, None),
        "il/severe_weather": (0, Status.ON_TRACK, D(2027, 5, 28)),
        "il/law_enforcement_lockdown": (0, Status.OVERDUE, None),
    }),
    ("oh", None, OH_DRILLS, D(2026, 11, 20), {
        "oh/fire": (1, Status.ON_TRACK, D(2027, 5, 28)),
        "oh/safety": (2, Status.ON_TRACK, D(2027, 5, 28)),
        "oh/safety_secured": (1, Status.MET, None),
        "oh/monthly": (3, Status.OVERDUE, D(2026, 12, 31)),  # October had none
    }),
    ("ca", GradeBand.ELEMENTARY, year_of(
        (D(2026, 8, 20), A.EVACUATE, {"purpose": P.FIRE}),
        (D(2026, 9, 20), A.EVACUATE, {"purpose": P.FIRE}),
        (D(2026, 9, 30), A.SHELTER, {"hazard": H.EARTHQUAKE})), D(2026, 10, 26), {
        "ca/fire_monthly": (2, Status.DUE_SOON, D(2026, 10, 31)),
        "ca/drop_quarterly": (1, Status.ON_TRACK, D(2027, 1, 4)),
    }),
    ("ca", GradeBand.SECONDARY, year_of(
        (D(2026, 8, 20), A.EVACUATE, {"purpose": P.FIRE}),
        (D(2027, 2, 1), A.SHELTER, {"hazard": H.EARTHQUAKE})), D(2027, 2, 2), {
        "ca/fire_secondary": (1, Status.ON_TRACK, D(2027, 5, 28)),
        "ca/drop_semester": (1, Status.OVERDUE, None),
    }),
]


@pytest.mark.parametrize(("state", "band", "events", "today", "expected"), STATES,
                         ids=[f"{s[0]}-{s[3]}" for s in STATES])
def test_state_packs(state, band, events, today, expected) -> None:
    """Each state's rules applied to a school year of drills give the counts, statuses and
    next due dates worked out by hand from the rule's text."""
    year = msgspec.structs.replace(YEAR, grade_band=band)
    pack_ = state_pack(state.upper())
    assert pack_ is not None
    result = evaluate([pack_], year, events, today)
    assert {r.id: (r.conducted, r.status, r.next_due) for r in result.requirements} == expected
    assert result.skipped == []


def test_rules_for_a_grade_band_wait_for_the_band() -> None:
    """Without a grade band, California's band-specific rules are skipped, saying why."""
    result = evaluate([builtin_packs()["ca"]], YEAR, [], D(2026, 9, 1))
    assert result.requirements == []
    assert [s.id for s in result.skipped] == ["ca/fire_monthly", "ca/fire_secondary",
                                              "ca/drop_quarterly", "ca/drop_semester"]
    assert "grade band" in result.skipped[0].reason


def test_conditions_travel_unverified() -> None:
    """A rule's conditions come out as unverified_conditions, whatever the count."""
    result = evaluate([builtin_packs()["il"]], YEAR, IL_DRILLS, D(2026, 11, 20))
    fire = next(r for r in result.requirements if r.id == "il/fire")
    assert "fire department" in fire.unverified_conditions[0]


def test_a_district_pack_adds_rules_and_replaces_state_ones() -> None:
    """A district replacing tx/fire with monthly fire drills sees its rule, not Texas's."""
    district = pack(rule(id="fire_monthly", period="month", required=1,
                         counts={"actions": ["evacuate"], "purposes": ["fire"]}),
                    replaces=("tx/fire",))
    ids = [r.id for r in evaluate([builtin_packs()["tx"], district], YEAR, TX_DRILLS,
                                  D(2026, 9, 1)).requirements]
    assert "tx/fire" not in ids and "t/fire_monthly" in ids and "tx/lockdown" in ids


def test_every_built_in_pack_cites_and_says_what_was_verified() -> None:
    """Each pack says what was verified and what was not; each rule cites its source."""
    packs = builtin_packs()
    assert {"tx", "ny", "il", "oh", "ca"} <= set(packs)
    for p in packs.values():
        assert p.verified and p.not_verified
        assert all(r.citation for r in p.rules)
    assert "tx/fire" in builtin_rule_refs()
    assert state_pack("WY") is None


@pytest.mark.parametrize(("change", "field"), [
    ({"rules": [rule(), rule()]}, "rules[1].id"),
    ({"rules": [rule(period="semester", deadline="12-31")]}, "rules[0].deadline"),
    ({"rules": [rule(period="month", count_from="09-01")]}, "rules[0].count_from"),
    ({"rules": [rule(deadline="12-31", deadline_days=90)]}, "rules[0].deadline_days"),
    ({"rules": [rule(deadline="02-30")]}, "rules[0].deadline"),
    ({"rules": [rule(deadline="13-01")]}, "rules[0].deadline"),
    ({"rules": [rule(counts={"actions": ["lockdown"], "hazards": ["tornado"]})]},
     "rules[0].counts.hazards"),
    ({"rules": [rule(counts={"actions": ["lockdown"], "purposes": ["fire"]})]},
     "rules[0].counts.purposes"),
    ({"rules": [rule(counts={"actions": ["evacuate"], "purposes": []})]},
     "rules[0].counts.purposes"),
    ({"rules": [rule(counts={"actions": []})]}, "rules[0].counts.actions"),
    ({"rules": [rule(required=0)]}, "rules[0].required"),
    ({"rules": [rule(period="fortnight")]}, "rules[0].period"),
    ({"rules": [rule(id="Fire Drill")]}, "rules[0].id"),
    ({"rules": [rule(surprise=1)]}, "rules[0]"),
    ({"replaces": ["tx/nothing"]}, "replaces[0]"),
    ({"replaces": ["tx"]}, "replaces[0]"),
    ({"id": None}, "id"),
])
def test_a_broken_pack_is_refused_naming_the_field(change: dict, field: str) -> None:
    """Self-contradicting or malformed rules are Invalid, naming where the mistake is."""
    data = {"id": "district", "title": "Ours", "jurisdiction": "District", "rules": []} | change
    with pytest.raises(Invalid) as error:
        parse_pack(data, known_rules=builtin_rule_refs())
    assert error.value.field == field


def test_check_pack_accepts_the_packs_it_made() -> None:
    """A valid pack passes again unchanged (what a stored district pack goes through)."""
    tx = builtin_packs()["tx"]
    assert check_pack(tx) is tx


# ---------------------------------------------------------------- properties

KINDS = st.sampled_from([(A.EVACUATE, None, P.FIRE), (A.EVACUATE, None, None),
                         (A.LOCKDOWN, None, None), (A.SHELTER, H.TORNADO, None)])
DAYS = st.dates(YEAR.first_day - timedelta(days=20), YEAR.last_day + timedelta(days=20))


@given(st.lists(st.tuples(DAYS, KINDS, st.booleans()), max_size=40),
       st.sampled_from(PeriodKind), st.integers(1, 3),
       st.dates(YEAR.first_day, YEAR.last_day))
def test_counting_is_a_partition(events, kind: PeriodKind, required: int, today: date) -> None:
    """Every matching event inside the school year is counted in exactly one period, none
    outside it; a period is met exactly when it counted enough."""
    drills = [drill(day, action, hazard, purpose, real=real)
              for day, (action, hazard, purpose), real in events]
    evac = rule(period=kind.value, required=required,
                counts={"actions": ["evacuate"], "purposes": ["fire"]})
    (req,) = evaluate([pack(evac)], YEAR, drills, today).requirements
    counted = [i for p in req.periods for i in p.event_ids]
    expected = {d.id for d in drills if d.purpose is P.FIRE and d.drill
                and YEAR.first_day <= d.day <= YEAR.last_day}
    assert sorted(counted) == sorted(expected)
    assert all((p.status is Status.MET) is (p.conducted >= p.required) for p in req.periods)
    assert req.conducted == len(counted)
