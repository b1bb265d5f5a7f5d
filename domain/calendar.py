"""A school year's dates: first and last day, the semesters, and the periods rules count in.

A school year is named by its two calendar years, "2026-2027", and starts in the first
of them. A school that has not set its dates gets a default built from its
`school_year_start` (month and day): the year runs from that day to the day before it
comes round again, and the second semester starts halfway. Every date here is a date
in the school's own time zone.
"""

from __future__ import annotations

import calendar as _months
import re
from datetime import date, timedelta
from enum import StrEnum

from domain.errors import Invalid
from domain.values import Value

_YEAR = re.compile(r"^([0-9]{4})-([0-9]{4})$")
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
MIN_SEMESTER_DAYS = 30


def parse_school_year(text: str, field: str = "school_year") -> int:
    """The first calendar year of "2026-2027"; anything else is Invalid naming `field`."""
    match = _YEAR.match(text)
    if match is None:
        raise Invalid(f"{text!r} is not a school year; write it as two consecutive years, "
                      "e.g. 2026-2027", field=field)
    start, end = int(match[1]), int(match[2])
    if end != start + 1:
        raise Invalid(f"{text!r}: a school year spans two consecutive years, e.g. "
                      f"{start}-{start + 1}", field=field)
    if not EARLIEST_YEAR <= start <= LATEST_YEAR:
        raise Invalid(f"{text!r} is out of range ({EARLIEST_YEAR}..{LATEST_YEAR + 1})",
                      field=field)
    return start


def year_label(start: int) -> str:
    return f"{start}-{start + 1}"


class Source(StrEnum):
    """Whether a school year's dates were set by the school or derived by default."""

    SCHOOL = "school"
    DEFAULT = "default"


class GradeBand(StrEnum):
    """What some states' rules depend on (California: fire drills monthly in elementary
    and intermediate schools, twice a year in secondary ones)."""

    ELEMENTARY = "elementary"
    INTERMEDIATE = "intermediate"
    SECONDARY = "secondary"


class SchoolYear(Value, kw_only=True):
    """One school's dates for one school year; the second semester runs from
    `second_semester_start` to `last_day`, the first up to the day before it."""

    start_year: int
    first_day: date
    last_day: date
    second_semester_start: date
    grade_band: GradeBand | None = None
    source: Source = Source.DEFAULT


class Period(Value):
    """A stretch of the school year that a rule counts drills in, both ends included."""

    label: str
    start: date
    end: date


def _on(year: int, month: int, day: int) -> date:
    """`month`/`day` in `year`, a day past the month's end moved to its last day."""
    return date(year, month, min(day, _months.monthrange(year, month)[1]))


def _halfway(first: date, last: date) -> date:
    """The day that starts the second half of [first, last]."""
    return first + timedelta(days=((last - first).days + 1) // 2)


def default_year(start_year: int, start_month: int, start_day: int) -> SchoolYear:
    """The year a school gets without dates of its own: from its school-year start to the
    day before the next one, the second semester starting halfway."""
    first = _on(start_year, start_month, start_day)
    last = _on(start_year + 1, start_month, start_day) - timedelta(days=1)
    return SchoolYear(start_year=start_year, first_day=first, last_day=last,
                      second_semester_start=_halfway(first, last))


def school_year(
    default: SchoolYear, *, first_day: date | None = None, last_day: date | None = None,
    second_semester_start: date | None = None, grade_band: GradeBand | None = None,
) -> SchoolYear:
    """A school's own dates for the year; a date not given keeps the default's (the
    second semester then starts halfway between the first and last day)."""
    first = first_day or default.first_day
    last = last_day or default.last_day
    second = second_semester_start or _halfway(first, last)
    year = default.start_year
    label = year_label(year)
    if first.year != year:
        raise Invalid(f"the first day of school year {label} must be in {year}",
                      field="first_day")
    if last <= first:
        raise Invalid("the last day must come after the first day", field="last_day")
    if (last - first).days > 365:
        raise Invalid(f"school year {label} cannot be longer than a year "
                      f"({first.isoformat()} to {last.isoformat()})", field="last_day")
    if (second - first).days < MIN_SEMESTER_DAYS or (last - second).days + 1 < \
            MIN_SEMESTER_DAYS:
        raise Invalid(f"the second semester must start at least {MIN_SEMESTER_DAYS} days "
                      "after the first day and leave it at least as many days before the "
                      "last", field="second_semester_start")
    return SchoolYear(start_year=year, first_day=first, last_day=last,
                      second_semester_start=second, grade_band=grade_band,
                      source=Source.SCHOOL)


def log_window(year: SchoolYear, default: SchoolYear) -> tuple[date, date]:
    """The days whose events belong to this school year's drill log: the default span
    (so that every event is in some year's log, summer school included), stretched to
    the school's own first and last day when those lie outside it."""
    return min(year.first_day, default.first_day), max(year.last_day, default.last_day)


class PeriodKind(StrEnum):
    """How a rule splits the school year: counts are required in each period."""

    YEAR = "year"
    SEMESTER = "semester"
    QUARTER = "quarter"
    MONTH = "month"


def _halves(period: Period, labels: tuple[str, str]) -> list[Period]:
    second = _halfway(period.start, period.end)
    return [Period(labels[0], period.start, second - timedelta(days=1)),
            Period(labels[1], second, period.end)]


def _months_of(year: SchoolYear) -> list[Period]:
    periods, start = [], year.first_day
    while start <= year.last_day:
        month_end = _on(start.year, start.month, 31)
        end = min(month_end, year.last_day)
        periods.append(Period(f"{start:%Y-%m}", start, end))
        start = end + timedelta(days=1)
    return periods


def periods(year: SchoolYear, kind: PeriodKind) -> list[Period]:
    """The periods of `kind` in the school year, in order, covering it without gaps.
    Quarters halve each semester."""
    whole = Period(year_label(year.start_year), year.first_day, year.last_day)
    if kind is PeriodKind.YEAR:
        return [whole]
    if kind is PeriodKind.MONTH:
        return _months_of(year)
    semesters = [Period("S1", year.first_day, year.second_semester_start - timedelta(days=1)),
                 Period("S2", year.second_semester_start, year.last_day)]
    if kind is PeriodKind.SEMESTER:
        return semesters
    return _halves(semesters[0], ("Q1", "Q2")) + _halves(semesters[1], ("Q3", "Q4"))


def month_day(text: str, year: SchoolYear) -> date:
    """A "MM-DD" of a rule read in this school year: in its first calendar year when the
    month is the first day's month or later, else in the next (so "12-31" is this
    December and "03-31" next March, and "09-01" is the September school starts in)."""
    month, day = int(text[:2]), int(text[3:])
    in_year = year.start_year if month >= year.first_day.month else year.start_year + 1
    return _on(in_year, month, day)

