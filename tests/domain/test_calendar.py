"""School years: their names, default dates, a school's own dates and the periods in them."""

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import (
    GradeBand,
    PeriodKind,
    Source,
    default_year,
    log_window,
    month_day,
    parse_school_year,
    periods,
    school_year,
)
from domain.errors import Invalid

D = date


@pytest.mark.parametrize(("text", "start"), [("2026-2027", 2026), ("1999-2000", 1999),
                                             ("2199-2200", 2199)])
def test_a_school_year_is_two_consecutive_years(text: str, start: int) -> None:
    """"2026-2027" names the school year that starts in 2026."""
    assert parse_school_year(text) == start


@pytest.mark.parametrize("text", ["2026", "2026-2028", "2027-2026", "abc", "2026-27",
                                  "2026/2027", " 2026-2027", "2026-2027x", "1899-1900",
                                  "2200-2201", "٢٠٢٦-٢٠٢٧", ""])
def test_anything_else_is_invalid_naming_the_field(text: str) -> None:
    """A malformed or out-of-range school year is refused, naming the field."""
    with pytest.raises(Invalid) as error:
        parse_school_year(text, field="school_year")
    assert error.value.field == "school_year"


@pytest.mark.parametrize(("month", "day", "first", "last", "second"), [
    (8, 1, D(2026, 8, 1), D(2027, 7, 31), D(2027, 1, 30)),
    (7, 1, D(2026, 7, 1), D(2027, 6, 30), D(2026, 12, 30)),
    (9, 15, D(2026, 9, 15), D(2027, 9, 14), D(2027, 3, 16)),
    (2, 30, D(2026, 2, 28), D(2027, 2, 27), D(2026, 8, 29)),  # day past the month's end
])
def test_default_year_runs_from_the_start_to_the_day_before_the_next(
        month: int, day: int, first: date, last: date, second: date) -> None:
    """Without dates of its own a school's year spans start to start; semester 2 halfway."""
    year = default_year(2026, month, day)
    assert (year.first_day, year.last_day, year.second_semester_start) == (first, last, second)
    assert year.source is Source.DEFAULT and year.grade_band is None


DEFAULT = default_year(2026, 8, 1)


def test_own_dates_keep_the_defaults_not_given() -> None:
    """A school that sets only its first and last day gets semester 2 halfway between."""
    year = school_year(DEFAULT, first_day=D(2026, 8, 17), last_day=D(2027, 5, 28),
                       grade_band=GradeBand.ELEMENTARY)
    assert year.second_semester_start == D(2027, 1, 6)
    assert year.source is Source.SCHOOL and year.grade_band is GradeBand.ELEMENTARY
    assert school_year(DEFAULT).first_day == DEFAULT.first_day


@pytest.mark.parametrize(("dates", "field"), [
    ({"first_day": D(2027, 8, 1)}, "first_day"),
    ({"first_day": D(2025, 8, 1)}, "first_day"),
    ({"first_day": D(2026, 8, 20), "last_day": D(2026, 8, 20)}, "last_day"),
    ({"first_day": D(2026, 8, 20), "last_day": D(2026, 8, 1)}, "last_day"),
    ({"first_day": D(2026, 1, 1), "last_day": D(2027, 1, 2)}, "last_day"),
    ({"second_semester_start": D(2026, 8, 30)}, "second_semester_start"),
    ({"second_semester_start": D(2027, 7, 3)}, "second_semester_start"),
    ({"second_semester_start": D(2026, 7, 1)}, "second_semester_start"),
])
def test_impossible_dates_are_refused_naming_the_field(dates: dict, field: str) -> None:
    """A first day outside the year, an end before the start, a year longer than a year or
    a semester shorter than 30 days is refused, naming the field."""
    with pytest.raises(Invalid) as error:
        school_year(DEFAULT, **dates)
    assert error.value.field == field


def test_log_window_is_the_default_span_stretched_to_the_schools_own_days() -> None:
    """Summer events stay in some year's log; a first day before the default start too."""
    own = school_year(DEFAULT, first_day=D(2026, 8, 17), last_day=D(2027, 5, 28))
    assert log_window(own, DEFAULT) == (D(2026, 8, 1), D(2027, 7, 31))
    early = school_year(DEFAULT, first_day=D(2026, 7, 27), last_day=D(2027, 5, 28))
    assert log_window(early, DEFAULT) == (D(2026, 7, 27), D(2027, 7, 31))


YEAR = school_year(DEFAULT, first_day=D(2026, 8, 17), last_day=D(2027, 5, 28),
                   second_semester_start=D(2027, 1, 5))


@pytest.mark.parametrize(("kind", "expected"), [
    (PeriodKind.YEAR, [("2026-2027", D(2026, 8, 17), D(2027, 5, 28))]),
    (PeriodKind.SEMESTER, [("S1", D(2026, 8, 17), D(2027, 1, 4)),
                           ("S2", D(2027, 1, 5), D(2027, 5, 28))]),
    (PeriodKind.QUARTER, [("Q1", D(2026, 8, 17), D(2026, 10, 25)),
                          ("Q2", D(2026, 10, 26), D(2027, 1, 4)),
                          ("Q3", D(2027, 1, 5), D(2027, 3, 17)),
                          ("Q4", D(2027, 3, 18), D(2027, 5, 28))]),
])
def test_periods(kind: PeriodKind, expected: list) -> None:
    """A year is one period, two semesters, four quarters (each semester halved)."""
    assert [(p.label, p.start, p.end) for p in periods(YEAR, kind)] == expected


def test_months_are_calendar_months_cut_to_the_school_year() -> None:
    """The first and last month are cut at the first and last day."""
    months = periods(YEAR, PeriodKind.MONTH)
    assert [m.label for m in months] == ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12",
                                         "2027-01", "2027-02", "2027-03", "2027-04", "2027-05"]
    assert (months[0].start, months[0].end) == (D(2026, 8, 17), D(2026, 8, 31))
    assert (months[5].start, months[5].end) == (D(2027, 1, 1), D(2027, 1, 31))
    assert (months[-1].start, months[-1].end) == (D(2027, 5, 1), D(2027, 5, 28))


@pytest.mark.parametrize(("text", "day"), [("12-31", D(2026, 12, 31)), ("09-01", D(2026, 9, 1)),
                                           ("08-01", D(2026, 8, 1)), ("03-31", D(2027, 3, 31)),
                                           ("07-31", D(2027, 7, 31)), ("02-29", D(2027, 2, 28))])
def test_month_day_is_read_in_the_school_year(text: str, day: date) -> None:
    """From the first day's month on it is this year, before it next year (Feb 29 in a
    common year is Feb 28)."""
    assert month_day(text, YEAR) == day


@st.composite
def school_years(draw: st.DrawFn):
    start = draw(st.integers(2000, 2100))
    default = default_year(start, draw(st.integers(1, 12)), draw(st.integers(1, 31)))
    first = draw(st.dates(D(start, 1, 1), D(start, 12, 31)))
    last = first + timedelta(days=draw(st.integers(60, 365)))
    second = first + timedelta(days=draw(st.integers(30, (last - first).days - 29)))
    return school_year(default, first_day=first, last_day=last, second_semester_start=second)


@given(school_years(), st.sampled_from(PeriodKind))
def test_periods_cover_the_year_in_order_without_gaps(year, kind: PeriodKind) -> None:
    """Whatever the dates, a kind's periods are non-empty and tile first..last day."""
    found = periods(year, kind)
    assert found[0].start == year.first_day and found[-1].end == year.last_day
    assert all(p.start <= p.end for p in found)
    assert all(b.start == a.end + timedelta(days=1) for a, b in itertools.pairwise(found))
