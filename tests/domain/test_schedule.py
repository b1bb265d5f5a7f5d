"""Which period it is: the bell schedule's rules for a moment."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
import pytest

from domain.errors import Invalid
from domain.schedule import BellSchedule, check, day_type_on, period_at

REGULAR = {"name": "regular", "weekdays": [1, 2, 3, 4, 5], "periods": [
    {"name": "1", "starts": "08:00", "ends": "08:50"},
    {"name": "2", "starts": "08:55", "ends": "09:45"}]}
EARLY = {"name": "early release", "dates": ["2026-12-04"], "periods": [
    {"name": "1", "starts": "08:00", "ends": "08:30"},
    {"name": "2", "starts": "08:35", "ends": "09:05"}]}


def schedule(*day_types: dict) -> BellSchedule:
    return msgspec.convert({"day_types": list(day_types)}, BellSchedule)


@pytest.mark.parametrize(("at", "period"), [
    ("07:59", None),  # before the first period: homerooms
    ("08:00", "1"), ("08:49", "1"),
    ("08:52", "1"),  # passing time: the room just left
    ("08:55", "2"), ("09:44", "2"),
    ("09:45", None),  # after the last
])
def test_a_weekday_moment_is_in_its_period(at, period):
    hour, minute = map(int, at.split(":"))
    assert period_at(schedule(REGULAR), datetime(2026, 12, 3, hour, minute)) == period


def test_a_date_wins_over_its_weekday_and_a_day_without_a_type_has_no_period():
    both = schedule(REGULAR, EARLY)
    assert day_type_on(both, date(2026, 12, 4)).name == "early release"  # a Friday
    assert period_at(both, datetime(2026, 12, 4, 8, 40)) == "2"
    assert period_at(both, datetime(2026, 12, 5, 8, 40)) is None  # a Saturday


@pytest.mark.parametrize(("day_types", "words"), [
    ([REGULAR, {**EARLY, "weekdays": [5]}], "weekday 5 appears twice"),
    ([REGULAR, {**EARLY, "name": "regular"}], "day type regular appears twice"),
    ([{**REGULAR, "periods": [{"name": "1", "starts": "09:00", "ends": "08:00"}]}],
     "period 1 ends at 08:00 before it starts at 09:00"),
    ([{**REGULAR, "periods": [{"name": "1", "starts": "08:00", "ends": "09:00"},
                              {"name": "2", "starts": "08:30", "ends": "10:00"}]}],
     "periods 1 and 2 overlap"),
    ([EARLY, {**EARLY, "name": "other"}], "date 2026-12-04 appears twice"),
])
def test_a_schedule_that_leaves_a_moment_to_chance_is_refused(day_types, words):
    with pytest.raises(Invalid, match=words):
        check(schedule(*day_types))


def test_times_are_24_hour_minutes():
    with pytest.raises(msgspec.ValidationError):
        schedule({**REGULAR, "periods": [{"name": "1", "starts": "8:00", "ends": "08:50"}]})
