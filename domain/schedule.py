"""A school's bell schedule: which period it is at a moment, so that each room's
expected students are those of the class meeting there (else their homeroom).

A schedule has day types ("regular", "early release"), each with the weekdays it is
used on, dates it is used on whatever the weekday (they win over weekdays), and its
periods' times in the school's time zone. A period's name is what the roster's classes
list in their `periods` ("1", "2", "A").

At a moment: the period in progress; between two periods (passing time), the one that
just ended, because a room's students left it only a minute ago and its teacher is still
there with them; before the first period, after the last, or on a day with no day type,
none, and students are expected in their homeroom.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated

import msgspec

from domain.errors import Invalid
from domain.text import NO_NUL
from domain.values import Value

PeriodName = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NO_NUL,
                                         examples=["1", "A", "Advisory"])]
DayTypeName = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=NO_NUL,
                                          examples=["regular", "early release"])]
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                                        examples=["08:05"], description="HH:MM, 24-hour")]
Weekday = Annotated[int, msgspec.Meta(ge=1, le=7, description="ISO weekday: 1 Monday .. 7 Sunday")]
MAX_DAY_TYPES, MAX_PERIODS, MAX_DATES = 20, 30, 400


class Period(Value, forbid_unknown_fields=True):
    """A period and its times (local to the school), `starts` before `ends`."""

    name: PeriodName
    starts: ClockTime
    ends: ClockTime


class DayType(Value, kw_only=True, forbid_unknown_fields=True):
    name: DayTypeName
    weekdays: Annotated[tuple[Weekday, ...], msgspec.Meta(max_length=7)] = ()
    dates: Annotated[tuple[date, ...], msgspec.Meta(max_length=MAX_DATES)] = ()
    periods: Annotated[tuple[Period, ...], msgspec.Meta(min_length=1, max_length=MAX_PERIODS)]


class BellSchedule(Value, forbid_unknown_fields=True):
    """The whole schedule, as sent and stored; a misspelt field is refused, never taken
    for one left out (a day type without `weekdays` would never be used)."""

    day_types: Annotated[tuple[DayType, ...], msgspec.Meta(max_length=MAX_DAY_TYPES)]


def check(schedule: BellSchedule) -> None:
    """Refuse a schedule that would leave a moment's period to chance: two day types on
    one weekday or one date, a day type's names repeated, a period that ends before it
    starts, periods that overlap."""
    _unique([d.name for d in schedule.day_types], "day_types", "day type")
    _unique([w for d in schedule.day_types for w in d.weekdays], "weekdays", "weekday")
    _unique([x.isoformat() for d in schedule.day_types for x in d.dates], "dates", "date")
    for number, day in enumerate(schedule.day_types):
        _unique([p.name for p in day.periods], f"day_types[{number}].periods", "period")
        _check_periods(day.periods, f"day_types[{number}].periods")


def _unique(values: Sequence[object], field: str, what: str) -> None:
    seen: set[object] = set()
    for value in values:
        if value in seen:
            raise Invalid(f"{what} {value} appears twice", field=field)
        seen.add(value)


def _check_periods(periods: Sequence[Period], field: str) -> None:
    ordered = sorted(periods, key=lambda p: p.starts)  # HH:MM sorts as times do
    for period in ordered:
        if period.ends <= period.starts:
            raise Invalid(f"period {period.name} ends at {period.ends} before it starts at "
                          f"{period.starts}", field=field)
    for before, after in itertools.pairwise(ordered):
        if after.starts < before.ends:
            raise Invalid(f"periods {before.name} and {after.name} overlap", field=field)


def day_type_on(schedule: BellSchedule, day: date) -> DayType | None:
    """The day type used on a date: the one listing the date, else the weekday's."""
    for day_type in schedule.day_types:
        if day in day_type.dates:
            return day_type
    for day_type in schedule.day_types:
        if day.isoweekday() in day_type.weekdays:
            return day_type
    return None


def period_at(schedule: BellSchedule, local: datetime) -> str | None:
    """The period whose students a room expects at a local (school time zone) moment:
    the one in progress, else in passing time the one that just ended; None before the
    first period, after the last, or on a day without a day type."""
    day_type = day_type_on(schedule, local.date())
    if day_type is None:
        return None
    now = local.strftime("%H:%M")
    ordered = sorted(day_type.periods, key=lambda p: p.starts)
    if not ordered or now < ordered[0].starts or now >= ordered[-1].ends:
        return None
    started = [p for p in ordered if p.starts <= now]
    return started[-1].name
