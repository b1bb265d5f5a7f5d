"""The live dashboard in a browser: it fills in as phones check in, without a reload;
a dropped stream resumes with every check-in shown once; an ended event links its report;
another school's event is refused."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import LAPTOP, PHONE, Live, new_context, sign_in
from tests.conftest import bearer
from tests.proxy import Proxy

ROOMS = 6


@pytest.fixture(params=[PHONE, LAPTOP], ids=["phone", "laptop"])
async def screen(request, browser, live) -> AsyncIterator[BrowserContext]:
    """A phone, then a laptop."""
    context = await new_context(browser, live, **request.param)
    yield context
    await context.close()


@pytest.fixture
async def api(live) -> AsyncIterator[httpx.AsyncClient]:
    """Other phones, calling the served app's API with their bearer tokens."""
    async with httpx.AsyncClient(base_url=live.base, timeout=30) as client:
        yield client


async def _drill(db, api: httpx.AsyncClient, *, drill: bool = True) -> tuple[dict, str]:
    """Cedar Elementary: a principal, a teacher, six rooms over two buildings and two
    floors, and a lockdown (a drill unless `drill` is false) its principal started."""
    school = await factories.staffed_school(db, "principal", "teacher", room_count=ROOMS)
    await db.execute("update schools set name = 'Cedar Elementary' where id = $1", school["id"])
    for n, room in enumerate(school["rooms"]):
        await db.execute("update rooms set building = $2, floor = $3 where id = $1", room,
                         "Main" if n < 4 else "Annex", 1 + n % 2)
    r = await api.post(f"/v1/schools/{school['id']}/events", headers=bearer(school["principal"]),
                       json={"action": "lockdown", "drill": drill})
    assert r.status_code == 201, r.text
    return school, r.json()["id"]


async def _check_in(api: httpx.AsyncClient, school: dict, event: str, room: uuid.UUID,
                    status: str = "ok", **fields: object) -> None:
    body = {"client_id": str(uuid.uuid4()), "room_id": str(room), "status": status,
            "students_present": 20} | fields
    r = await api.post(f"/v1/events/{event}/checkins", json=body,
                       headers=bearer(school["teacher"]))
    assert r.status_code == 201, r.text


async def _open(context, live, db, user: uuid.UUID, event: str) -> Page:
    await sign_in(context, live, db, user)
    page = await context.new_page()
    await page.goto(f"/events/{event}")
    await expect(page.locator("#live")).to_have_text("Live")
    return page


async def _number(page: Page, id_: str) -> int:
    return int(await page.locator(f"#{id_}").text_content() or "")


async def _totals_are_the_rooms_sums(page: Page) -> None:
    """The totals on the page are the sums of the rooms it shows."""
    tiles = page.locator(".room")
    statuses = [await tiles.nth(i).get_attribute("data-status") for i in range(await tiles.count())]
    assert await _number(page, "t-help") == statuses.count("needs_help")
    assert await _number(page, "t-safe") == statuses.count("ok")
    assert await _number(page, "t-unreported") == statuses.count("unreported")
    present = 0
    for i in range(len(statuses)):
        text = await tiles.nth(i).locator(".room-counts").text_content() or ""
        present += int(m.group(1)) if (m := re.search(r"(\d+) present", text)) else 0
    assert await _number(page, "t-present") == present


async def test_the_dashboard_fills_in_as_phones_check_in(screen, live, db, api, shoot, clock):
    school, event = await _drill(db, api)
    page = await _open(screen, live, db, school["principal"], event)
    await expect(page.locator("#kind")).to_contain_text("DRILL")
    await expect(page.locator("#t-unreported")).to_have_text(str(ROOMS))
    await expect(page.locator("#help-section")).to_be_hidden()
    await shoot(page, "dashboard-before")
    ok, help_ = school["rooms"][0], school["rooms"][5]

    await _check_in(api, school, event, ok, students_present=24)
    tile = page.locator(f"#room-{ok}")
    await expect(tile).to_have_attribute("data-status", "ok")
    await expect(tile).to_contain_text("Safe")
    await expect(page.locator("#t-present")).to_have_text("24")
    await expect(page.locator("#timeline li").first).to_contain_text("safe, 24 present — Teacher")
    await _check_in(api, school, event, help_, "needs_help", students_present=18, injured=2,
                    students_missing=1, note="Asthma attack, need the nurse")
    tile = page.locator(f"#room-{help_}")
    await expect(tile).to_have_attribute("data-status", "needs_help")
    await expect(tile).to_contain_text("Needs help")  # words, not only the colour
    await expect(page.locator("#help-section")).to_be_visible()
    await expect(page.locator("#help-rooms")).to_contain_text("Asthma attack")
    await expect(page.locator("#t-help")).to_have_text("1")
    # the room's request for help reached its responders (docs/assists.md)
    await expect(page.locator("#timeline li[data-kind=assist]")).to_contain_text(
        "responders alerted")
    await expect(page.locator("#t-present")).to_have_text("42")
    await expect(page.locator("#t-injured")).to_have_text("2")
    await expect(page.locator("#t-unreported")).to_have_text(str(ROOMS - 2))
    # a phone's queued report, observed before the room's current one, arrives late
    older = (clock.now - timedelta(minutes=1)).isoformat()
    await _check_in(api, school, event, ok, students_present=5, observed_at=older)
    await expect(page.locator("#timeline li[data-kind=checkin]")).to_have_count(3)
    await expect(page.locator(f"#room-{ok}")).to_contain_text("24 present")
    await expect(page.locator("#t-present")).to_have_text("42")
    await expect(page.locator("#timeline li").first).to_contain_text(
        "5 present (observed before the room's current report)")
    await _totals_are_the_rooms_sums(page)
    assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1
    await shoot(page, "dashboard-needs-help")


@pytest.fixture
async def relayed(browser, live) -> AsyncIterator[tuple[Proxy, BrowserContext]]:
    """A laptop that reaches the app through a relay which can drop its connections and
    refuse new ones, as a flaky network does."""
    relay = Proxy(live.base)
    async with relay as base:
        context = await new_context(browser, Live(base), **LAPTOP)
        yield relay, context
        await context.close()


async def test_a_dropped_stream_resumes_with_every_checkin_shown_once(relayed, live, db, api,
                                                                     clock):
    """Check-ins go on while the laptop's network is down."""
    relay, laptop = relayed
    school, event = await _drill(db, api)
    page = await _open(laptop, live, db, school["principal"], event)
    await _check_in(api, school, event, school["rooms"][0])
    await expect(page.locator("#timeline li[data-kind=checkin]")).to_have_count(1)

    relay.refusing = True
    relay.cut()
    await expect(page.locator("#live")).to_have_text("Reconnecting…")
    await _check_in(api, school, event, school["rooms"][1], "needs_help", injured=1)
    await _check_in(api, school, event, school["rooms"][2], students_present=25)
    clock.advance(seconds=1)  # a newer report of the first room: it replaces the old
    await _check_in(api, school, event, school["rooms"][0], students_present=19)
    relay.refusing = False

    await expect(page.locator("#live")).to_have_text("Live")
    await expect(page.locator("#timeline li[data-kind=checkin]")).to_have_count(4)
    seqs = [int(s) for s in await page.locator("#timeline li").evaluate_all(
        "items => items.map(li => li.dataset.seq)")]
    assert seqs == list(range(max(seqs), 0, -1))  # each entry once, newest first, no gap
    await expect(page.locator(f"#room-{school['rooms'][0]}")).to_contain_text("19 present")
    await expect(page.locator("#t-present")).to_have_text(str(19 + 20 + 25))
    await expect(page.locator("#t-help")).to_have_text("1")
    await _totals_are_the_rooms_sums(page)
    assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1
    server = (await api.get(f"/v1/events/{event}/accountability",
                            headers=bearer(school["principal"]))).json()
    assert server["students"]["present"] == 19 + 20 + 25  # the page and the server agree


async def test_an_ended_event_shows_how_it_ended_and_links_its_report(screen, live, db, api,
                                                                      shoot):
    school, event = await _drill(db, api)
    await _check_in(api, school, event, school["rooms"][0])
    page = await _open(screen, live, db, school["principal"], event)
    await expect(page.locator("#report-link")).to_be_hidden()
    r = await api.post(f"/v1/events/{event}/all-clear", headers=bearer(school["principal"]),
                       json={"message": "Drill over, thank you."})
    assert r.status_code == 200, r.text

    await expect(page.locator("#ended")).to_contain_text("All clear")
    await expect(page.locator("#ended")).to_contain_text("Drill over, thank you.")
    await expect(page.locator("#elapsed-label")).to_have_text("lasted")
    link = page.locator("#report-link")
    await expect(link).to_be_visible()
    await shoot(page, "dashboard-ended")
    await link.click()
    await expect(page).to_have_url(re.compile(rf"/v1/events/{event}/report\.html$"))
    await expect(page.locator("body")).to_contain_text("Cedar Elementary")


@pytest.mark.parametrize("device", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_a_lead_runs_the_event_from_the_dashboard(browser, device, live, db, api, shoot):
    school, event = await _drill(db, api)
    context = await new_context(browser, live, **device)
    try:
        page = await _open(context, live, db, school["principal"], event)
        controls = page.locator("[data-event-controls]")
        await page.get_by_text("Change the action").click()
        await controls.get_by_role("radio", name=re.compile(r"^HOLD")).check()
        await controls.get_by_role("button", name="Send the new action").click()
        await expect(page.locator("#action")).to_have_text("Hold")
        await expect(page.locator("#timeline li").first).to_contain_text("Action changed to Hold")
        await shoot(page, "dashboard-controls")
        await controls.get_by_role("button", name="All clear…").click()
        await controls.get_by_role("button", name="Yes, all clear").click()
        await expect(page.locator("#ended")).to_contain_text("All clear")
        await expect(controls).to_be_hidden()
        await expect(page.locator("#report-link")).to_be_visible()
        assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1
    finally:
        await context.close()


async def test_a_drill_a_real_event_ends_leads_to_the_real_events_dashboard(laptop, live, db,
                                                                            api):
    school, drill = await _drill(db, api)
    page = await _open(laptop, live, db, school["principal"], drill)
    r = await api.post(f"/v1/schools/{school['id']}/events", headers=bearer(school["teacher"]),
                       json={"action": "lockdown", "drill": False})
    assert r.status_code == 201, r.text
    await expect(page.locator("#ended")).to_contain_text("Ended by a real event")
    link = page.get_by_role("link", name="Open the real event's dashboard")
    await expect(link).to_have_attribute("href", f"/events/{r.json()['id']}")
    await link.click()
    await expect(page.locator("#kind")).to_contain_text("REAL EVENT")
    await expect(page.locator("#live")).to_have_text("Live")


async def test_a_teacher_follows_the_event_without_the_leads_figures(phone, live, db, api,
                                                                     shoot):
    school, event = await _drill(db, api, drill=False)
    page = await _open(phone, live, db, school["teacher"], event)
    await expect(page.locator("#kind")).to_contain_text("REAL EVENT")
    await expect(page.locator("main")).to_contain_text("for the school's safety leads")
    assert await page.locator("[data-event-controls]").count() == 0  # a lead's to run
    await shoot(page, "dashboard-real-teacher")
    r = await api.post(f"/v1/events/{event}/all-clear", headers=bearer(school["principal"]),
                       json={})
    assert r.status_code == 200, r.text
    await expect(page.locator("#ended")).to_contain_text("All clear")
    assert await page.locator("#report-link").count() == 0


async def test_another_schools_dashboard_is_refused(laptop, live, db, api):
    school, event = await _drill(db, api)
    other = await factories.staffed_school(db, "principal", district_id=school["district"])
    await sign_in(laptop, live, db, other["principal"])
    page = await laptop.new_page()
    answer = await page.goto(f"/events/{event}")
    assert answer is not None and answer.status == 404
    body = await page.locator("body").text_content() or ""
    assert "Cedar" not in body and "Room" not in body
    # nor does its stream open
    status = await page.evaluate(
        "async (url) => (await fetch(url)).status", f"/v1/events/{event}/stream")
    assert status == 404


async def test_the_stream_stops_when_the_viewer_loses_access(laptop, live, db, api, clock):
    school, event = await _drill(db, api)
    page = await _open(laptop, live, db, school["teacher"], event)
    await db.execute("delete from memberships where user_id = $1", school["teacher"])
    clock.advance(seconds=3)  # past the caller cache's 2 s
    await expect(page.locator("#live")).to_have_text(
        "Not live: you no longer have access to this school.")


async def test_the_dashboard_shows_updates_and_the_staff_not_reported(laptop, live, db, api,
                                                                      shoot):
    """A lead sends what we know from the dashboard; it stands out at the top. Staff
    reporting themselves leave the list of those not reported, live."""
    school, event = await _drill(db, api)
    page = await _open(laptop, live, db, school["principal"], event)
    unreported = page.locator("#staff-unreported li")
    await expect(unreported).to_have_count(2)  # the principal and the teacher
    controls = page.locator("[data-event-controls]")
    await page.get_by_text("Send an update").click()
    await controls.get_by_label(re.compile("^What we know")).fill("Police are inside.")
    await controls.get_by_label("Where the threat is now (optional)").fill("Gym")
    await controls.get_by_role("button", name="Send the update").click()
    latest = page.locator("#updates .latest")
    await expect(latest).to_contain_text("Simulated threat: Gym.")  # a drill's
    await expect(latest).to_contain_text("Police are inside.")
    await expect(page.locator("#timeline li").first).to_contain_text("Update:")
    r = await api.post(f"/v1/events/{event}/status", headers=bearer(school["teacher"]),
                       json={"status": "need_help", "note": "Locked out in the hall"})
    assert r.status_code == 201, r.text
    await expect(unreported).to_have_count(1)
    await expect(page.locator("#t-staff-need_help")).to_have_text("1")
    await expect(page.locator("#staff-help")).to_contain_text("Locked out in the hall")
    await shoot(page, "dashboard-update-staff")
    assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1
