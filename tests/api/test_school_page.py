"""A school's page (GET /schools/{id}): what each role sees and may do there, and that
nobody else sees anything of it."""

from __future__ import annotations

import re

from api.pages.schools import MISSES
from domain.readiness import ReachProblem
from domain.srp import Action, Hazard, Purpose
from tests import factories
from tests.conftest import bearer


async def signed_in(client, db, user_id) -> None:
    session = await factories.browser_session(db, user_id)
    client.cookies.set("muster_session", session.cookie)


async def test_a_principal_sees_the_running_event_its_controls_reports_and_readiness(client, db):
    school = await factories.staffed_school(db, "principal", "sro", "teacher")
    await db.execute("update schools set name = 'Cedar <Elem>' where id = $1", school["id"])
    ended = await factories.start(client, school, action="hold", drill=True)
    await client.post(f"/v1/events/{ended}/all-clear", headers=bearer(school["sro"]), json={})
    active = await factories.start(client, school, action="evacuate", location="the field")
    await signed_in(client, db, school["principal"])
    r = await client.get(f"/schools/{school['id']}")
    assert r.status_code == 200, r.text
    html = r.text
    assert "<h1>Cedar &lt;Elem&gt;</h1>" in html and "EVACUATE in progress" in html
    assert f'href="/events/{active}"' in html and "Go to the field." in html
    assert f'data-event-controls data-event-id="{active}"' in html
    assert "Send the new action" in html and "Cancel as a false alarm" in html
    assert "Yes, all clear" in html
    for event in (ended, active):
        assert f'href="/v1/events/{event}/report.html"' in html
    assert "Who an alert would miss today" in html and "Everyone here can be reached." in html
    # nobody has the app: all three are reached by text, and the page says so in one line
    assert "3 people have no phone\n    with the app: their alerts come by text" in html
    assert 'id="start"' not in html  # a real event runs: nothing else may start


async def test_a_teacher_may_start_a_real_event_only_and_run_or_read_nothing(client, db):
    school = await factories.staffed_school(db, "teacher", "sro")
    active = await factories.start(client, school, action="lockdown", drill=True)
    await signed_in(client, db, school["teacher"])
    html = (await client.get(f"/schools/{school['id']}")).text
    assert "DRILL · LOCKDOWN in progress" in html and f'href="/events/{active}"' in html
    assert "data-event-controls" not in html and "report.html" not in html
    assert "Who an alert would miss" not in html
    # the drill may give way to a real event, which the teacher may start: no drill switch
    assert 'id="start"' in html and 'role="switch"' not in html
    assert '<input type="hidden" name="drill" value="real">' in html
    assert "A real event ends the drill that is running." in html


async def test_a_lead_starts_a_drill_by_default_when_nothing_runs(client, db):
    school = await factories.staffed_school(db, "sro")
    await signed_in(client, db, school["sro"])
    html = (await client.get(f"/schools/{school['id']}")).text
    assert "No event is running at this school." in html
    assert re.search(r'<input type="checkbox" role="switch" id="drill" name="drill" checked>',
                     html)
    assert 'data-hold-ms="1500"' in html and 'data-countdown-s="5"' in html


async def test_the_choices_are_the_domains_actions_hazards_and_purposes(client, db):
    school = await factories.staffed_school(db, "sro")
    await signed_in(client, db, school["sro"])
    html = (await client.get(f"/schools/{school['id']}")).text
    assert set(re.findall(r'name="start-action" value="(\w+)"', html)) == set(Action)
    assert set(re.findall(r'<option value="(\w+)">', html)) == set(Hazard) | set(Purpose)


async def test_a_district_admin_reaches_every_school_of_the_district(client, db):
    school = await factories.staffed_school(db, "teacher")
    admin = await factories.person(db, school["district"], None, "district_admin")
    await signed_in(client, db, admin)
    r = await client.get(f"/schools/{school['id']}")
    assert r.status_code == 200 and "Who an alert would miss today" in r.text


async def test_another_schools_principal_gets_a_404_that_names_nothing(client, db):
    school = await factories.staffed_school(db, "sro")
    await db.execute("update schools set name = 'Cedar Elementary' where id = $1", school["id"])
    await factories.start(client, school)
    other = await factories.staffed_school(db, "principal", district_id=school["district"])
    await signed_in(client, db, other["principal"])
    r = await client.get(f"/schools/{school['id']}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert "Cedar" not in r.text and "lockdown" not in r.text.lower()


async def test_without_a_session_the_page_sends_the_browser_to_sign_in(client, db):
    school = await factories.staffed_school(db, "sro")
    r = await client.get(f"/schools/{school['id']}", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/signin?next=/schools/{school['id']}"


def test_every_reason_an_alert_may_miss_someone_has_words():
    assert set(MISSES) == set(ReachProblem)


async def test_the_page_lists_open_requests_for_help_and_who_is_coming(client, db):
    school = await factories.staffed_school(db, "principal", "sro", "teacher")
    url = f"/v1/schools/{school['id']}/assists"
    done = (await client.post(url, json={"kind": "other", "note": "Spill in hall B"},
                              headers=bearer(school["teacher"]))).json()
    await client.post(f"/v1/assists/{done['id']}/resolve", json={"outcome": "mopped"},
                      headers=bearer(school["sro"]))
    open_ = (await client.post(url, json={"kind": "medical", "location": "Gym <east>",
                                          "note": "Student fainted"},
                               headers=bearer(school["teacher"]))).json()
    await client.post(f"/v1/assists/{open_['id']}/responses", headers=bearer(school["sro"]))
    await signed_in(client, db, school["teacher"])
    html = (await client.get(f"/schools/{school['id']}")).text
    assert "Open requests for help" in html and "Student fainted" in html
    assert "Gym &lt;east&gt;" in html and "On the way: Sro" in html
    assert "Spill in hall B" not in html


async def test_a_phone_that_cannot_take_calls_is_named(client, db):
    """The last repeat call to the teacher failed: the page says an unacknowledged alert
    cannot call them, though they are reached by text."""
    school = await factories.staffed_school(db, "principal", "teacher")
    await factories.start(client, school, who="principal")  # a real lockdown: calls planned
    await db.execute("update notification_outbox set state = 'failed' where user_id = $1 "
                     "and channel = 'voice'", school["teacher"])
    await signed_in(client, db, school["principal"])
    html = (await client.get(f"/schools/{school['id']}")).text
    assert MISSES[ReachProblem.VOICE_UNDELIVERABLE] in html
    assert "Teacher" in html.split("Who an alert would miss today")[1]


async def test_the_page_counts_the_schools_active_students(client, db):
    """Members who read students see how many active ones the school has; a school that
    narrows reading them to its administrators shows a teacher no count."""
    school = await factories.staffed_school(db, "teacher", "principal")
    students = await factories.students(db, school["id"], 3)
    await db.execute("update students set active = false where id = $1", students[0])
    await factories.students(db, (await factories.staffed_school(db))["id"], 2)
    await signed_in(client, db, school["teacher"])
    r = await client.get(f"/schools/{school['id']}")
    assert '<p class="muted" id="students">Students: 2</p>' in r.text, r.text
    await db.execute("update schools set policy = $2 where id = $1", school["id"],
                     {"read_students": ["principal", "district_admin"]})
    r = await client.get(f"/schools/{school['id']}")
    assert r.status_code == 200 and 'id="students"' not in r.text
