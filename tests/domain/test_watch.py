"""A contact's read-only link: its token is its own, and the view shows what a
responding officer needs, and no person."""

from __future__ import annotations

import uuid
from datetime import timedelta

from domain.checkins import CheckIn, CheckInStatus
from domain.links import Links
from domain.schools import Room, School
from domain.watch import WhatWeKnow, watch_token, watch_url, watch_view
from tests.domain.test_contacts import NOW, event

LINKS = Links(secret="s" * 32, base_url="https://muster.example.org/")
SCHOOL = School(id=uuid.UUID(int=1), district_id=uuid.UUID(int=2), name="Riverbend High",
                timezone="America/Chicago", state="TX", school_year_start_month=8,
                school_year_start_day=12, address="4200 River Road")
ROOMS = [Room(id=uuid.UUID(int=10 + n), code=f"B-10{n}", name=f"Lab {n}") for n in range(4)]
REPORTER = uuid.UUID(int=77)


def report(room: Room, status: CheckInStatus, **counts: object) -> CheckIn:
    return CheckIn(id=uuid.uuid4(), event_id=uuid.UUID(int=100), room_id=room.id,
                   client_id=uuid.uuid4(), status=status, students_present=20,
                   observed_at=NOW + timedelta(minutes=3), received_at=NOW + timedelta(minutes=3),
                   reported_by=REPORTER, **counts)


def test_a_contacts_token_is_not_a_persons_and_names_its_event_and_contact():
    event_id, contact_id = uuid.UUID(int=100), uuid.UUID(int=501)
    token = watch_token(LINKS, event_id, contact_id)
    assert len(token) == 22 and token == watch_token(LINKS, event_id, contact_id)
    assert token != LINKS.token(event_id, contact_id)  # a person's link, same ids
    assert token != watch_token(LINKS, event_id, uuid.UUID(int=502))
    assert watch_url(LINKS, token) == f"https://muster.example.org/w/{token}"


def test_the_view_lists_rooms_in_need_unreported_rooms_totals_and_updates():
    latest = {ROOMS[0].id: report(ROOMS[0], CheckInStatus.NEEDS_HELP, students_missing=2,
                                  injured=1, note="Door will not lock"),
              ROOMS[1].id: report(ROOMS[1], CheckInStatus.OK, students_missing=1)}
    update = WhatWeKnow(at=NOW + timedelta(minutes=5), text="Suspect seen near the gym",
                    threat_location="Gym")
    view = watch_view(event(drill=False), SCHOOL, ROOMS, latest, [update], None)
    assert (view.school_name, view.address, view.drill, view.action) == (
        "Riverbend High", "4200 River Road", False, "lockdown")
    [in_need] = view.rooms_needing_help
    assert (in_need.code, in_need.students_missing, in_need.injured, in_need.note) == (
        "B-100", 2, 1, "Door will not lock")
    assert [r.code for r in view.rooms_not_reported] == ["B-102", "B-103"]
    assert (view.students.missing, view.students.injured) == (3, 1)
    assert (view.rooms_reported, view.rooms_total, view.updates) == (2, 4, [update])
    assert str(REPORTER) not in repr(view)  # nobody's identity
