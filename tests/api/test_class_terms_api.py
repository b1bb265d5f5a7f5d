"""A OneRoster class meets only in its terms: Alpha High's Room 2 has a fall class (Ana)
and a spring class (Ben) at period 1, and who is expected there follows the date in the
school's time zone, for a moment asked about and for an event's start alike."""

from __future__ import annotations

from tests import admin_world
from tests import oneroster_files as files
from tests.conftest import bearer

world = admin_world.world

# Period 1 lasts all day, every day, so that only the date decides (America/Chicago).
SCHEDULE = {"day_types": [{"name": "all day", "weekdays": [1, 2, 3, 4, 5, 6, 7],
                           "periods": [{"name": "1", "starts": "00:00", "ends": "23:59"}]}]}
FALL_DAY = "2026-11-30T15:30:00Z"
FALL_LAST_EVENING = "2026-12-19T03:00:00Z"  # 18 December, 21:00 in Chicago
WINTER_BREAK = "2026-12-28T15:30:00Z"
SPRING_DAY = "2027-02-01T15:30:00Z"


def semesters() -> files.Tables:
    """The clean export with a fall and a spring semester; Algebra (Ana) is the fall's,
    Geometry (Ben) the spring's, both in Room 2 at period 1."""
    tables = files.clean()
    tables["academicSessions"] += [
        {"sourcedId": "FALL", "type": "semester", "startDate": "2026-08-01",
         "endDate": "2026-12-18", "parentSourcedId": "Y1"},
        {"sourcedId": "SPRING", "type": "semester", "startDate": "2027-01-04",
         "endDate": "2027-05-28", "parentSourcedId": "Y1"}]
    tables["classes"][1].update(periods="1", termSourcedIds="FALL")
    tables["classes"].append({"sourcedId": "C-GEO", "title": "Geometry", "classType":
                              "scheduled", "location": "Room 2", "schoolSourcedId": "O-HIGH",
                              "periods": "1", "termSourcedIds": "SPRING"})
    tables["enrollments"].append({"sourcedId": "E6", "classSourcedId": "C-GEO",
                                  "schoolSourcedId": "O-HIGH", "userSourcedId": "S2",
                                  "role": "student"})
    return tables


async def imported(client, world, tables: files.Tables) -> dict:
    r = await files.post_export(client, world, files.zipped(files.export(tables)))
    assert r.status_code == 200, r.text
    return r.json()["schools"][0]


async def scheduled(client, world) -> None:
    r = await client.put(f"/v1/schools/{world['high']}/bell-schedule", json=SCHEDULE,
                         headers=bearer(world["principal"]))
    assert r.status_code == 200, r.text


async def expected(client, world, at: str) -> dict[str, list[str]]:
    """{room code: [given names]} at `at`."""
    r = await client.get(f"/v1/schools/{world['high']}/students/expected",
                         params={"at": at}, headers=bearer(world["teacher"]))
    assert r.status_code == 200, r.text
    assert r.json()["period"] == "1"
    return {room["code"]: [s["given_name"] for s in room["students"]]
            for room in r.json()["rooms"]}


async def test_a_room_expects_the_class_whose_term_it_is(client, world):
    """In the fall Ana is in Room 2 and Ben in his homeroom; in the spring the other way
    round; between the terms both are in their homeroom. 18 December is still the fall in
    Chicago though it is already the 19th in UTC."""
    await imported(client, world, semesters())
    await scheduled(client, world)
    for fall in (FALL_DAY, FALL_LAST_EVENING):
        assert await expected(client, world, fall) == {"R-001": ["Ben"], "R-002": ["Ana"]}
    assert await expected(client, world, WINTER_BREAK) == {"R-001": ["Ana", "Ben"]}
    assert await expected(client, world, SPRING_DAY) == {"R-001": ["Ana"], "R-002": ["Ben"]}


async def test_without_academic_sessions_a_class_meets_all_year(client, world):
    """As before terms were read: both classes expect their students at period 1."""
    tables = semesters()
    del tables["academicSessions"]
    await imported(client, world, tables)
    await scheduled(client, world)
    for at in (FALL_DAY, SPRING_DAY):
        assert await expected(client, world, at) == {"R-002": ["Ana", "Ben"]}


async def test_an_event_started_in_the_fall_expects_the_fall_class(client, db, world):
    """The app's clock (29 November, 02:00 in Chicago) is in the fall term."""
    await imported(client, world, semesters())
    await scheduled(client, world)
    r = await client.post(f"/v1/schools/{world['high']}/events",
                          json={"action": "lockdown", "drill": False},
                          headers=bearer(world["sro"]))
    assert r.status_code == 201, r.text
    frozen = await db.fetch(
        """select s.given_name, r.code from event_students x join students s
           on s.id = x.student_id join rooms r on r.id = x.room_id
           where x.event_id = $1 order by s.given_name""", r.json()["id"])
    assert [tuple(f) for f in frozen] == [("Ana", "R-002"), ("Ben", "R-001")]


async def test_a_reimport_changes_terms_in_place(client, db, world):
    """The same export again changes no class; moving Algebra to the spring updates its
    row (same id), and then it shares Room 2 with Geometry in the spring only."""
    assert (await imported(client, world, semesters()))["classes_changed"] == 3
    ids = dict(await db.fetch("select source_id, id from classes"))
    assert (await imported(client, world, semesters()))["classes_changed"] == 0
    tables = semesters()
    tables["classes"][1]["termSourcedIds"] = "SPRING"
    assert (await imported(client, world, tables))["classes_changed"] == 1
    assert dict(await db.fetch("select source_id, id from classes")) == ids
    assert await db.fetchval("select terms::text from classes where source_id = 'C-ALG'"
                             ) == "{[2027-01-04,2027-05-29)}"
    await scheduled(client, world)
    assert await expected(client, world, FALL_DAY) == {"R-001": ["Ana", "Ben"]}
    assert await expected(client, world, SPRING_DAY) == {"R-002": ["Ana", "Ben"]}


async def test_a_students_record_lists_only_the_classes_of_this_term(client, db, world):
    """On the app's clock (the fall), Ana's record has Algebra and Ben's not Geometry,
    which meets in the spring."""
    await imported(client, world, semesters())
    titles = {}
    for given in ("Ana", "Ben"):
        student = await db.fetchval("select id from students where given_name = $1", given)
        r = await client.get(f"/v1/schools/{world['high']}/students/{student}",
                             headers=bearer(world["principal"]))
        assert r.status_code == 200, r.text
        titles[given] = [c["title"] for c in r.json()["classes"]]
    assert titles == {"Ana": ["Algebra", "Homeroom 1"], "Ben": ["Homeroom 1"]}
