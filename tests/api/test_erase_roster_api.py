"""Erasing a school's student data (DELETE /v1/schools/{id}/students): its district's
admin, who types the school's name, deletes guardians, restrictions, classes, enrollments
and the bell schedule; students keep their ids, named "Erased"; all or nothing, audited,
and no other school's data is touched."""

from __future__ import annotations

import uuid

from tests import factories
from tests.conftest import T0, bearer

SCHEDULE = {"day_types": [{"name": "regular", "weekdays": [1, 2, 3, 4, 5],
                           "periods": [{"name": "1", "starts": "08:00", "ends": "08:50"}]}]}
# Every table that holds a name, a phone or a note of a student or an adult near them.
PERSONAL = """
select (select count(*) from guardians where school_id = $1) as guardians,
       (select count(*) from student_guardians where school_id = $1) as links,
       (select count(*) from student_restrictions where school_id = $1) as restrictions,
       (select count(*) from classes where school_id = $1) as classes,
       (select count(*) from enrollments where school_id = $1) as enrollments,
       (select count(*) from bell_schedules where school_id = $1) as bell_schedules,
       (select count(*) from notification_outbox o join guardians g on g.id = o.guardian_id
        where g.school_id = $1) as texts,
       (select count(*) from students where school_id = $1
        and (given_name <> 'Erased' or family_name <> 'Erased')) as named_students,
       (select count(*) from reunification_adults where school_id = $1
        and name <> 'Erased') as named_adults,
       (select count(*) from releases where school_id = $1 and note is not null) as notes
"""


async def roster_school(db, name: str, district_id: uuid.UUID | None = None) -> dict:
    """A school with a principal, two rooms, three students (one with a guardian, who was
    texted, and a restriction, in a class), a bell schedule, and a closed reunification in
    which the student was released to the guardian, with a note."""
    school = await factories.staffed_school(db, "principal", room_count=2,
                                            district_id=district_id)
    await db.execute("update schools set name = $2 where id = $1", school["id"], name)
    sid, *others = await factories.students(db, school["id"], 3,
                                            homeroom_id=school["rooms"][0])
    guardian = await factories.guardian(db, school["id"], sid, "Maria Lopez",
                                        phone="+15125550142")
    await db.execute(
        """insert into student_restrictions (id, student_id, school_id, kind, adult_name)
           values ($1, $2, $3, 'custody', 'Rick Lopez')""", uuid.uuid4(), sid, school["id"])
    await factories.school_class(db, school["id"], school["rooms"][1], ["1"], [sid, *others])
    await db.execute("insert into bell_schedules (school_id, day_types, updated_at) "
                     "values ($1, $2, $3)", school["id"], SCHEDULE["day_types"], T0)
    by = school["principal"]
    reunification, adult = uuid.uuid4(), uuid.uuid4()
    await db.execute("""insert into reunifications (id, school_id, site, opened_at, opened_by,
                        closed_at, closed_by) values ($1, $2, 'Stadium', $3, $4, $3, $4)""",
                     reunification, school["id"], T0, by)
    await db.execute("""insert into reunification_students (reunification_id, student_id,
                        school_id, arrived_at, checked_in_by) values ($1, $2, $3, $4, $5)""",
                     reunification, sid, school["id"], T0, by)
    await db.execute("""insert into reunification_adults (id, reunification_id, school_id,
                        guardian_id, name, relationship, id_seen, arrived_at, checked_in_by)
                        values ($1, $2, $3, $4, 'Maria Lopez', 'mother', true, $5, $6)""",
                     adult, reunification, school["id"], guardian, T0, by)
    await db.execute("""insert into releases (id, reunification_id, school_id, student_id,
                        adult_id, verification, released_at, released_by, note)
                        values ($1, $2, $3, $4, $5, 'listed', $6, $7, 'Left with aunt Rosa')""",
                     uuid.uuid4(), reunification, school["id"], sid, adult, T0, by)
    outbox = await db.fetchval(
        """insert into notification_outbox (reunification_id, guardian_id, phone, channel,
                                            kind, body)
           values ($1, $2, '+15125550142', 'sms', 'reunification', 'Pick up Given at the
           Stadium') returning id""", reunification, guardian)
    await db.execute("insert into deliveries (outbox_id, at, outcome) values ($1, $2, 'sent')",
                     outbox, T0)
    return school | {"students": [sid, *others]}


async def _personal(db, school_id: uuid.UUID) -> dict:
    return dict(await db.fetchrow(PERSONAL, school_id))


async def test_a_district_admin_erases_everything_personal_and_keeps_the_ids(client, db):
    """No guardian, restriction, class, enrollment, schedule or text survives; students
    and the adult keep their rows, named Erased, so past releases still count; the
    other school of the district keeps all of its own; one audit entry with counts."""
    school = await roster_school(db, "Riverbend High")
    other = await roster_school(db, "Cedar Middle", school["district"])
    admin = await factories.person(db, school["district"], None, "district_admin")
    other_before = await _personal(db, other["id"])
    r = await client.request("DELETE", f"/v1/schools/{school['id']}/students",
                             json={"confirm": "riverbend  HIGH"}, headers=bearer(admin))
    assert r.status_code == 200, r.text
    assert r.json() == {"students": 3, "guardians": 1, "restrictions": 1, "classes": 1,
                        "enrollments": 3, "bell_schedules": 1, "reunification_adults": 1,
                        "guardian_texts": 1}
    assert set((await _personal(db, school["id"])).values()) == {0}
    assert await _personal(db, other["id"]) == other_before
    kept = await db.fetch("select id, source_id, grade, homeroom_id, active from students "
                          "where school_id = $1 order by id", school["id"])
    assert sorted(r["id"] for r in kept) == sorted(school["students"])
    assert all((k["source_id"], k["grade"], k["homeroom_id"], k["active"])
               == (str(k["id"]), None, None, False) for k in kept)
    assert await db.fetchval("select count(*) from releases where school_id = $1",
                             school["id"]) == 1
    [audit] = await db.fetch("select kind, actor_id, detail from admin_audit "
                             "where school_id = $1", school["id"])
    assert (audit["kind"], audit["actor_id"]) == ("roster_erased", admin)
    assert audit["detail"] == r.json()
    listed = await client.get(f"/v1/schools/{school['id']}/students",
                              params={"include_inactive": "true"}, headers=bearer(admin))
    assert {(s["given_name"], s["family_name"]) for s in listed.json()["items"]} == {
        ("Erased", "Erased")}


async def test_erasing_needs_the_schools_name_and_a_district_admin(client, db):
    """A wrong or missing name is a 400 naming `confirm`; a principal is refused; another
    district's admin gets a 404; nothing is erased or audited."""
    school = await roster_school(db, "Riverbend High")
    admin = await factories.person(db, school["district"], None, "district_admin")
    stranger = await factories.person(db, await factories.district(db), None, "district_admin")
    before = await _personal(db, school["id"])
    url = f"/v1/schools/{school['id']}/students"
    for who, body, status in ((admin, {"confirm": "Cedar Middle"}, 400),
                              (admin, {}, 400), (admin, {"confirm": "x", "all": True}, 400),
                              (school["principal"], {"confirm": "Riverbend High"}, 403),
                              (stranger, {"confirm": "Riverbend High"}, 404)):
        r = await client.request("DELETE", url, json=body, headers=bearer(who))
        assert r.status_code == status, r.text
        if status == 400 and "confirm" in body:
            assert r.json()["errors"][0]["field"] in ("confirm", "all"), r.text
        assert "Riverbend" not in r.text or status == 400
    assert await _personal(db, school["id"]) == before
    assert await db.fetchval("select count(*) from admin_audit") == 0
