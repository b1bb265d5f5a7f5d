"""Check-ins over HTTP: store once, newest observation wins, late reports, accountability."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from domain.checkins import CheckIn, latest_per_room
from tests import factories
from tests.conftest import bearer


@pytest.fixture
async def lockdown(db, client):
    """An active real lockdown at a school of three rooms."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    rooms = await factories.rooms(db, s, 3)
    sro = await factories.person(db, d, s, "sro")
    teacher = await factories.person(db, d, s, "teacher")
    r = await client.post(f"/v1/schools/{s}/events", json={"action": "lockdown", "drill": False},
                          headers=bearer(sro))
    return {"event": r.json()["id"], "school": s, "district": d, "rooms": rooms, "sro": sro,
            "teacher": teacher}


def report(room, **fields):
    return {"client_id": str(uuid.uuid4()), "room_id": str(room), "status": "ok",
            "students_present": 24} | fields


async def post(client, lockdown, body, who="teacher"):
    return await client.post(f"/v1/events/{lockdown['event']}/checkins", json=body,
                             headers=bearer(lockdown[who]))


async def test_a_new_checkin_is_201_and_a_replay_is_200(client, lockdown, db, clock):
    """A report is stored once; the same client_id again returns the stored one."""
    body = report(lockdown["rooms"][0], students_missing=1, note="Jayden in the nurse's office")
    first = await post(client, lockdown, body)
    assert first.status_code == 201, first.text
    stored = first.json()
    assert (stored["received_at"], stored["observed_at"]) == ("2026-11-29T08:00:00Z",) * 2
    clock.advance(seconds=30)
    again = await post(client, lockdown, body | {"students_present": 99})
    assert again.status_code == 200 and again.json() == stored
    assert await db.fetchval("select count(*) from checkins") == 1


async def test_newest_observation_wins_whatever_the_arrival_order(client, lockdown, clock):
    """An offline phone's older report arriving late does not replace a newer one."""
    room = lockdown["rooms"][0]
    newer = report(room, status="needs_help", injured=1, observed_at="2026-11-29T08:05:00Z")
    older = report(room, status="ok", observed_at="2026-11-29T08:02:00Z")
    clock.advance(minutes=6)
    await post(client, lockdown, newer)
    await post(client, lockdown, older)
    acc = (await client.get(f"/v1/events/{lockdown['event']}/accountability",
                            headers=bearer(lockdown["sro"]))).json()
    assert (acc["rooms_reported"], acc["rooms_needs_help"], acc["rooms_ok"]) == (1, 1, 0)
    assert acc["rooms"][0]["reported_at"] == "2026-11-29T08:05:00Z"
    assert acc["students"] == {"present": 24, "missing": 0, "extra": 0, "injured": 1}


async def test_accountability_totals_and_unreported_rooms(client, lockdown):
    """Totals add the current report of each room; unreported rooms are listed by code."""
    a, b, c = lockdown["rooms"]
    await post(client, lockdown, report(a, students_present=20, students_extra=2))
    await post(client, lockdown, report(b, status="needs_help", students_present=18,
                                        students_missing=2))
    acc = (await client.get(f"/v1/events/{lockdown['event']}/accountability",
                            headers=bearer(lockdown["teacher"]))).json()
    assert {k: acc[k] for k in ("rooms_total", "rooms_reported", "rooms_ok",
                                "rooms_needs_help")} == {
        "rooms_total": 3, "rooms_reported": 2, "rooms_ok": 1, "rooms_needs_help": 1}
    assert acc["students"] == {"present": 38, "missing": 2, "extra": 2, "injured": 0}
    assert acc["unreported_rooms"] == [{"room_id": str(c), "code": "R-003", "name": "Room 3"}]
    detail = (await client.get(f"/v1/events/{lockdown['event']}",
                               headers=bearer(lockdown["teacher"]))).json()
    assert detail["accountability"] == acc


async def test_future_phone_clock_is_clamped_and_flagged(client, lockdown):
    """A report observed 10 minutes in our future is stored at its arrival, flagged."""
    r = await post(client, lockdown, report(lockdown["rooms"][0],
                                            observed_at="2026-11-29T08:10:00Z"))
    assert r.status_code == 201
    assert (r.json()["observed_at"], r.json()["clock_skew_flagged"]) == (
        "2026-11-29T08:00:00Z", True)


@pytest.mark.parametrize("observed_at", ["0001-01-01T00:00:00+01:00", "1970-01-01T00:00:05Z"])
async def test_phone_clock_far_in_the_past_is_clamped_and_flagged(client, lockdown, observed_at):
    """A report 'observed' long before the event began (a reset clock) is stored at its
    arrival time and flagged, so it can neither be lost nor slip past the all-clear."""
    r = await post(client, lockdown, report(lockdown["rooms"][0], observed_at=observed_at))
    assert r.status_code == 201
    assert (r.json()["observed_at"], r.json()["clock_skew_flagged"]) == (
        "2026-11-29T08:00:00Z", True)


async def test_late_report_is_kept_only_if_observed_before_the_all_clear(client, lockdown, clock):
    """After the all-clear, a queued report observed during the event is stored; a new one
    observed after the end is 409."""
    clock.advance(minutes=10)
    await client.post(f"/v1/events/{lockdown['event']}/all-clear", json={},
                      headers=bearer(lockdown["sro"]))
    clock.advance(minutes=5)
    during = report(lockdown["rooms"][0], observed_at="2026-11-29T08:04:00Z")
    assert (await post(client, lockdown, during)).status_code == 201
    after = await post(client, lockdown, report(lockdown["rooms"][1]))
    assert after.status_code == 409
    assert "too late" in after.json()["detail"]


async def test_an_event_ended_on_another_server_takes_only_what_was_observed_before(
        client, other_server, lockdown, clock, db):
    """This server holds a copy of the active event (it has just taken a report) when
    another server gives the all-clear. A report observed at the end is 409 and not
    stored; one observed before it is 201 and counted in the drill record."""
    a, b, c = lockdown["rooms"]
    clock.advance(minutes=5)
    assert (await post(client, lockdown, report(a))).status_code == 201
    ended = await other_server.post(f"/v1/events/{lockdown['event']}/all-clear", json={},
                                    headers=bearer(lockdown["sro"]))
    assert ended.status_code == 200
    too_late = await post(client, lockdown, report(b))
    assert too_late.status_code == 409 and "too late" in too_late.json()["detail"]
    offline = await post(client, lockdown, report(c, observed_at="2026-11-29T08:04:00Z"))
    assert offline.status_code == 201
    stored = await db.fetch("select room_id from checkins order by observed_at")
    assert [r["room_id"] for r in stored] == [c, a]
    record = await client.get(f"/v1/events/{lockdown['event']}/report",
                              headers=bearer(lockdown["sro"]))
    assert record.json()["timing"]["rooms_reported"] == 2


async def test_replay_after_the_event_closed_is_still_200(client, lockdown, clock):
    """A phone retrying a stored report after the all-clear gets it back, not a 409."""
    body = report(lockdown["rooms"][0])
    await post(client, lockdown, body)
    clock.advance(minutes=10)
    await client.post(f"/v1/events/{lockdown['event']}/all-clear", json={},
                      headers=bearer(lockdown["sro"]))
    assert (await post(client, lockdown, body)).status_code == 200


async def test_another_schools_room_is_refused_and_nothing_stored(client, lockdown, db):
    """A room of another school is a 400 naming room_id; no check-in is stored."""
    other = await factories.school(db, lockdown["district"], "Other")
    (foreign,) = await factories.rooms(db, other, 1)
    for room in (foreign, uuid.uuid4()):
        r = await post(client, lockdown, report(room))
        assert r.status_code == 400
        assert r.json()["errors"][0]["field"] == "room_id"
    assert await db.fetchval("select count(*) from checkins") == 0


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 2, 1, 0), (2, 0, 3, 1), (1, 3, 0, 2)])
async def test_database_merge_agrees_with_the_domain_in_any_order(client, lockdown, clock, order):
    """Whatever the arrival order, each room's current report in the database is the one
    domain.checkins.latest_per_room picks from the same stored reports."""
    a, b, _ = lockdown["rooms"]
    reports = [
        report(a, status="needs_help", injured=2, observed_at="2026-11-29T08:03:00Z"),
        report(a, status="ok", students_present=30, observed_at="2026-11-29T08:01:00Z"),
        report(b, status="ok", students_present=11, observed_at="2026-11-29T08:02:00Z"),
        report(b, status="needs_help", students_missing=3, observed_at="2026-11-29T08:02:00Z"),
    ]
    clock.advance(minutes=5)
    stored = []
    for n in order:
        clock.advance(seconds=1)
        r = await post(client, lockdown, reports[n])
        assert r.status_code == 201
        stored.append(msgspec.json.decode(r.content, type=CheckIn))
    expected = latest_per_room(stored)
    acc = (await client.get(f"/v1/events/{lockdown['event']}/accountability",
                            headers=bearer(lockdown["sro"]))).json()
    assert {(room["room_id"], room["status"], room["students_present"]) for room in acc["rooms"]} \
        == {(str(c.room_id), c.status, c.students_present) for c in expected.values()}
    assert acc["rooms"][0]["injured"] == 2  # room a: the newest observation, not the last sent
