"""Drill compliance: rule packs as data, and what a school's drills add up to.

A rule pack holds one jurisdiction's drill requirements (domain/compliance_rules/*.toml,
one per state, or a district's own pack stored in the database), each rule citing its
statute. A rule says which events count (actions, a shelter's hazards, an evacuation's
purposes, drills only or real events too), how many are required in each period of the
school year (year, semester, quarter, month) and by when: the end of the period, a date
("12-31"), or a number of days after the period starts. Conditions that need facts Muster
does not check (a fire official present, students in class) travel with the result as
`unverified_conditions`.

`evaluate` is pure: it takes the packs, the school year's dates, the school's events
and today (in the school's time zone), and returns one requirement per rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

import msgspec

from domain.calendar import GradeBand, Period, PeriodKind, SchoolYear, month_day, periods
from domain.errors import Invalid
from domain.srp import Action, EventStatus, Hazard, Purpose
from domain.values import Value

_NO_NUL = r"^[^\x00]*$"
Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_]{0,39}$",
                                   description="lower-case letters, digits and _")]
RuleRef = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_]{0,39}/[a-z0-9][a-z0-9_]{0,39}$",
                                      description="pack/rule, e.g. tx/fire")]
Words = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=_NO_NUL)]
MonthDay = Annotated[str, msgspec.Meta(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
                                       description="MM-DD, read in the school year")]


class Counts(Value, kw_only=True, forbid_unknown_fields=True):
    """Which events count: an ended (all-clear) event whose action is listed; a shelter's
    hazard and an evacuation's purpose must be listed when a list is given, and an
    evacuation's purpose must not be excluded (an evacuation without one is never
    excluded). Real events count only if `real_events`."""

    actions: Annotated[list[Action], msgspec.Meta(min_length=1)]
    hazards: list[Hazard] | None = None
    purposes: list[Purpose] | None = None
    exclude_purposes: list[Purpose] = msgspec.field(default_factory=list)
    real_events: bool = False


class Rule(Value, kw_only=True, forbid_unknown_fields=True):
    """`required` events in each `period`, due at the period's end unless `deadline`
    (a MM-DD in the school year; period `year` only) or `deadline_days` (days after the
    period starts) says otherwise; only events from `count_from` (MM-DD; period `year`
    only) up to the due date count. `grade_bands` limits the rule to those schools."""

    id: Slug
    title: Words
    citation: Words
    counts: Counts
    period: PeriodKind
    required: Annotated[int, msgspec.Meta(ge=1, le=100)]
    deadline: MonthDay | None = None
    deadline_days: Annotated[int, msgspec.Meta(ge=1, le=366)] | None = None
    count_from: MonthDay | None = None
    grade_bands: list[GradeBand] | None = None
    conditions: Annotated[list[Words], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list)
    note: Words | None = None


class RulePack(Value, kw_only=True, forbid_unknown_fields=True):
    """One jurisdiction's rules; `verified` and `not_verified` say what of the cited
    texts was checked. A district's pack may `replace` rules of the state packs
    ("tx/fire" when the fire marshal set another schedule)."""

    id: Slug
    title: Words
    jurisdiction: Words
    rules: Annotated[list[Rule], msgspec.Meta(max_length=200)]
    replaces: Annotated[list[RuleRef], msgspec.Meta(max_length=200)] = msgspec.field(
        default_factory=list)
    verified: Annotated[list[Words], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list)
    not_verified: Annotated[list[Words], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list)


def _check_month_day(text: str | None, field: str) -> None:
    if text is None:
        return
    try:
        date(2000, int(text[:2]), int(text[3:]))  # a leap year: 02-29 is a date
    except ValueError:
        raise Invalid(f"{text} is not a day of the year", field=field) from None


def _check_rule(rule: Rule, at: str) -> None:
    """What the types cannot say about one rule; `at` names it, e.g. rules[2]."""
    if rule.period is not PeriodKind.YEAR:
        for name in ("deadline", "count_from"):
            if getattr(rule, name) is not None:
                raise Invalid(f"{name} is a day of the school year: it needs period = "
                              f"'year', not {rule.period!r}", field=f"{at}.{name}")
    if rule.deadline is not None and rule.deadline_days is not None:
        raise Invalid("give a deadline or deadline_days, not both", field=f"{at}.deadline_days")
    _check_month_day(rule.deadline, f"{at}.deadline")
    _check_month_day(rule.count_from, f"{at}.count_from")
    counts = rule.counts
    needs = {"hazards": (counts.hazards, Action.SHELTER),
             "purposes": (counts.purposes, Action.EVACUATE),
             "exclude_purposes": (counts.exclude_purposes, Action.EVACUATE)}
    for name, (values, action) in needs.items():
        if values and action not in counts.actions:
            raise Invalid(f"{name} apply to {action} only; add it to actions",
                          field=f"{at}.counts.{name}")
        if values == [] and name != "exclude_purposes":
            raise Invalid(f"{name} is empty: nothing could count", field=f"{at}.counts.{name}")


def check_pack(pack: RulePack, known_rules: Iterable[str] = ()) -> RulePack:
    """Refuse a pack whose rules contradict themselves; a district pack may replace only
    rules that exist (`known_rules`, as "pack/rule")."""
    seen: set[str] = set()
    for n, rule in enumerate(pack.rules):
        if rule.id in seen:
            raise Invalid(f"two rules are called {rule.id!r}", field=f"rules[{n}].id")
        seen.add(rule.id)
        _check_rule(rule, f"rules[{n}]")
    known = set(known_rules)
    for n, ref in enumerate(pack.replaces):
        if ref not in known:
            raise Invalid(f"there is no rule {ref!r} to replace", field=f"replaces[{n}]")
    return pack


def parse_pack(data: object, known_rules: Iterable[str] = ()) -> RulePack:
    """A pack from parsed TOML or JSON; Invalid (naming the field) when it is not one."""
    try:
        pack = msgspec.convert(data, RulePack)
    except msgspec.ValidationError as exc:
        text, _, where = str(exc).partition(" - at `$")
        raise Invalid(text, field=where.rstrip("`").lstrip(".") or "pack") from None
    return check_pack(pack, known_rules)


# ---------------------------------------------------------------- evaluation

class Drill(Value, kw_only=True):
    """What compliance needs of an event: its local start day and its kind."""

    id: uuid.UUID
    day: date
    action: Action
    hazard: Hazard | None
    purpose: Purpose | None
    drill: bool
    status: EventStatus


class Status(StrEnum):
    """Where a requirement stands today, from best to worst."""

    MET = "met"
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


_RANK = {status: n for n, status in enumerate(Status)}

# How close to its due date an unmet period becomes due_soon, by period length.
DUE_SOON_DAYS: dict[PeriodKind, int] = {
    PeriodKind.YEAR: 30, PeriodKind.SEMESTER: 21, PeriodKind.QUARTER: 14, PeriodKind.MONTH: 7,
}


class PeriodResult(Value, kw_only=True):
    """One period of a requirement: events counted from `counts_from` to `due`."""

    label: str
    start: date
    end: date
    counts_from: date
    due: date
    required: int
    conducted: int
    event_ids: list[uuid.UUID]
    status: Status


class Requirement(Value, kw_only=True):
    """A rule applied to one school year: totals over its periods, the worst period's
    status, and the earliest due date still ahead of an unmet period."""

    id: str  # pack/rule
    title: str
    citation: str
    period: PeriodKind
    required: int
    conducted: int
    status: Status
    next_due: date | None
    periods: list[PeriodResult]
    unverified_conditions: list[str]
    note: str | None


class Skipped(Value, kw_only=True):
    """A rule that could not be applied, and what the school would have to set."""

    id: str
    title: str
    reason: str


class Evaluation(Value, kw_only=True):
    requirements: list[Requirement]
    skipped: list[Skipped]

    @property
    def status(self) -> Status | None:
        """The worst requirement's status; None when no rule applies."""
        return worst(r.status for r in self.requirements)


def worst(statuses: Iterable[Status]) -> Status | None:
    return max(statuses, key=_RANK.__getitem__, default=None)


def counts_toward(counts: Counts, drill: Drill) -> bool:
    """Whether an event counts for a rule (before the period's dates are considered)."""
    return (drill.status is EventStatus.ALL_CLEAR
            and (drill.drill or counts.real_events)
            and drill.action in counts.actions
            and (counts.hazards is None or drill.action is not Action.SHELTER
                 or drill.hazard in counts.hazards)
            and (drill.action is not Action.EVACUATE
                 or ((counts.purposes is None or drill.purpose in counts.purposes)
                     and drill.purpose not in counts.exclude_purposes)))


def _status(required: int, conducted: int, due: date, today: date, soon_days: int) -> Status:
    if conducted >= required:
        return Status.MET
    if today > due:
        return Status.OVERDUE
    return Status.DUE_SOON if (due - today).days < soon_days else Status.ON_TRACK


def _period(rule: Rule, period: Period, year: SchoolYear, drills: Sequence[Drill],
            today: date) -> PeriodResult:
    if rule.deadline is not None:
        due = month_day(rule.deadline, year)
    elif rule.deadline_days is not None:
        due = period.start + timedelta(days=rule.deadline_days)
    else:
        due = period.end
    start = month_day(rule.count_from, year) if rule.count_from else period.start
    ids = [d.id for d in drills if start <= d.day <= due]
    return PeriodResult(label=period.label, start=period.start, end=period.end,
                        counts_from=start, due=due, required=rule.required,
                        conducted=len(ids), event_ids=ids,
                        status=_status(rule.required, len(ids), due, today,
                                       DUE_SOON_DAYS[rule.period]))


def requirement(pack: RulePack, rule: Rule, year: SchoolYear, drills: Sequence[Drill],
                today: date) -> Requirement:
    """One rule over the school year: each period's count and status."""
    counted = [d for d in drills if counts_toward(rule.counts, d)]
    results = [_period(rule, p, year, counted, today) for p in periods(year, rule.period)]
    ahead = [p.due for p in results if p.status is not Status.MET and p.due >= today]
    return Requirement(
        id=f"{pack.id}/{rule.id}", title=rule.title, citation=rule.citation,
        period=rule.period, required=sum(p.required for p in results),
        conducted=sum(p.conducted for p in results),
        status=worst(p.status for p in results) or Status.MET,
        next_due=min(ahead, default=None), periods=results,
        unverified_conditions=list(rule.conditions), note=rule.note)


_NEEDS_BAND = ("depends on the school's grade band ({bands}); set grade_band for this "
               "school year")


def evaluate(packs: Sequence[RulePack], year: SchoolYear, drills: Sequence[Drill],
             today: date) -> Evaluation:
    """Every rule of `packs` that applies to the school, less those a pack replaces; a
    rule for certain grade bands is skipped (and says why) while the band is unknown."""
    replaced = {ref for pack in packs for ref in pack.replaces}
    requirements, skipped = [], []
    for pack in packs:
        for rule in pack.rules:
            ref = f"{pack.id}/{rule.id}"
            if ref in replaced:
                continue
            if rule.grade_bands is not None and year.grade_band is None:
                bands = ", ".join(rule.grade_bands)
                skipped.append(Skipped(id=ref, title=rule.title,
                                       reason=_NEEDS_BAND.format(bands=bands)))
            elif rule.grade_bands is None or year.grade_band in rule.grade_bands:
                requirements.append(requirement(pack, rule, year, drills, today))
    return Evaluation(requirements=requirements, skipped=skipped)
