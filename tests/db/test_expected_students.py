"""Who a room expects at a period of a day: their class's room then, else their homeroom;
a class with terms meets only on their days."""

from __future__ import annotations

from datetime import date

from db.students import expected_students
from tests import factories


async def test_a_student_is_expected_in_their_class_at_its_period_else_their_homeroom(db):
    school = await factories.staffed_school(db, room_count=3)
    home, lab, gym = school["rooms"]
    alice, bob = await factories.students(db, school["id"], 2, homeroom_id=home)
    [carol] = await factories.students(db, school["id"], 1)  # no homeroom
    await factories.school_class(db, school["id"], lab, ["1", "3"], [alice, carol])
    await factories.school_class(db, school["id"], None, ["2"], [bob])  # no room: homeroom
    await db.execute("update students set active = false where id = $1", bob)

    day = date(2026, 11, 30)

    async def rooms(period, room=None):
        return {s.id: s.room_id for s in await expected_students(db, school["id"], period,
                                                                 day, room)}

    assert await rooms("1") == {alice: lab, carol: lab}
    assert await rooms("2") == {alice: home, carol: None}
    assert await rooms(None) == {alice: home, carol: None}
    assert [s.id for s in await expected_students(db, school["id"], "3", day, lab)] == [
        alice, carol]
    assert await rooms("3", gym) == {}


async def test_a_class_with_terms_meets_only_on_their_days(db):
    """Both ends of a term are its days; an empty set of terms is no day."""
    school = await factories.staffed_school(db, room_count=2)
    home, lab = school["rooms"]
    alice, bob = await factories.students(db, school["id"], 2, homeroom_id=home)
    fall = await factories.school_class(db, school["id"], lab, ["1"], [alice])
    never = await factories.school_class(db, school["id"], lab, ["1"], [bob])
    await db.execute("update classes set terms = '{[2026-08-01,2026-12-18]}' where id = $1",
                     fall)
    await db.execute("update classes set terms = '{}' where id = $1", never)

    async def rooms(day):
        return {s.id: s.room_id for s in await expected_students(db, school["id"], "1", day)}

    assert await rooms(date(2026, 8, 1)) == {alice: lab, bob: home}
    assert await rooms(date(2026, 12, 18)) == {alice: lab, bob: home}
    assert await rooms(date(2026, 12, 19)) == {alice: home, bob: home}


async def test_an_enrollment_counts_only_between_its_dates(db):
    """Alice moved from the lab's period-1 class (last day 15 October) to the gym's (first
    day 16 October); both days are hers. Bob's enrollment has no dates: every day."""
    school = await factories.staffed_school(db, room_count=3)
    home, lab, gym = school["rooms"]
    alice, bob = await factories.students(db, school["id"], 2, homeroom_id=home)
    left = await factories.school_class(db, school["id"], lab, ["1"], [alice, bob])
    joined = await factories.school_class(db, school["id"], gym, ["1"], [alice])
    await db.execute("update enrollments set ends = '2026-10-15' where class_id = $1 and "
                     "student_id = $2", left, alice)
    await db.execute("update enrollments set begins = '2026-10-16' where class_id = $1",
                     joined)

    async def rooms(day):
        return {s.id: s.room_id for s in await expected_students(db, school["id"], "1", day)}

    assert await rooms(date(2026, 10, 15)) == {alice: lab, bob: lab}
    assert await rooms(date(2026, 10, 16)) == {alice: gym, bob: lab}
