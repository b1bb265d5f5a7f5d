"""A school's students over HTTP: the list (by family name, a page at a time, searched and
filtered), one student with their classes, guardians and restrictions (that read audited),
and nothing of another school's students reaching anyone outside it."""

from __future__ import annotations

import uuid

import pytest

from tests import factories
from tests.conftest import bearer

NAMES = [("Ana", "Zamora"), ("Ben", "Okafor"), ("Alice", "Okafor"), ("Chloe", "Nguyen"),
         ("Dev", "Alvarez"), ("Emma", "alvarado")]


async def _school(db) -> dict:
    """A school with a teacher and a principal, two rooms, six named students (Dev Alvarez
    in R-001 and grade 10, Chloe Nguyen inactive), and another school of the district with
    its principal and one student."""
    school = await factories.staffed_school(db, "teacher", "principal", room_count=2)
    ids = await factories.students(db, school["id"], len(NAMES))
    for sid, (given, family) in zip(ids, NAMES, strict=True):
        await db.execute("update students set given_name = $2, family_name = $3 where id = $1",
                         sid, given, family)
    by_name = dict(zip([g for g, _ in NAMES], ids, strict=True))
    await db.execute("update students set homeroom_id = $2, grade = '10' where id = $1",
                     by_name["Dev"], school["rooms"][0])
    await db.execute("update students set active = false where id = $1", by_name["Chloe"])
    other = await factories.staffed_school(db, "principal", district_id=school["district"])
    [stranger] = await factories.students(db, other["id"], 1)
    return school | {"students": by_name, "other": other | {"student": stranger}}


async def _list(client, school: dict, who: str = "teacher", **query):
    return await client.get(f"/v1/schools/{school['id']}/students", params=query,
                            headers=bearer(school[who]))


def _names(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [f"{s['given_name']} {s['family_name']}" for s in r.json()["items"]]


async def test_members_list_active_students_by_family_name_a_page_at_a_time(client, db):
    """Family name, then given name (case as the database orders it); every page's cursor
    leads to the next, and nothing of guardians is in an item."""
    school = await _school(db)
    seen, cursor = [], None
    while True:
        r = await _list(client, school, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += _names(r)
        assert all(set(item) == {"id", "given_name", "family_name", "grade", "homeroom",
                                 "active"} for item in r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    everyone = _names(await _list(client, school, limit=50))
    assert seen == everyone and len(everyone) == 5 and "Chloe Nguyen" not in everyone
    assert everyone[0] == "Dev Alvarez"
    assert everyone.index("Alice Okafor") == everyone.index("Ben Okafor") - 1


async def test_search_grade_homeroom_and_inactive_filters(client, db):
    """`q` finds a piece of the name case aside, in "given family" or "family, given";
    `grade` and `room_id` (homeroom) narrow; `include_inactive` brings back those who
    left."""
    school = await _school(db)
    assert sorted(_names(await _list(client, school, q="ALVAR"))) == [
        "Dev Alvarez", "Emma alvarado"]
    assert _names(await _list(client, school, q="okafor, al")) == ["Alice Okafor"]
    assert _names(await _list(client, school, q="ben oka")) == ["Ben Okafor"]
    assert _names(await _list(client, school, q=" ben   oka ")) == ["Ben Okafor"]  # as typed
    assert _names(await _list(client, school, q="%")) == []  # no pattern: text as typed
    assert _names(await _list(client, school, grade="10")) == ["Dev Alvarez"]
    r = await _list(client, school, room_id=str(school["rooms"][0]))
    assert _names(r) == ["Dev Alvarez"]
    assert r.json()["items"][0]["homeroom"] == {"id": str(school["rooms"][0]), "code": "R-001"}
    assert _names(await _list(client, school, q="chloe")) == []
    r = await _list(client, school, q="chloe", include_inactive="true")
    assert _names(r) == ["Chloe Nguyen"] and r.json()["items"][0]["active"] is False


@pytest.mark.parametrize(("query", "field"), [
    ({"q": ""}, "q"), ({"q": "x" * 101}, "q"), ({"q": "a\x00b"}, "q"),
    ({"grade": "1" * 21}, "grade"), ({"room_id": "R-001"}, "room_id"),
    ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"), ({"include_inactive": "maybe"}, None),
])
async def test_bad_queries_are_400(client, db, query, field):
    school = await _school(db)
    r = await _list(client, school, **query)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field:
        assert field in r.text


async def test_a_student_with_classes_guardians_and_restrictions_is_audited(client, db):
    """A member sees the record; the read of guardians and restrictions is a `student_read`
    entry naming the student by id only."""
    school = await _school(db)
    dev = school["students"]["Dev"]
    await factories.guardian(db, school["id"], dev, "Maria Alvarez", phone="+15125550142",
                             relationship="mother", language="es")
    await db.execute(
        """insert into student_restrictions (id, student_id, school_id, kind, adult_name, note)
           values ($1, $2, $3, 'no_contact', 'Rick Alvarez', 'Court order 2026-114')""",
        uuid.uuid4(), dev, school["id"])
    await factories.school_class(db, school["id"], school["rooms"][1], ["1", "3"], [dev])
    r = await client.get(f"/v1/schools/{school['id']}/students/{dev}",
                         headers=bearer(school["teacher"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["given_name"], body["family_name"], body["grade"]) == ("Dev", "Alvarez", "10")
    assert [(g["name"], g["relationship"], g["phone"], g["language"])
            for g in body["guardians"]] == [("Maria Alvarez", "mother", "+15125550142", "es")]
    assert body["restrictions"] == [{"kind": "no_contact", "adult_name": "Rick Alvarez",
                                     "note": "Court order 2026-114"}]
    assert [(c["title"], c["room"]["code"], c["periods"]) for c in body["classes"]] == [
        ("Class", "R-002", ["1", "3"])]
    audit = await db.fetch("select kind, actor_id, detail from admin_audit where school_id = $1",
                           school["id"])
    assert [(a["kind"], a["actor_id"], a["detail"]) for a in audit] == [
        ("student_read", school["teacher"], {"student_id": str(dev)})]


async def test_without_reunify_or_roster_a_member_sees_no_guardians_and_no_read_is_audited(
        client, db):
    """A school that narrows REUNIFY to its administrators: a teacher sees the student and
    their classes, guardians and restrictions are null, and nothing is audited."""
    school = await _school(db)
    await db.execute("update schools set policy = $2 where id = $1", school["id"],
                     {"reunify": ["principal", "district_admin"]})
    dev = school["students"]["Dev"]
    await factories.guardian(db, school["id"], dev, "Maria Alvarez")
    r = await client.get(f"/v1/schools/{school['id']}/students/{dev}",
                         headers=bearer(school["teacher"]))
    assert r.status_code == 200, r.text
    assert r.json()["guardians"] is None and r.json()["restrictions"] is None
    assert await db.fetchval("select count(*) from admin_audit") == 0
    r = await client.get(f"/v1/schools/{school['id']}/students/{dev}",
                         headers=bearer(school["principal"]))
    assert [g["name"] for g in r.json()["guardians"]] == ["Maria Alvarez"]


async def test_no_route_reaches_another_schools_students(client, db):
    """Another school's student, by its own school's id or through ours, is a 404 like
    none; its list, schedule and expected students are 404 to our members; a search of
    ours never finds theirs."""
    school = await _school(db)
    other, stranger = school["other"], school["other"]["student"]
    ours, theirs = school["id"], other["id"]
    me = bearer(school["principal"])
    for url in (f"/v1/schools/{ours}/students/{stranger}",
                f"/v1/schools/{theirs}/students/{stranger}",
                f"/v1/schools/{theirs}/students", f"/v1/schools/{theirs}/students/expected",
                f"/v1/schools/{theirs}/bell-schedule",
                f"/v1/schools/{ours}/students/expected?room_id={other['rooms'] or uuid.uuid4()}",
                f"/v1/schools/{ours}/students/{uuid.uuid4()}"):
        r = await client.get(url, headers=me)
        assert r.status_code == 404, (url, r.text)
        assert "Given" not in r.text and "Family" not in r.text
    [name] = await db.fetch("select given_name from students where id = $1", stranger)
    assert _names(await _list(client, school, "principal", q=name[0])) == []
    r = await client.get(f"/v1/schools/{theirs}/students/{stranger}",
                         headers=bearer(other["principal"]))
    assert r.status_code == 200
    assert await db.fetchval("select count(*) from admin_audit where school_id = $1", ours) == 0
