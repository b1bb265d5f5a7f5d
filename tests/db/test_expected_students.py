"""Who a room expects at a period: their class's room then, else their homeroom."""

from __future__ import annotations

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

    def rooms(found):
        return {s.id: s.room_id for s in found}

    assert rooms(await expected_students(db, school["id"], "1")) == {alice: lab, carol: lab}
    assert rooms(await expected_students(db, school["id"], "2")) == {alice: home, carol: None}
    assert rooms(await expected_students(db, school["id"], None)) == {alice: home, carol: None}
    assert [s.id for s in await expected_students(db, school["id"], "3", lab)] == [alice, carol]
    assert await expected_students(db, school["id"], "3", gym) == []
