"""The live dashboard page (`/events/{id}`) as the server renders it: who may open it and
what each viewer sees; the browser tests (tests/browser/test_dashboard.py) watch it live."""

from __future__ import annotations

import json
import re
import uuid

from api.pages.dashboard import plan
from api.usecases.dashboard import RoomNow
from domain.schools import Room
from tests import factories
from tests.conftest import bearer


async def _signed_in(client, db, user_id) -> None:
    session = await factories.browser_session(db, user_id)
    client.cookies.set("muster_session", session.cookie)


async def _school_with_drill(client, db) -> tuple[dict, str]:
    school = await factories.staffed_school(db, "teacher", "sro", room_count=3)
    await db.execute("update schools set name = 'Cedar Elementary' where id = $1", school["id"])
    event = await factories.start(client, school, action="lockdown", drill=True)
    return school, event


def _data(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="dashboard">(.*?)</script>', html,
                      re.S)
    assert block, html
    return json.loads(block.group(1))


async def _check_in(client, school, event, room, status="ok", **counts):
    body = {"client_id": str(uuid.uuid4()), "room_id": str(room), "status": status,
            "students_present": 20} | counts
    r = await client.post(f"/v1/events/{event}/checkins", json=body,
                          headers=bearer(school["teacher"]))
    assert r.status_code == 201, r.text


async def test_a_teacher_sees_the_rooms_and_totals_but_not_the_leads_figures(client, db):
    school, event = await _school_with_drill(client, db)
    await _check_in(client, school, event, school["rooms"][0])
    await _check_in(client, school, event, school["rooms"][1], "needs_help", injured=2,
                    note="Asthma <attack>")
    await _signed_in(client, db, school["teacher"])
    r = await client.get(f"/events/{event}")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert "DRILL" in r.text and "Cedar Elementary" in r.text and "Lockdown" in r.text
    assert re.search(r'id="t-help">1<', r.text) and re.search(r'id="t-safe">1<', r.text)
    assert re.search(r'id="t-unreported">1<', r.text) and re.search(r'id="t-injured">2<', r.text)
    assert 'data-status="needs_help"' in r.text and "Asthma &lt;attack&gt;" in r.text
    assert "for the school's safety leads" in r.text and "report.html" not in r.text
    data = _data(r.text)["dashboard"]
    # the start, two reports, and the help the second one asked for (docs/assists.md)
    assert data["seq"] == 4 and data["deliveries"] is None and not data["may_read_report"]
    assert data["people"] == {}  # the staff list is the leads'; a teacher sees the timeline's
    assert [e["seq"] for e in data["timeline"]] == [1, 2, 3, 4]


async def test_a_lead_sees_delivery_figures_and_an_ended_events_report_link(client, db):
    school, event = await _school_with_drill(client, db)
    r = await client.post(f"/v1/events/{event}/all-clear", headers=bearer(school["sro"]),
                          json={"message": "Drill over"})
    assert r.status_code == 200, r.text
    await _signed_in(client, db, school["sro"])
    r = await client.get(f"/events/{event}")
    assert r.status_code == 200, r.text
    assert f'href="/v1/events/{event}/report.html"' in r.text
    assert "All clear" in r.text and "Drill over" in r.text
    assert re.search(r"<strong>(Push|SMS)</strong>: \d+ sent", r.text), r.text
    data = _data(r.text)["dashboard"]
    assert data["may_read_report"] and data["deliveries"]
    assert set(data["people"]) == {str(school["teacher"]), str(school["sro"])}


async def test_another_schools_event_is_not_found_and_tells_nothing(client, db):
    school, event = await _school_with_drill(client, db)
    other = await factories.staffed_school(db, "principal", district_id=school["district"])
    await _signed_in(client, db, other["principal"])
    r = await client.get(f"/events/{event}")
    assert r.status_code == 404
    assert r.json()["detail"] == f"no event {event}"
    assert "Cedar" not in r.text and str(school["id"]) not in r.text


async def test_without_a_session_the_browser_signs_in_first(client, db):
    _, event = await _school_with_drill(client, db)
    r = await client.get(f"/events/{event}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/signin?next=/events/{event}"


async def test_a_role_the_school_denies_accountability_sees_the_event_without_rooms(client, db):
    school, event = await _school_with_drill(client, db)
    await db.execute("""update schools set policy = '{"read_accountability": ["sro"]}'
                        where id = $1""", school["id"])
    await _signed_in(client, db, school["teacher"])
    r = await client.get(f"/events/{event}")
    assert r.status_code == 200, r.text
    assert "Room accountability is not shown to teachers" in r.text
    assert 'id="t-present"' not in r.text and "R-001" not in r.text
    assert _data(r.text)["dashboard"]["rooms"] is None


async def test_nothing_in_the_data_can_end_its_script_block(client, db):
    school, event = await _school_with_drill(client, db)
    await db.execute("update rooms set name = '</script><script>alert(1)</script>' "
                     "where id = $1", school["rooms"][0])
    await _signed_in(client, db, school["teacher"])
    r = await client.get(f"/events/{event}")
    assert "<script>alert" not in r.text
    assert _data(r.text)["dashboard"]["rooms"][0]["room"]["name"].startswith("</script>")


def test_rooms_are_grouped_by_building_then_floor_rooms_without_either_last():
    def room(code, building=None, floor=None):
        return RoomNow(room=Room(id=uuid.uuid4(), code=code, name=code, building=building,
                                 floor=floor), checkin=None)

    rooms = [room("P-1"), room("B-201", "B", 2), room("A-101", "A", 1), room("B-002", "B"),
             room("B-101", "B", 1), room("A-102", "A", 1)]
    assert [(b.label, [(f.label, [r.room.code for r in f.rooms]) for f in b.floors])
            for b in plan(rooms)] == [
        ("A", [("Floor 1", ["A-101", "A-102"])]),
        ("B", [("Floor 1", ["B-101"]), ("Floor 2", ["B-201"]), ("", ["B-002"])]),
        ("Other rooms", [("", ["P-1"])])]


async def test_staff_names_and_the_update_control_are_the_leads(client, db):
    """Every viewer sees how many staff reported; who has not, by name, and the form to
    send an update are for the leads."""
    school, event = await _school_with_drill(client, db)
    r = await client.post(f"/v1/events/{event}/updates", json={"text": "Police <inside>."},
                          headers=bearer(school["sro"]))
    assert r.status_code == 201, r.text
    await _signed_in(client, db, school["teacher"])
    r = await client.get(f"/events/{event}")
    assert "Police &lt;inside&gt;." in r.text and 'class="update latest"' in r.text
    assert re.search(r'id="t-staff-unreported">2<', r.text)
    assert "Who has not reported is shown to those who manage" in r.text
    assert "Send an update" not in r.text
    staff = _data(r.text)["dashboard"]["staff"]
    assert staff["not_reported"] is None and staff["total"] == 2
    client.cookies.clear()
    await _signed_in(client, db, school["sro"])
    r = await client.get(f"/events/{event}")
    assert "Send an update" in r.text and 'id="staff-unreported"' in r.text
    assert len(_data(r.text)["dashboard"]["staff"]["not_reported"]) == 2
