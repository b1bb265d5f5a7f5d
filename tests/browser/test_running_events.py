"""Running an event from a school's page: a real start held, counted down, then sent (or
called off, and nothing sent), a drill started on a click, the action changed, the
all-clear, a false alarm cancelled; and no change without the page's CSRF token."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests import factories
from tests.browser.conftest import LAPTOP, PHONE, new_context, sign_in

HOLD_MS, COUNTDOWN_S = 1500, 5  # the page's own (api/pages/schools.py), tested as they are


@pytest.fixture
async def world(db):
    school = await factories.staffed_school(db, "principal", "sro", "teacher", room_count=2)
    await db.execute("update schools set name = 'Cedar Elementary' where id = $1", school["id"])
    return school


async def school_page(context, live, db, school, who="sro"):
    await sign_in(context, live, db, school[who])
    page = await context.new_page()
    await page.goto(f"/schools/{school['id']}")
    await expect(page.get_by_role("heading", name="Cedar Elementary")).to_be_visible()
    return page


def start_panel(page):
    return page.locator("#start")


async def choose(panel, action: str):
    await panel.get_by_role("radio", name=re.compile(f"^{action.upper()}\\b")).check()


async def events_of(db, school):
    return await db.fetch("select * from events where school_id = $1", school["id"])


async def outbox_of(db, event_id):
    return await db.fetchval("select count(*) from notification_outbox where event_id = $1",
                             event_id)


async def hold_until_the_countdown(page, hold, *, finger: bool = False):
    """Hold `hold` down (with the mouse, or a finger on a touch screen) until the countdown
    shows; its Cancel button."""
    cancel = page.get_by_role("button", name="Cancel", exact=True)
    if not finger:
        await hold.hover()
        await page.mouse.down()
        await expect(cancel).to_be_visible()
        await page.mouse.up()
        return cancel
    await hold.scroll_into_view_if_needed()
    box = await hold.bounding_box()
    touch = [{"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}]
    cdp = await page.context.new_cdp_session(page)  # Playwright's touchscreen only taps
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": touch})
    await expect(cancel).to_be_visible()
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    await cdp.detach()
    return cancel


def set_panel(page, **timing):
    """Shorten (or lengthen) the start panel's hold and countdown: data-hold-ms..."""
    script = "(t) => Object.assign(document.getElementById('start').dataset, t)"
    return page.evaluate(script, timing)


@pytest.mark.parametrize("device", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_a_real_lockdown_is_held_then_counted_down_then_sent(
        browser, device, live, db, world, shoot):
    context = await new_context(browser, live, **device)
    page = await school_page(context, live, db, world)
    panel = start_panel(page)
    await expect(panel).to_have_attribute("data-hold-ms", str(HOLD_MS))
    await expect(panel).to_have_attribute("data-countdown-s", str(COUNTDOWN_S))
    await shoot(page, "school-calm")
    await choose(panel, "lockdown")
    await expect(panel.get_by_role("button", name="Start LOCKDOWN drill")).to_be_visible()
    await shoot(page, "start-drill")
    await page.get_by_role("switch", name="Drill").uncheck()
    hold = panel.get_by_role("button", name="Hold to start LOCKDOWN")
    await expect(hold).to_be_visible()
    await shoot(page, "start-real")

    await hold.click()  # a click is not a hold
    await expect(page.get_by_role("status")).to_have_text(re.compile("^Let go too soon"))
    cancel = await hold_until_the_countdown(page, hold, finger=device is PHONE)
    await expect(panel.locator("#countdown-number")).to_have_text(re.compile("^[1-5]$"))
    assert await events_of(db, world) == []
    await expect(cancel).to_be_visible()  # still counting: the look above came before any send

    await expect(page).to_have_url(re.compile(r"/events/[0-9a-f-]{36}$"))
    [event] = await events_of(db, world)
    assert page.url.endswith(f"/events/{event['id']}")
    assert (event["action"], event["drill"], event["status"]) == ("lockdown", False, "active")
    assert event["started_by"] == world["sro"]
    assert await outbox_of(db, event["id"]) > 0  # the alerts are queued
    await context.close()


async def test_a_real_start_may_be_held_with_the_keyboard(laptop, live, db, world):
    page = await school_page(laptop, live, db, world, who="teacher")
    panel = start_panel(page)
    await expect(page.get_by_role("switch")).to_have_count(0)  # a teacher starts real events
    await choose(panel, "secure")
    await panel.get_by_role("button", name="Hold to start SECURE").focus()
    await page.keyboard.down("Enter")
    cancel = page.get_by_role("button", name="Cancel", exact=True)
    await expect(cancel).to_be_visible()
    await page.keyboard.up("Enter")
    await expect(cancel).to_be_focused()  # once the key is up, not while it is held
    await expect(page).to_have_url(re.compile(r"/events/"))
    [event] = await events_of(db, world)
    assert (event["action"], event["drill"], event["started_by"]) == (
        "secure", False, world["teacher"])


@pytest.mark.parametrize("device", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_a_real_start_called_off_in_the_countdown_sends_nothing(
        browser, device, live, db, world, shoot):
    context = await new_context(browser, live, **device)
    page = await school_page(context, live, db, world)
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    panel = start_panel(page)
    await page.get_by_role("switch", name="Drill").uncheck()
    await choose(panel, "shelter")
    await panel.get_by_label("Shelter from").select_option("tornado")
    hold = panel.get_by_role("button", name="Hold to start SHELTER")
    status = page.get_by_role("status")

    # a long countdown, time enough to look at it
    await set_panel(page, holdMs="300", countdownS="60")
    cancel = await hold_until_the_countdown(page, hold)
    await expect(panel.locator("#countdown-number")).to_have_text("60")
    await shoot(page, "countdown")
    await cancel.click()
    await expect(status).to_have_text("Cancelled, nothing was sent.")

    # the page's own countdown, waited out
    await set_panel(page, countdownS=str(COUNTDOWN_S))
    cancel = await hold_until_the_countdown(page, hold)
    would_send = await page.evaluate("Date.now()") + COUNTDOWN_S * 1000
    await expect(status).to_have_text("")
    await cancel.click()
    await expect(status).to_have_text("Cancelled, nothing was sent.")
    await page.wait_for_function("(t) => Date.now() > t", arg=would_send + 1000)  # past its end
    await expect(hold).to_be_visible()
    assert sent == [] and await events_of(db, world) == []
    assert await db.fetchval("select count(*) from notification_outbox") == 0
    await context.close()


async def test_a_drill_starts_on_a_click_and_a_confirmation(phone, live, db, world, shoot):
    page = await school_page(phone, live, db, world, who="principal")
    panel = start_panel(page)
    await expect(page.get_by_role("switch", name="Drill")).to_be_checked()  # by default
    await choose(panel, "evacuate")
    await panel.get_by_role("button", name="Start EVACUATE drill").click()
    await expect(page.get_by_role("alert").filter(has_text="Say where to go.")).to_be_visible()
    await panel.get_by_label("Where to go").fill("the football field")
    await panel.get_by_label("What for (optional)").select_option("fire")
    await shoot(page, "start-drill-evacuate")
    await panel.get_by_role("button", name="Start EVACUATE drill").click()
    await expect(panel).to_contain_text("Start a EVACUATE drill?")
    await panel.get_by_role("button", name="Start the drill").click()
    await expect(page).to_have_url(re.compile(r"/events/"))
    [event] = await events_of(db, world)
    assert (event["action"], event["drill"], event["location"], event["purpose"]) == (
        "evacuate", True, "the football field", "fire")
    assert await outbox_of(db, event["id"]) > 0


@pytest.mark.parametrize("device", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_a_lead_changes_the_action_then_cancels_a_false_alarm(
        browser, device, live, db, world, client, shoot):
    event = await factories.start(client, world)  # a real lockdown
    context = await new_context(browser, live, **device)
    page = await school_page(context, live, db, world, who="principal")
    await expect(page.get_by_text("LOCKDOWN in progress")).to_be_visible()
    await expect(page.get_by_role("link", name="Open the live event")).to_have_attribute(
        "href", f"/events/{event}")
    await shoot(page, "school-active")
    controls = page.locator("[data-event-controls]")
    await controls.get_by_text("Change the action").click()
    await choose(controls, "shelter")
    await controls.get_by_role("button", name="Send the new action").click()
    await expect(controls.get_by_role("alert")).to_have_text("Choose what to shelter from.")
    await controls.get_by_label("Shelter from").select_option("hazmat")
    await controls.get_by_role("button", name="Send the new action").click()
    await expect(page.get_by_text("SHELTER in progress")).to_be_visible()
    row = await db.fetchrow("select action, hazard, status from events where id = $1", event)
    assert tuple(row) == ("shelter", "hazmat", "active")

    await controls.get_by_text("Cancel: false alarm").click()
    await controls.get_by_role("button", name="Cancel as a false alarm").click()
    await expect(controls.get_by_role("alert")).to_contain_text("Say why")
    await controls.get_by_label("Why (everyone is told)").fill("A student pulled the alarm")
    await controls.get_by_role("button", name="Cancel as a false alarm").click()
    await expect(page.get_by_text("No event is running at this school.")).to_be_visible()
    row = await db.fetchrow("select status, end_reason, ended_by from events where id = $1",
                            event)
    assert tuple(row) == ("cancelled", "A student pulled the alarm", world["principal"])
    await context.close()


async def test_a_lead_gives_the_all_clear(laptop, live, db, world, client):
    event = await factories.start(client, world, action="hold", drill=True)
    page = await school_page(laptop, live, db, world)
    await page.get_by_role("button", name="All clear…").click()
    await page.get_by_label("Message (optional)").fill("Back to class")
    await page.get_by_role("button", name="Yes, all clear").click()
    await expect(page.get_by_text("No event is running at this school.")).to_be_visible()
    row = await db.fetchrow("select status, ended_by from events where id = $1", event)
    assert tuple(row) == ("all_clear", world["sro"])


async def test_a_change_without_the_pages_csrf_token_is_refused(laptop, live, db, world):
    page = await school_page(laptop, live, db, world)
    post = """async ({path, token}) => {
        const headers = {"Content-Type": "application/json"};
        if (token) headers["X-CSRF-Token"] = Muster.csrf();
        const r = await fetch(path, {method: "POST", headers,
            body: JSON.stringify({action: "lockdown", drill: false})});
        return r.status;
    }"""
    path = f"/v1/schools/{world['id']}/events"
    assert await page.evaluate(post, {"path": path, "token": False}) == 403
    assert await events_of(db, world) == []
    # the same request with the page's token
    assert await page.evaluate(post, {"path": path, "token": True}) == 201
    assert len(await events_of(db, world)) == 1
