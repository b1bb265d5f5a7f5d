"""An alert's link opened on a phone: the action, "I got it", the room report, and a
report made without a connection, kept on the phone and sent once it returns."""

from __future__ import annotations

import os
import re
import uuid
import zoneinfo
from datetime import timedelta

import httpx
import pytest
from playwright.async_api import expect

from domain.links import OFFLINE_REPLAY_WINDOW, Links
from tests import factories
from tests.browser.conftest import LAPTOP, PHONE, new_context
from tests.conftest import SECRET, bearer
from tests.waiting import eventually

# Chromium's offline emulation does not reach a service worker's requests (nor a page's
# requests that go through one, microsoft/playwright#2311); with this, Playwright routes
# them, and `offline` below cuts them too. Read when the browser fixture starts Playwright.
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")


async def _cut(route) -> None:
    await route.abort("internetdisconnected")


async def offline(context, cut: bool) -> None:
    """The phone loses (or gets back) its connection: every request fails, the page's and
    its service worker's alike, and the page hears `offline` (`online`)."""
    if cut:
        await context.route("**/*", _cut)
        await context.set_offline(True)
    else:
        await context.set_offline(False)
        await context.unroute("**/*", _cut)


async def _school(db) -> dict:
    """A school: an SRO, a teacher with a phone and no app, three rooms."""
    school = await factories.staffed_school(db, "sro", "teacher", room_count=3)
    await db.execute("update schools set name = 'Cedar Elementary' where id = $1", school["id"])
    return school


async def _alerted(db, live, school: dict | None = None, **event) -> dict:
    """An event the SRO started on the live server (at `school`, else a new `_school`); the
    teacher's link, as their SMS ends with it."""
    school = school or await _school(db)
    body = {"action": "lockdown", "drill": False} | event
    async with httpx.AsyncClient(base_url=live.base) as api:
        r = await api.post(f"/v1/schools/{school['id']}/events", json=body,
                           headers=bearer(school["sro"]))
    assert r.status_code == 201, r.text
    sms = await db.fetchval("select body from notification_outbox where user_id = $1 and "
                            "channel = 'sms'", school["teacher"])
    link = sms.rpartition("\n")[2]
    assert link.startswith(f"{live.base}/e/"), sms
    return school | {"event": uuid.UUID(r.json()["id"]), "link": link}


async def _checkins(db) -> list[tuple]:
    rows = await db.fetch("""select r.code, c.status, c.students_present, c.students_missing,
                                    c.students_extra, c.injured, c.note, c.reported_by
                             from checkins c join rooms r on r.id = c.room_id order by c.id""")
    return [tuple(r) for r in rows]


async def _acknowledged(db) -> list[uuid.UUID]:
    return [r["user_id"] for r in await db.fetch("select user_id from acknowledgements")]


async def test_an_alerts_link_checks_a_room_in_on_a_fresh_phone(phone, live, db, shoot):
    """No sign-in: the link opens the lockdown (dark, NOT A DRILL), acknowledges on
    opening, and sends the room's report; the page says when it was stored."""
    world = await _alerted(db, live, message="Intruder reported near the gym.")
    page = await phone.new_page()
    loaded: list = []
    page.on("requestfinished", lambda request: loaded.append(request))
    await page.goto(world["link"])
    await expect(page.get_by_role("heading", name="LOCKDOWN")).to_be_visible()
    await expect(page.locator("#kind")).to_have_text(re.compile("NOT A DRILL"))
    await expect(page.locator("body")).to_have_class(re.compile(r"\bdark\b"))
    await eventually(lambda: _acknowledged(db))
    assert await _acknowledged(db) == [world["teacher"]]
    await expect(page.get_by_text("Your school sees that you have the alert.")).to_be_visible()
    await shoot(page, "link-lockdown")
    # quiet: nothing moves, nothing plays; and a first visit is small
    assert await page.evaluate("""() => document.getAnimations().length
        + document.querySelectorAll('audio, video').length""") == 0
    sizes = [(await request.sizes())["responseBodySize"] for request in loaded]
    assert sum(sizes) < 30_000, sizes

    await page.get_by_label("Room", exact=True).fill("R-002")
    await page.get_by_role("button", name="Need help", exact=True).click()
    for _ in range(3):
        await page.get_by_role("button", name="Present plus one").click()
    await page.get_by_label("Missing", exact=True).fill("1")
    await page.get_by_role("button", name="Injured plus one").click()
    await page.get_by_label("Note", exact=True).fill("Nurse please")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_text(re.compile(r"R-002: sent, stored at"))).to_be_visible()
    assert await _checkins(db) == [("R-002", "needs_help", 3, 1, 0, 1, "Nurse please",
                                    world["teacher"])]
    # by the school's clocks, whatever the phone's (this browser's are UTC)
    stored, zone = await db.fetchrow(
        "select c.received_at, s.timezone from checkins c join events e on e.id = c.event_id "
        "join schools s on s.id = e.school_id")
    local = stored.astimezone(zoneinfo.ZoneInfo(zone))
    assert zone != "UTC" and local.utcoffset()
    await expect(page.get_by_text(f"R-002: sent, stored at {local:%I:%M %p}.",
                                  exact=False)).to_be_visible()
    await shoot(page, "link-sent")


async def test_a_report_made_offline_is_kept_and_sent_once_when_back(phone, live, db):
    """The connection drops: the report is kept on the phone (the page says so), the link
    reopens from the phone's copy, and once the connection returns the report is stored
    exactly once."""
    world = await _alerted(db, live, action="hold", drill=True)
    page = await phone.new_page()
    await page.goto(world["link"])
    await expect(page.get_by_role("heading", name="HOLD")).to_be_visible()
    await expect(page.locator("#kind")).to_have_text(re.compile("DRILL"))
    await page.evaluate("navigator.serviceWorker.ready")  # the page is kept for offline

    await offline(phone, True)
    await page.get_by_label("Room", exact=True).fill("Room 3")
    await page.get_by_role("button", name="Safe", exact=True).click()
    await page.get_by_label("Present", exact=True).fill("18")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_text("R-003: saved on this phone, not sent yet",
                                  exact=False)).to_be_visible()
    await page.reload()  # reopening the link without a connection
    await expect(page.get_by_role("heading", name="HOLD")).to_be_visible()
    await expect(page.get_by_text("R-003: saved on this phone, not sent yet",
                                  exact=False)).to_be_visible()
    assert await _checkins(db) == []

    await offline(phone, False)
    await expect(page.get_by_text(re.compile(r"R-003: sent, stored at"))).to_be_visible()
    assert await _checkins(db) == [("R-003", "ok", 18, 0, 0, 0, None, world["teacher"])]
    await page.reload()
    await expect(page.get_by_text(re.compile(r"R-003: sent, stored at"))).to_be_visible()
    assert len(await _checkins(db)) == 1


async def test_a_report_that_does_not_get_through_is_retried_until_stored(browser, live, db):
    """The phone thinks it is online but nothing gets through (a dead Wi-Fi): the report
    is kept, the page says so and tries again, waiting longer each time, until it is
    stored, once. (No service worker here: the page's own requests are cut.)"""
    world = await _alerted(db, live)
    context = await new_context(browser, live, **PHONE, service_workers="block")
    page = await context.new_page()
    await page.goto(world["link"])
    tries: list[str] = []

    async def dead_wifi(route) -> None:
        tries.append(route.request.url)
        await route.abort("connectionreset")

    await context.route("**/checkins", dead_wifi)
    await page.get_by_label("Room", exact=True).fill("r-001")
    await page.get_by_role("button", name="Safe", exact=True).click()
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_text("R-001: saved on this phone, not sent yet",
                                  exact=False)).to_be_visible()
    await eventually(lambda: len(tries) >= 2)  # tried again by itself
    assert await _checkins(db) == []
    await context.unroute("**/checkins", dead_wifi)
    await expect(page.get_by_text(re.compile(r"R-001: sent, stored at"))).to_be_visible()
    assert await _checkins(db) == [("R-001", "ok", 0, 0, 0, 0, None, world["teacher"])]
    await context.close()


async def test_a_link_that_is_not_yours_or_has_expired_is_refused(phone, live, db, clock):
    """A token for another school's person, or for another school's event, and a garbled
    one open nothing (404, naming nothing); an ended event's link expires after the
    replay window (410)."""
    world = await _alerted(db, live)
    other = await factories.staffed_school(db, "teacher")
    other_event = await factories.lockdown(db, other["id"], other["teacher"], clock.now)
    links = Links(secret=SECRET, base_url=live.base)
    page = await phone.new_page()
    for url in (links.url(links.token(world["event"], other["teacher"])),  # not alerted
                links.url(links.token(other_event, world["teacher"])),  # not their school's
                f"{live.base}/e/nope"):
        answer = await page.goto(url)
        assert answer is not None and answer.status == 404
        await expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
        assert "Cedar" not in await page.content()

    async with httpx.AsyncClient(base_url=live.base) as api:
        r = await api.post(f"/v1/events/{world['event']}/all-clear", json={},
                           headers=bearer(world["sro"]))
    assert r.status_code == 200, r.text
    answer = await page.goto(world["link"])
    assert answer is not None and answer.status == 200
    await expect(page.get_by_text("This event has ended: All clear.")).to_be_visible()
    clock.advance(seconds=(OFFLINE_REPLAY_WINDOW + timedelta(minutes=1)).total_seconds())
    answer = await page.goto(world["link"])
    assert answer is not None and answer.status == 410
    await expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()


@pytest.mark.parametrize("device", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_a_drill_page_is_plainly_a_drill_at_any_width(browser, device, live, db, shoot):
    """A drill's evacuation: the DRILL banner, where to go, readable at 360 and 1280 px."""
    world = await _alerted(db, live, action="evacuate", drill=True, location="the football field")
    context = await new_context(browser, live, **device)
    page = await context.new_page()
    await page.goto(world["link"])
    await expect(page.locator("#kind")).to_have_text(re.compile(r"^DRILL"))
    await expect(page.get_by_text("Go to the football field.")).to_be_visible()
    await expect(page.locator("body")).not_to_have_class(re.compile(r"\bdark\b"))
    sizes = await page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.offsetParent !== null && e.childNodes.length
                     && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => parseFloat(getComputedStyle(e).fontSize))""")
    assert min(sizes) >= 16, sizes
    overflow = await page.evaluate("document.documentElement.scrollWidth > innerWidth")
    assert not overflow
    await shoot(page, "link-drill")
    await context.close()


async def test_a_spanish_speakers_link_speaks_spanish(phone, live, db):
    """The page's words and its script's are in the person's language."""
    school = await factories.staffed_school(db, "sro", "teacher", room_count=3)
    await db.execute("update users set language = 'es' where id = $1", school["teacher"])
    async with httpx.AsyncClient(base_url=live.base) as api:
        r = await api.post(f"/v1/schools/{school['id']}/events", headers=bearer(school["sro"]),
                           json={"action": "hold", "drill": True})
    assert r.status_code == 201, r.text
    sms = await db.fetchval("select body from notification_outbox where user_id = $1 and "
                            "channel = 'sms'", school["teacher"])
    assert sms.startswith("SIMULACRO - PERMANECER: "), sms
    page = await phone.new_page()
    await page.goto(sms.rpartition("\n")[2])
    await expect(page.get_by_role("heading", name="PERMANECER")).to_be_visible()
    await expect(page.get_by_text("Su escuela ve que usted recibió la alerta.")).to_be_visible()
    await page.get_by_role("button", name="Enviar", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Elija su salón: escriba su código o su nombre.")
    await page.get_by_label("Salón", exact=True).fill("R-002")
    await page.get_by_role("button", name="Enviar", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text("Toque A salvo o Necesitan ayuda.")
    await page.get_by_role("button", name="A salvo", exact=True).click()
    await page.get_by_role("button", name="Presentes más uno").click()
    await page.get_by_role("button", name="Enviar", exact=True).click()
    await expect(page.get_by_text(re.compile(r"R-002: enviado, guardado a las"))).to_be_visible()


async def test_the_page_shows_the_newest_update_under_the_directive(phone, live, db, clock,
                                                                  shoot):
    """What we know stands out under the directive, with where the threat is; an update
    sent while the page is open shows when the page is next looked at, the earlier one
    below it."""
    world = await _alerted(db, live, location="North hallway")
    async with httpx.AsyncClient(base_url=live.base) as api:
        r = await api.post(f"/v1/events/{world['event']}/updates", headers=bearer(world["sro"]),
                           json={"text": "Police are inside.", "threat_location": "Gym"})
        assert r.status_code == 201, r.text
        page = await phone.new_page()
        shown = await page.goto(world["link"])
        assert '<p class="update-head">Update · <time' in await shown.text()
        await expect(page.locator("#threat")).to_have_text("Threat: North hallway.")
        latest = page.locator("#updates .latest")
        await expect(latest).to_contain_text("Threat: Gym")
        await expect(latest).to_contain_text("Police are inside.")
        clock.advance(seconds=90)  # the next update comes later (the test's clock stands)
        r = await api.post(f"/v1/events/{world['event']}/updates", headers=bearer(world["sro"]),
                           json={"text": "East wing is clear."})
        assert r.status_code == 201, r.text
    # the phone's screen comes back on: the page asks at once (else within 20 s)
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await expect(latest).to_contain_text("East wing is clear.")
    await expect(page.locator("#updates .update")).to_have_count(2)
    await expect(page.locator("#updates .update").nth(1)).to_contain_text("Police are inside.")
    await shoot(page, "link-update")
