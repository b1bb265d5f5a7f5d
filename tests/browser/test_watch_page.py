"""A school contact's read-only link opened on a phone: what an officer on the way reads,
kept up to date while the event runs."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from tests import factories
from tests.conftest import bearer

POLICE = {"name": "Cedar PD dispatch", "phone": "+15125550190", "kind": "police", "on": "real"}


async def test_a_contacts_link_shows_the_event_and_follows_it(phone, live, db, shoot):
    """No sign-in: the lockdown (NOT A DRILL), where the school is, the rooms not yet
    reported; a room asking for help and the all-clear appear without a reload."""
    school = await factories.staffed_school(db, "sro", "principal", "teacher", room_count=3)
    await db.execute("update schools set name = 'Cedar Elementary', address = $2 "
                     "where id = $1", school["id"], "815 Cedar Lane, Riverbend, TX 78702")
    async with httpx.AsyncClient(base_url=live.base) as api:
        r = await api.put(f"/v1/schools/{school['id']}/contacts", json=[POLICE],
                          headers=bearer(school["principal"]))
        assert r.status_code == 200, r.text
        r = await api.post(f"/v1/schools/{school['id']}/events",
                           json={"action": "lockdown", "drill": False},
                           headers=bearer(school["sro"]))
        assert r.status_code == 201, r.text
        event = r.json()["id"]
        sms = await db.fetchval("select body from notification_outbox where contact_id is "
                                "not null and channel = 'sms'")
        link = sms.rpartition("\n")[2]
        assert link.startswith(f"{live.base}/w/"), sms

        page = await phone.new_page()
        await page.goto(link)
        await expect(page.get_by_role("heading", name="LOCKDOWN")).to_be_visible()
        await expect(page.locator("#kind")).to_have_text(re.compile("NOT A DRILL"))
        await expect(page.locator("#address")).to_have_text("815 Cedar Lane, Riverbend, TX 78702")
        await expect(page.locator("#unreported")).to_have_text("R-001, R-002, R-003")

        r = await api.post(f"/v1/events/{event}/checkins", headers=bearer(school["teacher"]),
                           json={"client_id": "8b0f1c9e-0000-4000-8000-000000000001",
                                 "room_id": str(school["rooms"][1]), "status": "needs_help",
                                 "students_present": 19, "students_missing": 2, "injured": 1,
                                 "note": "Window broken, one student cut"})
        assert r.status_code == 201, r.text
        need = page.locator("#in-need li")
        await expect(need).to_contain_text("R-002 · Room 2")  # at the next poll
        await expect(need).to_contain_text("2 missing, 1 injured, 19 present")
        await expect(page.locator("#unreported")).to_have_text("R-001, R-003")
        # a 360 px phone: nothing wider than the screen
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        await shoot(page, "watch-lockdown")

        r = await api.post(f"/v1/events/{event}/all-clear", json={},
                           headers=bearer(school["sro"]))
        assert r.status_code == 200, r.text
        await expect(page.locator("#status")).to_have_text("Ended: All clear")
        await shoot(page, "watch-ended")
