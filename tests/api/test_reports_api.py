"""Drill records over HTTP: kept when an event ends, recomputed by a late offline report,
read as JSON, CSV or a printable page; after-action notes kept as revisions."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest

from db.outbox import Outcome, claim, record_outcomes
from tests import factories
from tests.conftest import T0, bearer


@pytest.fixture
async def school(db):
    """A school of four rooms with a person in every role, and another district's SRO."""
    school = await factories.staffed_school(db, *factories.STAFF, room_count=4)
    other_d = await factories.district(db, "Other ISD")
    school["district_admin"] = await factories.person(db, school["district"], None,
                                                      "district_admin")
    school["outsider"] = await factories.person(
        db, other_d, await factories.school(db, other_d, "Other High"), "sro")
    return school


async def check_in(client, school, event_id, room, who="teacher", **fields):
    body = {"client_id": str(uuid.uuid4()), "room_id": str(school["rooms"][room]),
            "status": "ok", "students_present": 20} | fields
    r = await client.post(f"/v1/events/{event_id}/checkins", json=body,
                          headers=bearer(school[who]))
    assert r.status_code == 201, r.text


async def hand_off(db, clock) -> int:
    """What a dispatcher does: claim the due messages and record each as sent, now."""
    messages = (await claim(db, clock.now, 100, timedelta(seconds=30))).messages
    await record_outcomes(db, clock.now, [Outcome(message_id=m.id, outcome="sent",
                                                  provider_id=f"p-{m.id}") for m in messages])
    return len(messages)


async def end(client, school, event_id, how="all-clear", who="sro"):
    body = {"reason": "pressed by mistake"} if how == "cancel" else {}
    r = await client.post(f"/v1/events/{event_id}/{how}", json=body,
                          headers=bearer(school[who]))
    assert r.status_code == 200, r.text


async def get_report(client, school, event_id, who="principal", **params):
    return await client.get(f"/v1/events/{event_id}/report", params=params,
                            headers=bearer(school[who]))


NURSE = "Two students hurt, need nurse"


@pytest.fixture
async def drill(client, db, school, clock):
    """A lockdown drill: alerts handed off at 1.5 s, an acknowledgement at 20 s, rooms 1
    and 2 report at 30 s and 45 s (2 needs help, and at 50 s writes NURSE), an evacuation
    at 60 s, all-clear at 5 min."""
    event_id = await factories.start(client, school, "principal", drill=True)
    clock.advance(seconds=1.5)
    assert await hand_off(db, clock) == 4  # teacher, staff, SRO, principal; no device: SMS
    clock.advance(seconds=18.5)
    await client.post(f"/v1/events/{event_id}/ack", headers=bearer(school["teacher"]))
    clock.advance(seconds=10)
    await check_in(client, school, event_id, 0)
    clock.advance(seconds=15)
    await check_in(client, school, event_id, 1, status="needs_help", students_missing=1,
                   who="staff", note="All here")
    clock.advance(seconds=5)
    await check_in(client, school, event_id, 1, status="needs_help", students_missing=1,
                   who="staff", note=NURSE)
    clock.advance(seconds=10)
    r = await client.post(f"/v1/events/{event_id}/actions",
                          json={"action": "evacuate", "location": "Football field"},
                          headers=bearer(school["sro"]))
    assert r.status_code == 200
    clock.advance(seconds=240)
    await end(client, school, event_id)
    return event_id


async def test_the_record_is_kept_when_the_drill_ends(client, db, school, drill):
    """The all-clear stores the timing record; the report reads it with every figure."""
    assert await db.fetchval("select count(*) from event_reports where event_id = $1",
                             uuid.UUID(drill)) == 1
    r = await get_report(client, school, drill)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["partial"], body["event"]["status"]) == (False, "all_clear")
    t = body["timing"]
    assert {k: t[k] for k in ("notified_first_s", "notified_all_s", "alerts", "recipients",
                              "acknowledged_60s", "acknowledged_pct_60s", "first_checkin_s",
                              "rooms_50_s", "rooms_90_s", "rooms_100_s", "duration_s")} == {
        "notified_first_s": 1.5, "notified_all_s": 1.5, "alerts": 4, "recipients": 4,
        "acknowledged_60s": 1, "acknowledged_pct_60s": 25.0, "first_checkin_s": 30.0,
        "rooms_50_s": 45.0, "rooms_90_s": None, "rooms_100_s": None, "duration_s": 300.0}
    assert [r["code"] for r in t["unreported_rooms"]] == ["R-003", "R-004"]
    assert [(r["code"], r["status"], r["reported_by"], r["note"]) for r in t["rooms"][:3]] == [
        ("R-001", "ok", str(school["teacher"]), None),
        ("R-002", "needs_help", str(school["staff"]), NURSE), ("R-003", None, None, None)]
    assert body["people"][str(school["staff"])].startswith("Staff")
    assert [(m["at_s"], m["label"]) for m in t["chart"]["markers"]] == [
        (0.0, "lockdown"), (60.0, "evacuate"), (300.0, "all_clear")]
    assert body["after_action"] is None


async def test_a_late_offline_report_recomputes_the_record(client, db, school, drill, clock):
    """A report observed at 2 min, replayed 10 min after the all-clear, joins the record at
    2 min and is marked as having arrived after the end."""
    clock.advance(minutes=10)
    await check_in(client, school, drill, 2, observed_at="2026-11-29T08:02:00Z")
    assert await db.fetchval("select computed_at from event_reports") == clock.now
    t = (await get_report(client, school, drill)).json()["timing"]
    assert (t["rooms_reported"], t["rooms_90_s"]) == (3, None)
    room = t["rooms"][2]
    assert (room["time_to_report_s"], room["arrived_after_end"]) == (120.0, True)


async def test_a_message_sent_twice_counts_from_its_first_hand_off(client, db, school, clock):
    """A message whose lease ran out mid-send is claimed and sent again: its sent_at is
    the second hand-off, and the record counts the first (the deliveries keep both)."""
    event_id = await factories.start(client, school, "principal", drill=True)
    clock.advance(seconds=2)
    assert await hand_off(db, clock) > 0
    first = clock.now
    some = await db.fetchval("select min(id) from notification_outbox where kind = 'alert'")
    await db.execute("update notification_outbox set state = 'queued' where id = $1", some)
    clock.advance(seconds=40)
    assert await hand_off(db, clock) == 1
    assert await db.fetchval("select (attempts, sent_at) = (2, $2) from notification_outbox "
                             "where id = $1", some, clock.now)
    t = (await get_report(client, school, event_id)).json()["timing"]
    assert t["notified_all_s"] == (first - T0).total_seconds()


async def test_reading_the_record_does_not_change_it(client, db, school, drill, clock):
    """Once kept, the record is served as kept: later hand-offs do not move it."""
    first = (await get_report(client, school, drill)).json()
    clock.advance(minutes=30)
    await hand_off(db, clock)  # the all-clear messages
    assert (await get_report(client, school, drill)).json() == first


async def test_an_active_event_gets_a_partial_record_that_is_not_kept(client, db, school, clock):
    """Mid-drill the report is computed live, marked partial, and nothing is stored."""
    event_id = await factories.start(client, school, "principal", drill=True)
    clock.advance(seconds=42)
    await check_in(client, school, event_id, 0)
    body = (await get_report(client, school, event_id)).json()
    assert (body["partial"], body["timing"]["as_of_s"], body["timing"]["duration_s"]) == (
        True, 42.0, None)
    page = await client.get(f"/v1/events/{event_id}/report.html",
                            headers=bearer(school["sro"]))
    assert page.status_code == 200 and "IN PROGRESS" in page.text
    assert await db.fetchval("select count(*) from event_reports") == 0


async def test_a_cancelled_event_keeps_its_record(client, db, school, clock):
    """A false alarm cancelled after 8 s has a record of 8 s, ended as cancelled."""
    event_id = await factories.start(client, school, "teacher")
    clock.advance(seconds=8)
    await end(client, school, event_id, "cancel")
    t = (await get_report(client, school, event_id)).json()["timing"]
    assert (t["duration_s"], t["chart"]["markers"][-1]["label"]) == (8.0, "cancelled")


async def test_a_superseded_drill_keeps_its_record(client, db, school, clock):
    """A real lockdown during a drill ends the drill, and the drill's record is kept."""
    drill_id = await factories.start(client, school, "principal", drill=True)
    clock.advance(seconds=90)
    await factories.start(client, school, "teacher")
    stored = await db.fetchval("select record from event_reports where event_id = $1",
                               uuid.UUID(drill_id))
    assert (stored["duration_s"], stored["chart"]["markers"][-1]["label"]) == (
        90.0, "superseded")


async def test_the_end_stands_when_its_record_cannot_be_stored(client, db, school, clock):
    """If keeping the record fails, the all-clear still succeeds; the record is computed
    and kept when it is first read."""
    event_id = await factories.start(client, school, "principal", drill=True)
    clock.advance(minutes=3)
    await db.execute("alter table event_reports rename to event_reports_away")
    try:
        await end(client, school, event_id)
    finally:
        await db.execute("alter table event_reports_away rename to event_reports")
    assert await db.fetchval("select status from events") == "all_clear"
    assert await db.fetchval("select count(*) from event_reports") == 0
    r = await get_report(client, school, event_id)
    assert r.status_code == 200 and r.json()["timing"]["duration_s"] == 180.0
    assert await db.fetchval("select count(*) from event_reports") == 1


async def test_csv_has_the_figures_then_one_row_per_room(client, school, drill):
    """?format=csv: `figure,value` rows, a blank line, then every room."""
    r = await get_report(client, school, drill, format="csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert f"muster-report-{drill}.csv" in r.headers["content-disposition"]
    figures_block, rooms_block = r.text.split("\r\n\r\n")
    figures = dict(csv.reader(io.StringIO(figures_block)))
    assert (figures["status"], figures["duration_s"], figures["rooms_100_s"]) == (
        "all_clear", "300.0", "")
    assert figures["unreported_rooms"] == "R-003; R-004"  # codes may hold spaces
    rooms = list(csv.DictReader(io.StringIO(rooms_block)))
    assert [(row["room_code"], row["status"], row["time_to_report_s"]) for row in rooms] == [
        ("R-001", "ok", "30.0"), ("R-002", "needs_help", "45.0"), ("R-003", "", ""),
        ("R-004", "", "")]
    assert rooms[1]["students_missing"] == "1" and rooms[1]["reporter"].startswith("Staff")
    assert [row["note"] for row in rooms] == ["", NURSE, "", ""]


async def test_csv_cells_that_a_spreadsheet_would_run_are_defused(client, db, school, drill,
                                                                  clock):
    """A room named like a formula, or a note written like one, is exported with a leading
    apostrophe."""
    await db.execute("update rooms set name = '=HYPERLINK(\"http://x\")' where code = 'R-001'")
    clock.advance(minutes=10)  # a report made at 2:00, replayed late: the record is computed
    await check_in(client, school, drill, 2, note="@SUM(1+1)*cmd|' /C calc'!A0",
                   observed_at="2026-11-29T08:02:00Z")
    rows = (await get_report(client, school, drill, format="csv")).text.split("\r\n\r\n")[1]
    first, _, third, _ = csv.DictReader(io.StringIO(rows))
    assert first["room_name"] == "'=HYPERLINK(\"http://x\")"
    assert third["note"] == "'@SUM(1+1)*cmd|' /C calc'!A0"


async def test_the_page_is_html_with_the_chart_and_rooms(client, school, drill):
    """report.html is a page with the figures, an SVG chart and the rooms."""
    r = await client.get(f"/v1/events/{drill}/report.html", headers=bearer(school["sro"]))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.text.startswith("<!DOCTYPE html>") and "<svg" in r.text and "R-004" in r.text
    assert "<script" not in r.text.lower()
    assert f"<b>Note:</b> <span class=\"text\">{NURSE}</span>" in r.text


async def test_a_typed_note_cannot_inject_markup_into_the_page(client, school, clock):
    """A room's note is text on the page, whatever it holds."""
    event_id = await factories.start(client, school, "principal", drill=True)
    clock.advance(seconds=20)
    await check_in(client, school, event_id, 0, note='<img src=x onerror="alert(1)">')
    page = (await client.get(f"/v1/events/{event_id}/report.html",
                             headers=bearer(school["sro"]))).text
    assert "<img" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


NOTES = {
    "scheduled_at": "2026-11-29T07:55:00-06:00",
    "during": "passing",
    "participants": {"students": 540, "staff": 41, "visitors": 2},
    "observers": [{"name": "Maria Ruiz", "agency": "Riverbend Fire Department",
                   "role": "Fire marshal", "certification": "TCFP #4471"}],
    "notification_method": "PA announcement and Muster push",
    "problems": [{"kind": "door_would_not_lock", "detail": "B-114 latch"},
                 {"kind": "other", "detail": "Portable 3 did not hear the PA"}],
    "lessons_learned": "Check latches in B wing before the next drill.",
    "report": "Drill completed. Two findings.",
}


async def test_after_action_notes_are_kept_as_revisions(client, db, school, drill, clock):
    """Each PUT is a new revision with who and when; the report shows the latest."""
    url = f"/v1/events/{drill}/after-action"
    clock.advance(hours=1)
    first = await client.put(url, json=NOTES, headers=bearer(school["principal"]))
    assert first.status_code == 200, first.text
    assert (first.json()["revision"], first.json()["edited_by"]) == (
        1, str(school["principal"]))
    clock.advance(hours=1)
    second = await client.put(url, json=NOTES | {"report": "Final.", "observers": []},
                              headers=bearer(school["district_admin"]))
    assert (second.json()["revision"], second.json()["edited_at"]) == (
        2, "2026-11-29T10:05:00Z")
    assert await db.fetchval("select count(*) from after_action_revisions") == 2
    body = (await get_report(client, school, drill, who="sro")).json()
    notes = body["after_action"]
    assert (notes["revision"], notes["report"], notes["observers"]) == (2, "Final.", [])
    assert notes["scheduled_at"] == "2026-11-29T13:55:00Z"
    assert notes["problems"] == NOTES["problems"]
    assert str(school["district_admin"]) in body["people"]
    page = (await client.get(f"/v1/events/{drill}/report.html",
                             headers=bearer(school["sro"]))).text
    assert "B-114 latch" in page and "revision 2" in page
    exported = (await get_report(client, school, drill, format="csv")).text.split("\r\n\r\n")[0]
    figures = dict(csv.reader(io.StringIO(exported)))
    assert (figures["during"], figures["problems"], figures["after_action_revision"]) == (
        "passing", "door_would_not_lock: B-114 latch; other: Portable 3 did not hear the PA",
        "2")


async def test_after_action_of_an_active_event_is_409(client, db, school):
    """Notes are for an ended event; nothing is stored while it is active."""
    event_id = await factories.start(client, school, "principal", drill=True)
    r = await client.put(f"/v1/events/{event_id}/after-action", json=NOTES,
                         headers=bearer(school["principal"]))
    assert r.status_code == 409 and "still active" in r.json()["detail"]
    assert await db.fetchval("select count(*) from after_action_revisions") == 0
