"""Rooms saved in bulk by code, as JSON or CSV: ids kept, nothing deleted, all or nothing."""

from __future__ import annotations

import pytest

from tests import admin_world
from tests.admin_world import snapshot
from tests.conftest import bearer

world = admin_world.world

ROOMS = "/v1/schools/{school}/rooms"
IMPORT = ROOMS + "/import"
CSV = {"content-type": "text/csv"}


async def codes_and_ids(client, world) -> dict[str, str]:
    r = await client.get(ROOMS.format(school=world["high"]), params={"limit": 500},
                         headers=bearer(world["teacher"]))
    return {room["code"]: room["id"] for room in r.json()["items"]}


async def test_put_rooms_upserts_by_code_and_leaves_the_rest(client, world):
    """A known code keeps its id and takes the new description; a new code is a new room;
    rooms not listed stay as they were. The answer lists the rooms in the order sent."""
    before = await codes_and_ids(client, world)
    body = [{"code": "GYM", "name": "Gym", "capacity": 400},
            {"code": "R-001", "name": "Science Lab", "building": "B", "floor": 2}]
    r = await client.put(ROOMS.format(school=world["high"]), json=body,
                         headers=bearer(world["principal"]))
    assert r.status_code == 200, r.text
    saved = r.json()
    assert (saved["created"], saved["updated"], saved["unchanged"]) == (1, 1, 0)
    assert [room["code"] for room in saved["items"]] == ["GYM", "R-001"]
    assert saved["items"][1] == {"id": before["R-001"], "code": "R-001", "name": "Science Lab",
                                 "building": "B", "floor": 2, "capacity": None}
    after = await codes_and_ids(client, world)
    assert after == before | {"GYM": saved["items"][0]["id"]}


async def test_saving_the_same_rooms_again_changes_nothing(client, world):
    """A second identical PUT reports every room unchanged."""
    body = [{"code": "R-001", "name": "Room 1"}]
    r = await client.put(ROOMS.format(school=world["high"]), json=body,
                         headers=bearer(world["admin"]))
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 0, 1)


@pytest.mark.parametrize(("who", "school", "status"), [
    ("sro", "high", 403), ("teacher", "high", 403), ("staff", "high", 403),
    ("elem_principal", "high", 404), ("other_admin", "high", 404), ("principal", "elem", 404)])
async def test_rooms_are_for_the_schools_principal_and_district_admin(client, db, world, who,
                                                                      school, status):
    """Others are refused by role (403) or do not see the school at all (404); neither
    the JSON nor the CSV way stores anything."""
    before = await snapshot(db)
    headers = bearer(world[who])
    put = await client.put(ROOMS.format(school=world[school]),
                           json=[{"code": "X", "name": "X"}], headers=headers)
    imported = await client.post(IMPORT.format(school=world[school]),
                                 content=b"code,name\nX,X\n", headers=headers | CSV)
    assert (put.status_code, imported.status_code) == (status, status), (put.text, imported.text)
    assert await snapshot(db) == before


async def test_a_schools_policy_may_let_sros_manage_rooms(client, db, world):
    """manage_rooms is overridable like every permission."""
    await db.execute("""update schools set policy = '{"manage_rooms": ["sro", "principal",
                        "district_admin"]}' where id = $1""", world["high"])
    r = await client.put(ROOMS.format(school=world["high"]), json=[{"code": "X", "name": "X"}],
                         headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text


BAD_ROOMS = [
    ([], "body"),
    ({"code": "X", "name": "X"}, "body"),
    ([{"code": "X"}], "[0].name"),
    ([{"name": "X"}], "[0].code"),
    ([{"code": "", "name": "X"}], "[0].code"),
    ([{"code": " X", "name": "X"}], "[0].code"),
    ([{"code": "C" * 41, "name": "X"}], "[0].code"),
    ([{"code": "X", "name": "X", "floor": 201}], "[0].floor"),
    ([{"code": "X", "name": "X", "floor": -6}], "[0].floor"),
    ([{"code": "X", "name": "X", "floor": "2"}], "[0].floor"),
    ([{"code": "X", "name": "X", "capacity": 10001}], "[0].capacity"),
    ([{"code": "X", "name": "X", "capacity": 1.5}], "[0].capacity"),
    ([{"code": "X", "name": "X", "building": "B" * 101}], "[0].building"),
    ([{"code": "X", "name": "a\u0000b"}], "[0].name"),
    ([{"code": "X", "name": "X", "id": "abc"}], "[0].id"),
    ([{"code": "X", "name": "X"}, {"code": "Y", "name": "Y"}, {"code": "X", "name": "Z"}],
     "[2].code"),
    ([{"code": f"X{n}", "name": "X"} for n in range(2001)], "body"),
]


@pytest.mark.parametrize(("body", "field"), BAD_ROOMS)
async def test_bad_room_lists_are_400_naming_the_item_and_field(client, db, world, body, field):
    """A bad room anywhere in the list refuses the whole list, naming it; nothing stored."""
    before = await snapshot(db)
    r = await client.put(ROOMS.format(school=world["high"]), json=body,
                         headers=bearer(world["principal"]))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert await snapshot(db) == before


async def test_every_bad_room_of_a_list_is_named(client, db, world):
    """Each bad field of each room is named, by its place in the list, in one answer."""
    body = [{"code": "", "name": "X"}, {"code": "Y", "name": "Y", "floor": "2", "colour": 1},
            {"code": "Z", "name": "Z"}, {"name": 5}]
    before = await snapshot(db)
    r = await client.put(ROOMS.format(school=world["high"]), json=body,
                         headers=bearer(world["principal"]))
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [
        "[0].code", "[1].floor", "[1].colour", "[3].name", "[3].code"]
    assert await snapshot(db) == before


async def test_a_list_of_bad_rooms_names_the_first_hundred_problems(client, db, world):
    """A body with thousands of bad fields is not walked to its end: 100 are named, and
    the answer says there are more."""
    r = await client.put(ROOMS.format(school=world["high"]), json=[{}] * 5000,
                         headers=bearer(world["principal"]))
    assert r.status_code == 400, r.text
    errors = r.json()["errors"]
    assert [e["field"] for e in errors[:4]] == ["[0].code", "[0].name", "[1].code", "[1].name"]
    assert len(errors) == 101 and errors[-1]["field"] == "body"
    assert "more than 100 problems" in errors[-1]["message"]


async def test_rooms_import_from_csv(client, world):
    """A spreadsheet's rooms are created or updated by code; the audit says it was an
    import."""
    content = (b"Code,Name,Building,Floor,Capacity\r\n"
               b"R-001,Room 1 (renamed),A,1,30\r\n"
               b"GYM,Gym,,,\r\n")
    r = await client.post(IMPORT.format(school=world["high"]), content=content,
                          headers=bearer(world["principal"]) | CSV)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (1, 1, 0)
    assert set(await codes_and_ids(client, world)) == {"R-001", "R-002", "R-003", "GYM"}
    audit = await client.get(f"/v1/schools/{world['high']}/audit",
                             headers=bearer(world["principal"]))
    assert audit.json()["items"][0]["kind"] == "rooms_imported"


async def test_a_csv_with_one_bad_row_imports_nothing(client, db, world):
    """Good rows before and after a bad one are not stored either; the answer names each
    bad row as a spreadsheet numbers it (the header is row 1) and its column."""
    before = await snapshot(db)
    content = b"code,name,floor\nNEW-1,New,1\nNEW-2,Bad,upstairs\nNEW-3,New,2\nNEW-4,,\n"
    r = await client.post(IMPORT.format(school=world["high"]), content=content,
                          headers=bearer(world["principal"]) | CSV)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["errors"] == [
        {"row": 3, "column": "floor", "message": "'upstairs' is not a whole number"},
        {"row": 5, "column": "name", "message": "required"}]
    assert problem["error_count"] == 2 and problem["type"] == "urn:muster:problem:invalid-rows"
    assert problem["detail"].startswith("2 problems in the file, so nothing was imported")
    assert await snapshot(db) == before


@pytest.mark.parametrize(("content", "row", "column"), [
    (b"", 1, ""),
    (b"code\nX\n", 1, "name"),
    (b"code,name,colour\nX,X,red\n", 1, "colour"),
    (b"code,name\nX,Caf\xe9\n", 2, ""),
    (b"code,name\nX,A\nX,B\n", 3, "code"),
    (b'code,name\nT-1,"abc\nT-2,def\nT-3,ghi', 2, ""),  # a quote left open
])
async def test_bad_files_are_refused_by_row(client, db, world, content, row, column):
    """Empty files, missing or unknown columns, other encodings, repeated codes."""
    before = await snapshot(db)
    r = await client.post(IMPORT.format(school=world["high"]), content=content,
                          headers=bearer(world["principal"]) | CSV)
    assert r.status_code == 400, r.text
    assert (r.json()["errors"][0]["row"], r.json()["errors"][0]["column"]) == (row, column)
    assert await snapshot(db) == before


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
async def test_import_needs_text_csv(client, db, world, content_type):
    """A file sent as anything but text/csv is 415, naming the type to use."""
    before = await snapshot(db)
    headers = bearer(world["principal"]) | ({"content-type": content_type} if content_type
                                            else {})
    r = await client.post(IMPORT.format(school=world["high"]), content=b"code,name\nX,X\n",
                          headers=headers)
    assert r.status_code == 415, r.text
    assert "text/csv" in r.json()["detail"]
    assert await snapshot(db) == before


async def test_rooms_with_check_ins_keep_them_when_renamed(client, db, world):
    """An update never replaces a room: a check-in still points at the renamed room."""
    start = await client.post(f"/v1/schools/{world['high']}/events",
                              json={"action": "lockdown", "drill": True},
                              headers=bearer(world["principal"]))
    room_id = (await codes_and_ids(client, world))["R-001"]
    checkin = await client.post(f"/v1/events/{start.json()['id']}/checkins",
                                json={"client_id": "7b0e5d4a-5f0e-4b8e-9a53-2d8d7f3c1a10",
                                      "room_id": room_id, "status": "ok",
                                      "students_present": 20},
                                headers=bearer(world["teacher"]))
    assert checkin.status_code == 201, checkin.text
    r = await client.post(IMPORT.format(school=world["high"]),
                          content=b"code,name\nR-001,Room One\n",
                          headers=bearer(world["principal"]) | CSV)
    assert r.json()["updated"] == 1
    assert await db.fetchval("select count(*) from checkins where room_id = $1", room_id) == 1
