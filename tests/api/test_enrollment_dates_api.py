"""A OneRoster enrollment counts only between its dates: Ana moves mid-term from Algebra
(Room 2, period 1) to Biology (Room 3, period 1), and who is expected where, and her
record, follow the school's date (America/Chicago)."""

from __future__ import annotations

from tests import admin_world
from tests import oneroster_files as files
from tests.api.test_class_terms_api import expected, imported, scheduled
from tests.conftest import bearer

world = admin_world.world

BEFORE_THE_MOVE = "2026-10-01T15:30:00Z"
LAST_EVENING_IN_ALGEBRA = "2026-10-16T03:00:00Z"  # 15 October, 22:00 in Chicago
AFTER_THE_MOVE = "2026-11-01T16:30:00Z"


def moved() -> files.Tables:
    """The clean export with Ana's Algebra ending on 15 October and her Biology beginning
    on the 16th, both at period 1; Ben stays in his homeroom (R-001)."""
    tables = files.clean()
    tables["classes"][1]["periods"] = "1"
    tables["classes"].append({"sourcedId": "C-BIO", "title": "Biology", "classType":
                              "scheduled", "location": "Room 3", "schoolSourcedId": "O-HIGH",
                              "periods": "1"})
    tables["enrollments"][2]["endDate"] = "2026-10-15"
    tables["enrollments"].append({"sourcedId": "E6", "classSourcedId": "C-BIO",
                                  "schoolSourcedId": "O-HIGH", "userSourcedId": "S1",
                                  "role": "student", "beginDate": "2026-10-16"})
    return tables


async def test_a_student_who_changed_section_is_expected_in_the_new_class(client, world):
    """Algebra's Room 2 up to the evening of its last day, Biology's Room 3 from then on."""
    await imported(client, world, moved())
    await scheduled(client, world)
    for before in (BEFORE_THE_MOVE, LAST_EVENING_IN_ALGEBRA):
        assert await expected(client, world, before) == {"R-001": ["Ben"], "R-002": ["Ana"]}
    assert await expected(client, world, AFTER_THE_MOVE) == {"R-001": ["Ben"],
                                                             "R-003": ["Ana"]}


async def test_without_dates_both_enrollments_count_as_before(client, world):
    """Two period-1 classes every day: the first by sourcedId (C-ALG) wins."""
    tables = moved()
    for enrollment in tables["enrollments"]:
        enrollment.pop("beginDate", None), enrollment.pop("endDate", None)
    await imported(client, world, tables)
    await scheduled(client, world)
    for at in (BEFORE_THE_MOVE, AFTER_THE_MOVE):
        assert await expected(client, world, at) == {"R-001": ["Ben"], "R-002": ["Ana"]}


async def test_a_reimport_changes_dates_in_place(client, db, world):
    """The same export again changes nothing; an endDate alone moved earlier updates Ana,
    who is then in her homeroom between Algebra's new end and Biology's beginning."""
    assert (await imported(client, world, moved()))["added"] == 2
    again = await files.post_export(client, world, files.zipped(files.export(moved())))
    assert again.json()["changed"] is False, again.text
    tables = moved()
    tables["enrollments"][2]["endDate"] = "2026-09-15"
    assert (await imported(client, world, tables))["updated"] == 1
    assert str(await db.fetchval("select ends from enrollments e join classes c on c.id = "
                                 "e.class_id where c.source_id = 'C-ALG'")) == "2026-09-15"
    await scheduled(client, world)
    assert await expected(client, world, BEFORE_THE_MOVE) == {"R-001": ["Ana", "Ben"]}


async def test_a_students_record_lists_the_classes_they_are_in_today(client, db, world):
    """The app's clock (29 November in Chicago) is after the move: Biology and her
    homeroom, not Algebra."""
    await imported(client, world, moved())
    ana = await db.fetchval("select id from students where source_id = 'S1'")
    r = await client.get(f"/v1/schools/{world['high']}/students/{ana}",
                         headers=bearer(world["principal"]))
    assert r.status_code == 200, r.text
    assert [(c["title"], c["room"]["code"]) for c in r.json()["classes"]] == [
        ("Biology", "R-003"), ("Homeroom 1", "R-001")]


async def test_a_student_who_changed_homeroom_is_expected_in_the_new_one(client, db, world):
    """Ana's homeroom class moves from R-001 to Room 3 on 16 October; at a period with no
    class of hers, she is expected in the homeroom of the day. Her stored homeroom (the
    first homeroom class) is what the roster said; the day's class decides."""
    tables = files.clean()
    tables["classes"][1]["periods"] = "2"  # Algebra: not at period 1
    tables["classes"].append({"sourcedId": "C-HR3", "title": "Homeroom 3", "classType":
                              "homeroom", "location": "Room 3", "schoolSourcedId": "O-HIGH"})
    tables["enrollments"][0]["endDate"] = "2026-10-15"
    tables["enrollments"].append({"sourcedId": "E6", "classSourcedId": "C-HR3",
                                  "schoolSourcedId": "O-HIGH", "userSourcedId": "S1",
                                  "role": "student", "beginDate": "2026-10-16"})
    await imported(client, world, tables)
    await scheduled(client, world)
    assert await expected(client, world, BEFORE_THE_MOVE) == {"R-001": ["Ana", "Ben"]}
    assert await expected(client, world, AFTER_THE_MOVE) == {"R-001": ["Ben"],
                                                             "R-003": ["Ana"]}
