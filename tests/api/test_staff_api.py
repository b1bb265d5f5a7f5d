"""A school's staff over HTTP: add, change, remove, substitutes, CSV import, and access
that follows every change on the caller's very next request."""

from __future__ import annotations

import uuid

import pytest

from tests import admin_world
from tests.admin_world import snapshot
from tests.conftest import T0, bearer

world = admin_world.world

STAFF = "/v1/schools/{school}/staff"
MEMBER = STAFF + "/{user}"
IMPORT = STAFF + "/import"
CSV = {"content-type": "text/csv"}
NEW = {"name": "Maria Gonzalez", "phone": "(512) 555-0142", "role": "teacher",
       "email": "maria@example.org"}


async def staff_of(client, world, school="high", who="admin") -> dict[str, dict]:
    r = await client.get(STAFF.format(school=world[school]), params={"limit": 500},
                         headers=bearer(world[who]))
    assert r.status_code == 200, r.text
    return {m["user_id"]: m for m in r.json()["items"]}


async def test_staff_list_shows_members_and_district_admins(client, world):
    """Everyone whose membership reaches the school, with their role there."""
    staff = await staff_of(client, world, who="principal")
    assert {m["role"] for m in staff.values()} == {"principal", "sro", "teacher", "staff",
                                                   "district_admin"}
    assert str(world["elem_principal"]) not in staff and str(world["other_admin"]) not in staff
    assert all(m["active"] and m["expires_at"] is None for m in staff.values())


async def test_staff_list_pages_through_everyone_once(client, world):
    """Following next_cursor visits every member exactly once, by name."""
    seen, cursor = [], None
    while True:
        r = await client.get(STAFF.format(school=world["high"]), headers=bearer(world["admin"]),
                             params={"limit": 2} | ({"cursor": cursor} if cursor else {}))
        seen += [m["name"] for m in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen)


async def test_principal_adds_a_teacher_with_a_normalised_phone(client, db, world):
    """201 with the person as stored; the audit records who added whom."""
    r = await client.post(STAFF.format(school=world["high"]), json=NEW,
                          headers=bearer(world["principal"]))
    assert r.status_code == 201, r.text
    added = r.json()
    assert added | {"user_id": None} == {
        "user_id": None, "name": "Maria Gonzalez", "phone": "+15125550142",
        "email": "maria@example.org", "role": "teacher", "expires_at": None, "active": True,
        "language": "en"}
    audit = await client.get(f"/v1/schools/{world['high']}/audit",
                             headers=bearer(world["principal"]))
    entry = audit.json()["items"][0]
    assert (entry["kind"], entry["actor_id"], entry["detail"]["user_id"]) == (
        "staff_added", str(world["principal"]), added["user_id"])
    new_teacher = await client.get(f"/v1/schools/{world['high']}",
                                   headers=bearer(uuid.UUID(added["user_id"])))
    assert new_teacher.json()["role"] == "teacher"


async def test_a_phone_known_elsewhere_adds_a_membership_not_a_second_person(client, db, world):
    """Beta's principal, added to Alpha as staff, is the same user with two schools; Alpha
    knows them by the name Alpha gave (issue 12: it was answered the name Beta had)."""
    phone = await db.fetchval("select phone from users where id = $1", world["elem_principal"])
    r = await client.post(STAFF.format(school=world["high"]),
                          json={"name": "Another Name", "phone": phone, "role": "staff"},
                          headers=bearer(world["principal"]))
    assert r.status_code == 201, r.text
    assert r.json()["user_id"] == str(world["elem_principal"])
    assert r.json()["name"] == "Another Name"
    assert await db.fetchval("select count(*) from users where phone = $1", phone) == 1
    schools = await client.get("/v1/schools", headers=bearer(world["elem_principal"]))
    assert {(s["name"], s["role"]) for s in schools.json()["items"]} == {
        ("Alpha High", "staff"), ("Beta Elementary", "principal")}


async def test_adding_someone_already_on_staff_is_409(client, db, world):
    """A second POST for the same phone points at PATCH instead."""
    phone = await db.fetchval("select phone from users where id = $1", world["teacher"])
    before = await snapshot(db)
    r = await client.post(STAFF.format(school=world["high"]), json=NEW | {"phone": phone},
                          headers=bearer(world["principal"]))
    assert r.status_code == 409 and "PATCH" in r.json()["detail"]
    assert await snapshot(db) == before


async def test_principal_cannot_grant_district_admin(client, db, world):
    """Neither as a new person nor by changing a teacher; nothing is stored."""
    before = await snapshot(db)
    headers = bearer(world["principal"])
    added = await client.post(STAFF.format(school=world["high"]),
                              json=NEW | {"role": "district_admin"}, headers=headers)
    changed = await client.patch(MEMBER.format(school=world["high"], user=world["teacher"]),
                                 json={"role": "district_admin"}, headers=headers)
    for r in (added, changed):
        assert r.status_code == 403, r.text
        assert r.json()["detail"] == "a principal may not grant the district_admin role"
    assert await snapshot(db) == before


async def test_district_admin_grants_district_admin_reaching_every_school(client, world):
    """A district_admin membership is the district's: the person reaches both schools."""
    r = await client.post(STAFF.format(school=world["high"]),
                          json=NEW | {"role": "district_admin"}, headers=bearer(world["admin"]))
    assert r.status_code == 201, r.text
    schools = await client.get("/v1/schools", headers=bearer(uuid.UUID(r.json()["user_id"])))
    assert {(s["name"], s["role"]) for s in schools.json()["items"]} == {
        ("Alpha High", "district_admin"), ("Beta Elementary", "district_admin")}


@pytest.mark.parametrize(("who", "current", "body", "status"), [
    ("sro", "principal", {"role": "teacher"}, 403),
    ("sro", "teacher", {"role": "principal"}, 403),
    ("principal", "admin", {"name": "Renamed"}, 403),
    ("principal", "admin", {"role": "teacher"}, 403),
    ("principal", "principal", {"role": "teacher"}, 403),
])
async def test_nobody_acts_above_their_role_or_on_their_own_membership(client, db, world, who,
                                                                     current, body, status):
    """An SRO neither demotes a principal nor makes one; a principal leaves a district admin
    alone; nobody changes their own role."""
    before = await snapshot(db)
    r = await client.patch(MEMBER.format(school=world["high"], user=world[current]), json=body,
                           headers=bearer(world[who]))
    assert r.status_code == status, r.text
    assert await snapshot(db) == before


async def test_a_role_change_takes_effect_on_the_next_request(client, world):
    """A teacher refused a drill is made SRO; their very next request may start one (the
    2 s cache of callers forgets a changed member in this process)."""
    teacher, drill = bearer(world["teacher"]), {"action": "hold", "drill": True}
    events = f"/v1/schools/{world['high']}/events"
    assert (await client.post(events, json=drill, headers=teacher)).status_code == 403
    r = await client.patch(MEMBER.format(school=world["high"], user=world["teacher"]),
                           json={"role": "sro"}, headers=bearer(world["principal"]))
    assert r.status_code == 200 and r.json()["role"] == "sro"
    assert (await client.post(events, json=drill, headers=teacher)).status_code == 201


async def test_a_removed_member_loses_access_at_once(client, db, world):
    """DELETE answers 204; the person's next request finds no school; the person and the
    audit entry stay."""
    teacher = bearer(world["teacher"])
    school = f"/v1/schools/{world['high']}"
    assert (await client.get(school, headers=teacher)).status_code == 200
    r = await client.delete(MEMBER.format(school=world["high"], user=world["teacher"]),
                            headers=bearer(world["principal"]))
    assert r.status_code == 204, r.text
    assert (await client.get(school, headers=teacher)).status_code == 404
    assert await db.fetchval("select count(*) from users where id = $1", world["teacher"]) == 1
    audit = await client.get(f"{school}/audit", headers=bearer(world["principal"]))
    assert audit.json()["items"][0]["kind"] == "staff_removed"


async def test_an_expired_substitute_loses_access_when_their_time_is_up(client, clock, world):
    """A substitute for the morning reaches the school until expires_at, then not; the
    staff list still shows them, inactive, until removed."""
    r = await client.post(STAFF.format(school=world["high"]),
                          json=NEW | {"expires_at": "2026-11-29T12:00:00Z"},
                          headers=bearer(world["principal"]))
    assert r.status_code == 201, r.text
    sub = r.json()["user_id"]
    school = f"/v1/schools/{world['high']}"
    assert (await client.get(school, headers=bearer(uuid.UUID(sub)))).status_code == 200
    clock.advance(hours=4)
    assert (await client.get(school, headers=bearer(uuid.UUID(sub)))).status_code == 404
    listed = (await staff_of(client, world))[sub]
    assert (listed["active"], listed["expires_at"]) == (False, "2026-11-29T12:00:00Z")


async def test_extending_a_substitute_restores_access(client, clock, world):
    """PATCH expires_at to a later time (or null for staff) brings them back at once."""
    r = await client.post(STAFF.format(school=world["high"]),
                          json=NEW | {"expires_at": "2026-11-29T12:00:00Z"},
                          headers=bearer(world["principal"]))
    sub = uuid.UUID(r.json()["user_id"])
    clock.advance(hours=4)
    assert (await client.get(f"/v1/schools/{world['high']}", headers=bearer(sub))
            ).status_code == 404
    r = await client.patch(MEMBER.format(school=world["high"], user=sub),
                           json={"expires_at": None}, headers=bearer(world["principal"]))
    assert r.status_code == 200 and r.json()["active"] is True
    assert (await client.get(f"/v1/schools/{world['high']}", headers=bearer(sub))
            ).status_code == 200


async def test_changing_a_persons_details_is_recorded_with_before_and_after(client, world):
    """Name, phone and email are the person's; the audit keeps what changed."""
    r = await client.patch(MEMBER.format(school=world["high"], user=world["teacher"]),
                           json={"name": "Pat Teacher", "phone": "512-555-0177",
                                 "email": "pat@example.org"},
                           headers=bearer(world["principal"]))
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["phone"], r.json()["email"]) == (
        "Pat Teacher", "+15125550177", "pat@example.org")
    audit = await client.get(f"/v1/schools/{world['high']}/audit",
                             headers=bearer(world["principal"]))
    changes = audit.json()["items"][0]["detail"]["changes"]
    assert set(changes) == {"name", "phone", "email"} and changes["email"] == [
        None, "pat@example.org"]


async def test_a_phone_that_is_someone_elses_is_409(client, db, world):
    """Two people cannot share a phone; nothing is stored."""
    phone = await db.fetchval("select phone from users where id = $1", world["sro"])
    before = await snapshot(db)
    r = await client.patch(MEMBER.format(school=world["high"], user=world["teacher"]),
                           json={"phone": phone}, headers=bearer(world["principal"]))
    assert r.status_code == 409, r.text
    assert await snapshot(db) == before


STAFF_ROUTES = [("GET", STAFF, None), ("POST", STAFF, NEW),
                ("PATCH", MEMBER, {"role": "staff"}), ("DELETE", MEMBER, None)]


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ROUTES)
@pytest.mark.parametrize(("who", "school", "status"), [
    ("teacher", "high", 403), ("staff", "high", 403), ("elem_principal", "high", 404),
    ("other_admin", "high", 404), ("principal", "elem", 404)])
async def test_staff_routes_refuse_teachers_and_outsiders(client, db, world, method, path, body,
                                                          who, school, status):
    """Teachers and staff are 403; another school's principal or district's admin 404, as
    for a school that does not exist; nothing is stored."""
    before = await snapshot(db)
    r = await client.request(method, path.format(school=world[school], user=world["teacher"]),
                             json=body, headers=bearer(world[who]))
    assert r.status_code == status, r.text
    assert await snapshot(db) == before


async def test_a_member_of_another_school_is_404_here(client, db, world):
    """Beta's principal is not Alpha's staff: changing or removing them via Alpha is 404."""
    for method, body in (("PATCH", {"role": "teacher"}), ("DELETE", None)):
        r = await client.request(method, MEMBER.format(school=world["high"],
                                                       user=world["elem_principal"]),
                                 json=body, headers=bearer(world["admin"]))
        assert r.status_code == 404, r.text


BAD_PEOPLE = [
    ({"phone": "555"}, "phone"),
    ({"phone": "not a phone"}, "phone"),
    ({"phone": "+1 512 555 01"}, "phone"),
    ({"phone": "5" * 41}, "phone"),
    ({"name": ""}, "name"),
    ({"name": " Maria"}, "name"),
    ({"name": "M" * 201}, "name"),
    ({"role": "janitor"}, "role"),
    ({"email": "maria"}, "email"),
    ({"email": "a@b\u0000c"}, "email"),
    ({"expires_at": "2026-11-29T07:00:00Z"}, "expires_at"),
    ({"expires_at": "2028-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "2026-11-30T07:00:00"}, "expires_at"),
    ({"expires_at": "tomorrow"}, "expires_at"),
    ({"admin": True}, "admin"),
]


@pytest.mark.parametrize(("change", "field"), BAD_PEOPLE)
async def test_bad_people_are_400_naming_the_field(client, db, world, change, field):
    """Adding or changing a person with a bad field is refused, naming it, storing nothing."""
    before = await snapshot(db)
    headers = bearer(world["principal"])
    added = await client.post(STAFF.format(school=world["high"]), json=NEW | change,
                              headers=headers)
    changed = await client.patch(MEMBER.format(school=world["high"], user=world["teacher"]),
                                 json=change, headers=headers)
    for r in (added, changed):
        assert r.status_code == 400, r.text
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert await snapshot(db) == before


@pytest.mark.parametrize("missing", ["name", "phone", "role"])
async def test_a_new_person_needs_name_phone_and_role(client, world, missing):
    r = await client.post(STAFF.format(school=world["high"]),
                          json={k: v for k, v in NEW.items() if k != missing},
                          headers=bearer(world["principal"]))
    assert r.status_code == 400 and missing in [e["field"] for e in r.json()["errors"]]


async def test_staff_import_adds_updates_and_keeps_the_rest(client, db, world):
    """New people are created, known phones get a membership, a changed role is changed,
    a row as things are is unchanged; people not in the file stay."""
    (sro_name, sro_phone), elem_phone = await db.fetchrow(
        "select name, phone from users where id = $1", world["sro"]), await db.fetchval(
        "select phone from users where id = $1", world["elem_principal"])
    content = (f"Name,Phone,Role,Email,Expires_At\n"
               f"Maria Gonzalez,(512) 555-0142,teacher,maria@example.org,\n"
               f"Sam Sub,512-555-0143,teacher,,2026-12-04\n"
               f"Whoever,{elem_phone},staff,,\n"
               f"{sro_name},{sro_phone},sro,,\n").encode()
    r = await client.post(IMPORT.format(school=world["high"]), content=content,
                          headers=bearer(world["principal"]) | CSV)
    assert r.status_code == 200, r.text
    assert r.json() == {"added": 3, "updated": 0, "unchanged": 1}
    staff = {m["phone"]: m for m in (await staff_of(client, world)).values()}
    assert staff["+15125550143"]["expires_at"] == "2026-12-05T06:00:00Z"  # end of 12-04, CST
    assert staff[elem_phone]["role"] == "staff" and len(staff) == 5 + 3
    entry = (await client.get(f"/v1/schools/{world['high']}/audit",
                              headers=bearer(world["principal"]))).json()["items"][0]
    assert (entry["kind"], entry["detail"]) == (
        "staff_imported", {"added": 3, "updated": 0, "unchanged": 1})


async def test_staff_import_role_change_takes_effect_at_once(client, world, db):
    """A file making the teacher an SRO lets them start a drill on their next request."""
    phone = await db.fetchval("select phone from users where id = $1", world["teacher"])
    teacher, drill = bearer(world["teacher"]), {"action": "hold", "drill": True}
    events = f"/v1/schools/{world['high']}/events"
    assert (await client.post(events, json=drill, headers=teacher)).status_code == 403
    r = await client.post(IMPORT.format(school=world["high"]),
                          content=f"name,phone,role\nT,{phone},sro\n".encode(),
                          headers=bearer(world["principal"]) | CSV)
    assert r.json() == {"added": 0, "updated": 1, "unchanged": 0}
    assert (await client.post(events, json=drill, headers=teacher)).status_code == 201


async def test_a_staff_csv_with_one_bad_row_imports_nothing(client, db, world):
    """Every problem is named by row and column; no person, membership or audit entry is
    stored, not even for the good rows."""
    before = await snapshot(db)
    content = (b"name,phone,role,expires_at\n"
               b"Good One,512-555-0150,teacher,\n"
               b"Bad Phone,555,teacher,\n"
               b"Good Two,512-555-0151,staff,\n"
               b"Bad Role,512-555-0152,district_admin,\n"
               b"Late Sub,512-555-0153,teacher,2026-11-01\n")
    r = await client.post(IMPORT.format(school=world["high"]), content=content,
                          headers=bearer(world["principal"]) | CSV)
    assert r.status_code == 400, r.text
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [
        (3, "phone"), (6, "expires_at")]
    assert await snapshot(db) == before
    # once the cells are right, what the principal may not do is named by row too
    content = (b"name,phone,role\nGood One,512-555-0150,teacher\n"
               b"Bad Role,512-555-0152,district_admin\n")
    r = await client.post(IMPORT.format(school=world["high"]), content=content,
                          headers=bearer(world["principal"]) | CSV)
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [{"row": 3, "column": "role", "message":
                                   "a principal may not grant the district_admin role"}]
    assert await snapshot(db) == before


@pytest.mark.parametrize(("who", "school", "status"), [
    ("teacher", "high", 403), ("elem_principal", "high", 404), ("other_admin", "high", 404)])
async def test_staff_import_refuses_teachers_and_outsiders(client, db, world, who, school,
                                                           status):
    before = await snapshot(db)
    r = await client.post(IMPORT.format(school=world[school]),
                          content=b"name,phone,role\nX,512-555-0150,teacher\n",
                          headers=bearer(world[who]) | CSV)
    assert r.status_code == status, r.text
    assert await snapshot(db) == before


async def test_a_staff_csv_with_a_quote_left_open_imports_nothing(client, db, world):
    """An open quote would make one person of three rows; the row it opened on is named."""
    before = await snapshot(db)
    content = (b'name,phone,role\n"Ann,512-555-0150,teacher\n'
               b'Bob,512-555-0151,teacher\nCy,512-555-0152,teacher"\n')
    r = await client.post(IMPORT.format(school=world["high"]), content=content,
                          headers=bearer(world["principal"]) | CSV)
    assert r.status_code == 400, r.text
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(2, "")]
    assert await snapshot(db) == before


async def test_staff_routes_refuse_bad_ids_and_pages(client, world):
    """Malformed ids in the path and cursors we never handed out are 400 or 404, never 500."""
    headers = bearer(world["admin"])
    assert (await client.get(STAFF.format(school="not-a-uuid"), headers=headers)
            ).status_code in (400, 404)
    for params in ({"limit": 0}, {"limit": 501}, {"cursor": "nonsense"}, {"cursor": "WzFd"}):
        r = await client.get(STAFF.format(school=world["high"]), params=params, headers=headers)
        assert r.status_code == 400, (params, r.text)
    r = await client.patch(MEMBER.format(school=world["high"], user=uuid.uuid4()),
                           json={"role": "staff"}, headers=headers)
    assert r.status_code == 404


def test_t0_is_the_clock_the_expiry_cases_assume():
    """The bad-expiry cases above are written for the fixture clock's start."""
    assert T0.isoformat() == "2026-11-29T08:00:00+00:00"


async def test_taking_a_district_admin_off_a_schools_staff_removes_them_from_the_district(
        client, db, world):
    """A district admin reaches every school through one membership; another district
    admin removing them at one school ends it, for every school."""
    second = await client.post(STAFF.format(school=world["high"]),
                               json=NEW | {"role": "district_admin"},
                               headers=bearer(world["admin"]))
    user = uuid.UUID(second.json()["user_id"])
    r = await client.delete(MEMBER.format(school=world["elem"], user=user),
                            headers=bearer(world["admin"]))
    assert r.status_code == 204, r.text
    assert (await client.get("/v1/schools", headers=bearer(user))).json()["items"] == []
