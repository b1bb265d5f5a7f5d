"""Roll call over HTTP: a room's report names its students, stored with the report in one
commit; accountability and the drill record account for every student by name; a room's
list follows the bell schedule (else the homeroom)."""

from __future__ import annotations

import uuid

import pytest

from tests import factories
from tests.conftest import LINKS, bearer


@pytest.fixture
async def world(db, client):
    """A lockdown at a school of three rooms (an SRO, a teacher, a principal) whose rooms
    A and B are the homerooms of three and two students; a student of another school."""
    school = await factories.staffed_school(db, "sro", "teacher", "principal", room_count=3)
    a, b, _ = school["rooms"]
    in_a = await factories.students(db, school["id"], 3, homeroom_id=a)
    in_b = await factories.students(db, school["id"], 2, homeroom_id=b)
    other = await factories.school(db, school["district"], "Other High")
    [foreign] = await factories.students(db, other, 1)
    event = await factories.start(client, school)
    token = LINKS.token(uuid.UUID(event), school["teacher"])
    return school | {"event": event, "in_a": in_a, "in_b": in_b, "foreign": foreign,
                     "link": f"/v1/links/{token}"}


def marks(*pairs) -> list[dict]:
    return [{"student_id": str(s), "status": status} for s, status in pairs]


def report(room, *pairs, **fields) -> dict:
    return {"client_id": str(uuid.uuid4()), "room_id": str(room), "status": "ok",
            "students_present": sum(p[1] == "present" for p in pairs),
            "students": marks(*pairs)} | fields


async def check_in(client, world, body, who="teacher"):
    return await client.post(f"/v1/events/{world['event']}/checkins", json=body,
                             headers=bearer(world[who]))


async def roll(client, world) -> dict:
    r = await client.get(f"/v1/events/{world['event']}/accountability",
                         headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    return r.json()["roll_call"]


async def stored_marks(db, event) -> set[tuple[uuid.UUID, str]]:
    rows = await db.fetch("select m.student_id, m.status from checkins c cross join "
                          "json_to_recordset(c.students) as m(student_id uuid, status text) "
                          "where c.event_id = $1", uuid.UUID(event))
    return {(r["student_id"], r["status"]) for r in rows}


async def test_a_reports_students_are_stored_with_it_once(client, db, world, clock):
    """The marks are kept with the report and on its timeline entry; a replay of its
    client_id answers the same report and stores nothing twice."""
    one, two, three = world["in_a"]
    body = report(world["rooms"][0], (one, "present"), (two, "missing"), (three, "injured"))
    first = await check_in(client, world, body)
    assert first.status_code == 201, first.text
    clock.advance(seconds=20)
    again = await check_in(client, world, body | {"students": marks((one, "absent"))})
    assert again.status_code == 200 and again.json() == first.json()
    assert {(m["student_id"], m["status"]) for m in first.json()["students"]} == {
        (str(one), "present"), (str(two), "missing"), (str(three), "injured")}
    assert await stored_marks(db, world["event"]) == {
        (one, "present"), (two, "missing"), (three, "injured")}
    timeline = (await client.get(f"/v1/events/{world['event']}/timeline",
                                 headers=bearer(world["sro"]))).json()["items"]
    assert [e["detail"]["students"] for e in timeline if e["kind"] == "checkin"] == [
        first.json()["students"]]


async def test_a_student_of_another_school_is_refused_and_nothing_stored(client, db, world):
    """400 naming the student's place in the report; neither the report nor a mark kept."""
    body = report(world["rooms"][0], (world["in_a"][0], "present"), (world["foreign"], "extra"))
    for students in (body["students"], marks((uuid.uuid4(), "present"))):
        r = await check_in(client, world, body | {"students": students})
        assert r.status_code == 400, r.text
        field = "students[1].student_id" if len(students) == 2 else "students[0].student_id"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in r.json()["detail"]
    assert await db.fetchval("select count(*) from checkins") == 0
    assert await stored_marks(db, world["event"]) == set()


async def test_a_roll_call_is_checked_against_the_school_as_it_is_now(client, db, world):
    """Once reports have named the school's students, another school's student is still
    refused, and a student enrolled since is taken."""
    a, ana = world["rooms"][0], world["in_a"][0]
    r = await check_in(client, world, report(a, (ana, "present")))
    assert r.status_code == 201, r.text
    r = await check_in(client, world, report(a, (ana, "present"), (world["foreign"], "extra")))
    assert r.status_code == 400 and "students[1].student_id" in r.json()["detail"]
    [newcomer] = await factories.students(db, world["id"], 1, homeroom_id=a)
    r = await check_in(client, world, report(a, (ana, "present"), (newcomer, "extra")))
    assert r.status_code == 201, r.text


async def test_a_student_named_twice_is_refused(client, db, world):
    one = world["in_a"][0]
    r = await check_in(client, world, report(world["rooms"][0], (one, "present"), (one, "missing")))
    assert r.status_code == 400 and "students" in r.json()["detail"]
    assert await db.fetchval("select count(*) from checkins") == 0


async def test_too_many_students_in_one_report_is_refused(client, world):
    r = await check_in(client, world, report(world["rooms"][0], *(
        (uuid.uuid4(), "present") for _ in range(501))))
    assert r.status_code == 400 and "students" in r.json()["detail"]


async def test_an_extra_student_elsewhere_is_not_missing(client, world, clock):
    """Room A says its student is missing; room B has them as an extra: accounted (in
    B's roll), and not on the missing list; the other missing student is listed with room
    A."""
    (one, two, three), (four, five) = world["in_a"], world["in_b"]
    a, b, _ = world["rooms"]
    await check_in(client, world, report(a, (one, "missing"), (two, "missing"),
                                         (three, "absent")))
    clock.advance(seconds=30)
    await check_in(client, world, report(b, (four, "present"), (one, "extra")), who="sro")
    call = await roll(client, world)
    assert {k: call[k] for k in ("expected", "accounted", "absent", "not_reported")} == {
        "expected": 5, "accounted": 2, "absent": 1, "not_reported": 1}
    assert [(m["student_id"], m["last_room"]["code"]) for m in call["missing"]] == [
        (str(two), "R-001")]
    assert call["missing"][0]["name"].startswith("Given")
    assert [(r["code"], r["expected"], r["named"]) for r in call["rooms"]] == [
        ("R-001", 3, 3), ("R-002", 2, 2)]
    # each student in the room that decided their status: the extra one in B, not in A
    assert [[r[k] for k in ("accounted", "missing", "absent", "injured", "not_reported")]
            for r in call["rooms"]] == [[0, 1, 1, 0, 0], [2, 0, 0, 0, 1]]
    assert five and call["injured"] == []


async def test_counts_only_check_ins_keep_working(client, world):
    """A report without students: counts as before, and every student not yet reported."""
    r = await check_in(client, world, {"client_id": str(uuid.uuid4()),
                                       "room_id": str(world["rooms"][0]), "status": "ok",
                                       "students_present": 3})
    assert r.status_code == 201 and r.json()["students"] == []
    call = await roll(client, world)
    assert (call["expected"], call["not_reported"], call["accounted"]) == (5, 5, 0)


async def test_a_rooms_list_follows_the_bell_schedule_at_the_start(client, db, world):
    """Without a schedule the event's rooms expect their homerooms, and go on doing so when
    a schedule arrives mid-event (what was expected at the start is fixed). The next event
    starts (02:00 on a Sunday in Chicago) in period 1: its class's students are expected
    in room C."""
    a, _, c = world["rooms"]
    one = world["in_a"][0]
    await factories.school_class(db, world["id"], c, ["1"], [one])

    async def listed(event, room):
        r = await client.get(f"/v1/events/{event}/rooms/{room}/students",
                             headers=bearer(world["teacher"]))
        assert r.status_code == 200, r.text
        return [s["student_id"] for s in r.json()["students"]]

    assert await listed(world["event"], c) == [] and str(one) in await listed(world["event"], a)
    await db.execute(
        """insert into bell_schedules (school_id, day_types, updated_at) values ($1,
           '[{"name": "weekend", "weekdays": [7], "periods": [
              {"name": "1", "starts": "01:00", "ends": "03:00"}]}]', now())""", world["id"])
    assert await listed(world["event"], c) == [] and str(one) in await listed(world["event"], a)
    r = await client.post(f"/v1/events/{world['event']}/all-clear", json={},
                          headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    event = await factories.start(client, world)
    assert await listed(event, c) == [str(one)] and str(one) not in await listed(event, a)
    assert (await roll(client, world | {"event": event}))["rooms"][-1] == {
        "room_id": str(c), "code": "R-003", "name": "Room 3", "expected": 1, "named": 0,
        "accounted": 0, "missing": 0, "absent": 0, "injured": 0, "not_reported": 1}


async def test_a_rooms_list_by_link_shows_its_statuses_and_extras(client, world, clock):
    """The teacher's link lists room A's students with the statuses of its report, an
    extra from room B, and where else a student was seen."""
    (one, two, three), (four, _) = world["in_a"], world["in_b"]
    a, b, _ = world["rooms"]
    await check_in(client, world, report(a, (one, "present"), (two, "missing"), (four, "extra")))
    clock.advance(seconds=5)
    await check_in(client, world, report(b, (two, "extra")), who="sro")
    r = await client.get(f"{world['link']}/rooms/{a}/students")
    assert r.status_code == 200, r.text
    got = [(s["student_id"], s["expected"], s["status"], s["seen_in"])
           for s in r.json()["students"]]
    assert got == [(str(one), True, "present", None), (str(two), True, "missing", "R-002"),
                   (str(three), True, None, None), (str(four), False, "extra", None)]


async def test_a_room_of_another_school_is_404_as_none(client, db, world):
    """Another school's room answers as a room that does not exist."""
    other = await factories.school(db, world["district"], "Third High")
    [theirs] = await factories.rooms(db, other, 1)
    for room in (theirs, uuid.uuid4()):
        r = await client.get(f"{world['link']}/rooms/{room}/students")
        assert r.status_code == 404 and r.json()["detail"] == f"no room {room}"


async def test_students_are_found_by_part_of_their_name(client, db, world):
    """By link and signed in: the school's active students, at most 20, never another
    school's, or by their SIS id; LIKE's wildcards are taken literally."""
    [named] = await factories.students(db, world["id"], 1)
    given = await db.fetchval("select given_name from students where id = $1", named)
    r = await client.get(f"{world['link']}/students", params={"q": given.lower()})
    assert r.status_code == 200 and [s["id"] for s in r.json()] == [str(named)]
    sis_id = await db.fetchval("select source_id from students where id = $1", named)
    r = await client.get(f"{world['link']}/students", params={"q": sis_id})
    assert [s["id"] for s in r.json()] == [str(named)]  # by the SIS's id, exactly
    r = await client.get(f"/v1/events/{world['event']}/students", params={"q": "Given"},
                         headers=bearer(world["teacher"]))
    assert r.status_code == 200 and len(r.json()) == 6  # not the other school's
    assert str(world["foreign"]) not in {s["id"] for s in r.json()}
    await factories.students(db, world["id"], 20)
    assert len((await client.get(f"{world['link']}/students", params={"q": "given"})).json()) == 20
    assert (await client.get(f"{world['link']}/students", params={"q": "%"})).json() == []
    assert (await client.get(f"{world['link']}/students", params={"q": ""})).status_code == 400


async def test_the_drill_record_times_full_student_accountability(client, world, clock):
    """The first moment every expected student had a status (missing counts), in the
    record; none while a student is unreported."""
    (one, two, three), (four, five) = world["in_a"], world["in_b"]
    a, b, _ = world["rooms"]
    clock.advance(seconds=30)
    await check_in(client, world, report(a, (one, "present"), (two, "missing"), (three, "absent")))

    async def timing():
        r = await client.get(f"/v1/events/{world['event']}/report",
                             headers=bearer(world["principal"]))
        assert r.status_code == 200, r.text
        return r.json()["timing"]["to_full_student_accountability_s"]

    assert await timing() is None
    clock.advance(seconds=45)
    await check_in(client, world, report(b, (four, "present"), (five, "injured")), who="sro")
    assert await timing() == 75.0
    r = await client.post(f"/v1/events/{world['event']}/all-clear", json={},
                          headers=bearer(world["sro"]))
    assert r.status_code == 200 and await timing() == 75.0
    printed = await client.get(f"/v1/events/{world['event']}/report.html",
                               headers=bearer(world["principal"]))
    assert "Every student accounted for" in printed.text and "1:15" in printed.text
    csv = await client.get(f"/v1/events/{world['event']}/report", params={"format": "csv"},
                           headers=bearer(world["principal"]))
    assert "to_full_student_accountability_s,75.0" in csv.text


async def test_a_school_without_a_roster_prints_no_student_line(client, db):
    """No students: no time, and no line for it in the printed report."""
    school = await factories.staffed_school(db, "sro", "principal", room_count=1)
    event = await factories.start(client, school)
    r = await client.get(f"/v1/events/{event}/report.html", headers=bearer(school["principal"]))
    assert r.status_code == 200 and "Every student accounted for" not in r.text
