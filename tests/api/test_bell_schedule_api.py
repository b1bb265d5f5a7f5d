"""A school's bell schedule over HTTP (replaced whole by its administrators, refused when
it contradicts itself) and who is expected in which room at a moment: the class meeting
there in the period then, in the school's time zone, else the homeroom."""

from __future__ import annotations

import copy

import pytest

from tests import factories
from tests.conftest import bearer

# The school is in America/Chicago: 15:30Z on Monday 30 November 2026 is 09:30 there.
MONDAY_0930, MONDAY_0700 = "2026-11-30T15:30:00Z", "2026-11-30T13:00:00Z"
WEDNESDAY_0930, SATURDAY_0930 = "2026-12-02T15:30:00Z", "2026-12-05T15:30:00Z"
SCHEDULE = {"day_types": [
    {"name": "regular", "weekdays": [1, 2, 3, 4, 5], "periods": [
        {"name": "1", "starts": "08:00", "ends": "08:50"},
        {"name": "2", "starts": "08:55", "ends": "09:45"},
        {"name": "3", "starts": "09:50", "ends": "10:40"}]},
    {"name": "early release", "dates": ["2026-12-02"], "periods": [
        {"name": "1", "starts": "08:00", "ends": "08:30"},
        {"name": "2", "starts": "08:35", "ends": "09:05"},
        {"name": "3", "starts": "09:10", "ends": "09:40"}]}]}


async def _school(db) -> dict:
    """Three rooms (home, lab, gym); Alice and Bob in home; Alice's class meets in the lab
    in period 2, Bob's in the gym in period 3; Carol has neither homeroom nor class."""
    school = await factories.staffed_school(db, "teacher", "principal", room_count=3)
    home, lab, gym = school["rooms"]
    alice, bob = await factories.students(db, school["id"], 2, homeroom_id=home)
    [carol] = await factories.students(db, school["id"], 1)
    await factories.school_class(db, school["id"], lab, ["2"], [alice])
    await factories.school_class(db, school["id"], gym, ["3"], [bob])
    return school | {"alice": alice, "bob": bob, "carol": carol}


async def _put(client, school: dict, body: object, who: str = "principal"):
    return await client.put(f"/v1/schools/{school['id']}/bell-schedule", json=body,
                            headers=bearer(school[who]))


async def _expected(client, school: dict, at: str, **query) -> dict:
    r = await client.get(f"/v1/schools/{school['id']}/students/expected",
                         params={"at": at, **query}, headers=bearer(school["teacher"]))
    assert r.status_code == 200, r.text
    return r.json()


def _rooms(school: dict, answer: dict) -> dict:
    """{room index (None: no room): [student key]} of an answer."""
    names = {str(school[k]): k for k in ("alice", "bob", "carol")}
    index = {str(room): n for n, room in enumerate(school["rooms"])}
    return {index.get(r["room_id"]): [names[s["id"]] for s in r["students"]]
            for r in answer["rooms"]}


async def test_a_principal_replaces_the_schedule_members_read_it_and_it_is_audited(client, db):
    """The schedule read back is the one sent; a school without one answers no day types;
    a teacher may read it, not replace it."""
    school = await _school(db)
    url = f"/v1/schools/{school['id']}/bell-schedule"
    r = await client.get(url, headers=bearer(school["teacher"]))
    assert r.status_code == 200 and r.json() == {"day_types": []}
    r = await _put(client, school, SCHEDULE)
    assert r.status_code == 200, r.text
    read = await client.get(url, headers=bearer(school["teacher"]))
    assert read.json() == r.json()
    assert read.json()["day_types"][1]["dates"] == ["2026-12-02"]
    assert read.json()["day_types"][1]["weekdays"] == []
    assert (await _put(client, school, {"day_types": []}, "teacher")).status_code == 403
    rows = await db.fetch("select kind, actor_id, detail from admin_audit where school_id = $1",
                          school["id"])
    assert [(a["kind"], a["actor_id"], a["detail"]) for a in rows] == [
        ("bell_schedule_saved", school["principal"],
         {"day_types": [{"name": "regular", "periods": 3},
                        {"name": "early release", "periods": 3}]})]


def _changed(path: tuple, value: object) -> dict:
    body = copy.deepcopy(SCHEDULE)
    *parents, last = path
    target: object = body
    for key in parents:
        target = target[key]  # type: ignore[index]
    target[last] = value  # type: ignore[index]
    return body


@pytest.mark.parametrize(("body", "field"), [
    (_changed(("day_types", 1, "weekdays"), [5]), "weekdays"),
    (_changed(("day_types", 1, "name"), "regular"), "day_types"),
    (_changed(("day_types", 0, "periods", 1, "starts"), "08:45"), "day_types[0].periods"),
    (_changed(("day_types", 0, "periods", 2, "ends"), "09:00"), "day_types[0].periods"),
    (_changed(("day_types", 1, "periods", 2, "name"), "1"), "day_types[1].periods"),
    (_changed(("day_types", 0, "periods", 0, "starts"), "8:00"), "starts"),
    (_changed(("day_types", 0, "weekdays"), [0]), "weekdays"),
    (_changed(("day_types", 0, "periods"), []), "periods"),
    (_changed(("day_types", 0, "weekday"), [6]), "weekday"),
    ({"day_types": [{"name": "x", "periods": [{"name": "1", "starts": "08:00"}]}]}, "ends"),
    ([], None),
])
async def test_a_schedule_that_contradicts_itself_is_400_naming_the_field(client, db, body,
                                                                           field):
    """The school's schedule stays as it was, and nothing is audited."""
    school = await _school(db)
    assert (await _put(client, school, SCHEDULE)).status_code == 200
    before = await db.fetch("select * from bell_schedules"), await db.fetch(
        "select id from admin_audit")
    r = await _put(client, school, body)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field:
        assert field in r.text, r.text
    assert (await db.fetch("select * from bell_schedules"), await db.fetch(
        "select id from admin_audit")) == before


async def test_expected_students_follow_the_period_else_the_homeroom(client, db):
    """Monday 09:30 is period 2 (Alice in the lab); Wednesday's early release makes 09:30
    period 3 (Bob in the gym); before the first period, on a Saturday or without a
    schedule: homerooms (period null). Those expected nowhere come last."""
    school = await _school(db)
    without = await _expected(client, school, MONDAY_0930)
    assert without["period"] is None
    assert _rooms(school, without) == {0: ["alice", "bob"], None: ["carol"]}
    assert [r["code"] for r in without["rooms"]] == ["R-001", None]
    assert (await _put(client, school, SCHEDULE)).status_code == 200
    monday = await _expected(client, school, MONDAY_0930)
    assert monday["period"] == "2" and monday["at"] == "2026-11-30T15:30:00Z"
    assert _rooms(school, monday) == {0: ["bob"], 1: ["alice"], None: ["carol"]}
    wednesday = await _expected(client, school, WEDNESDAY_0930)
    assert wednesday["period"] == "3"
    assert _rooms(school, wednesday) == {0: ["alice"], 2: ["bob"], None: ["carol"]}
    for homerooms in (MONDAY_0700, SATURDAY_0930):
        answer = await _expected(client, school, homerooms)
        assert answer["period"] is None
        assert _rooms(school, answer) == {0: ["alice", "bob"], None: ["carol"]}


async def test_one_rooms_expected_students(client, db):
    """With `room_id`, only that room, listed even when nobody is expected there."""
    school = await _school(db)
    assert (await _put(client, school, SCHEDULE)).status_code == 200
    lab, gym = school["rooms"][1:]
    assert _rooms(school, await _expected(client, school, MONDAY_0930, room_id=str(lab))) == {
        1: ["alice"]}
    assert _rooms(school, await _expected(client, school, MONDAY_0930, room_id=str(gym))) == {
        2: []}


async def test_expected_at_defaults_to_now_and_refuses_a_bad_time(client, db, clock):
    """No `at`: the app's clock; a time without an offset or not a time is a 400."""
    school = await _school(db)
    r = await client.get(f"/v1/schools/{school['id']}/students/expected",
                         headers=bearer(school["teacher"]))
    assert r.status_code == 200 and r.json()["at"] == clock.now.isoformat().replace(
        "+00:00", "Z")
    for bad in ("2026-11-30T09:30:00", "tomorrow", "0.5"):
        r = await client.get(f"/v1/schools/{school['id']}/students/expected",
                             params={"at": bad}, headers=bearer(school["teacher"]))
        assert r.status_code == 400 and "at" in r.json()["errors"][0]["field"], r.text
