"""A room's roll call on a phone: the link's page lists the room's students, "All
present" then one tap per exception, a student from another room found by name; the
report keeps the marks, and the principal's dashboard names the missing student and the
room that reported them."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import expect

from tests import factories
from tests.browser.conftest import LAPTOP, new_context, sign_in
from tests.browser.test_link_page import _alerted, _school, offline
from tests.waiting import eventually


async def _marks(db) -> dict[uuid.UUID, str]:
    rows = await db.fetch("select m.student_id, m.status from checkins c cross join "
                          "json_to_recordset(c.students) as m(student_id uuid, status text)")
    return {r["student_id"]: r["status"] for r in rows}


async def test_a_room_is_checked_in_by_name_and_the_dashboard_names_the_missing(
        phone, browser, live, db, shoot):
    """Three students in R-001, one of R-002 here as an extra: all present, one tapped to
    missing; the counts follow the marks, the report stores them, and the dashboard
    (opened before) shows the missing student by name with R-001, and each room's roll on
    its card."""
    school = await _school(db)
    principal = await factories.person(db, school["district"], school["id"], "principal")
    first, second, third = await factories.students(db, school["id"], 3,
                                                    homeroom_id=school["rooms"][0])
    [visitor] = await factories.students(db, school["id"], 1, homeroom_id=school["rooms"][1])
    world = await _alerted(db, live, school)
    names = {r["id"]: f"{r['given_name']} {r['family_name']}" for r in await db.fetch(
        "select id, given_name, family_name from students")}

    laptop = await new_context(browser, live, **LAPTOP)
    await sign_in(laptop, live, db, principal)
    dashboard = await laptop.new_page()
    await dashboard.goto(f"/events/{world['event']}")
    await expect(dashboard.locator("#live")).to_have_text("Live")
    await expect(dashboard.locator("#s-not-reported")).to_have_text("4")
    cards = [dashboard.locator(f"#room-{room} .room-roll") for room in school["rooms"][:2]]
    await expect(cards[0]).to_have_text("Roll call: 0 seen · 3 not reported")
    await expect(cards[1]).to_have_text("Roll call: 0 seen · 1 not reported")

    page = await phone.new_page()
    await page.goto(world["link"])
    await page.get_by_label("Room", exact=True).fill("R-001")
    roll = page.locator("#roll-list .mark")
    await expect(roll).to_have_count(3)
    await page.get_by_role("button", name="All present").click()
    await expect(page.locator("#roll-count")).to_have_text("3 of 3 marked")
    await page.get_by_role("button", name=f"{names[second]}: Present").click()
    await expect(page.get_by_role("button", name=f"{names[second]}: Missing")).to_be_visible()
    await page.get_by_label("A student from another room is here").fill(
        names[visitor].split()[1])
    await page.get_by_role("button", name=re.compile(names[visitor])).click()
    await expect(roll).to_have_count(4)
    assert (await page.get_by_label("Present", exact=True).input_value(),
            await page.get_by_label("Missing", exact=True).input_value(),
            await page.get_by_label("Extra", exact=True).input_value()) == ("2", "1", "1")
    await page.get_by_role("button", name="Safe", exact=True).click()
    await shoot(page, "link-roll-call")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_text(re.compile(r"R-001: sent, stored at"))).to_be_visible()
    assert await eventually(lambda: _marks(db)) == {
        first: "present", second: "missing", third: "present", visitor: "extra"}
    row = await db.fetchrow("select students_present, students_missing, students_extra "
                            "from checkins")
    assert tuple(row) == (2, 1, 1)

    missing = dashboard.locator("#missing-students li")
    await expect(missing).to_have_count(1)
    await expect(missing).to_contain_text(names[second])
    await expect(missing).to_contain_text("R-001")
    await expect(dashboard.locator("#s-accounted")).to_have_text("3")
    await expect(dashboard.locator("#s-not-reported")).to_have_text("0")
    # R-002's student is an extra in R-001: seen there, so R-002 has nobody to report
    await expect(cards[0]).to_have_text("Roll call: 3 seen · 1 missing")
    await expect(cards[1]).to_have_text("Roll call: 0 seen")
    await shoot(dashboard, "dashboard-missing-student")
    await laptop.close()


async def test_a_roll_call_made_offline_keeps_its_marks(phone, live, db):
    """The list loaded, the connection drops: the marks go with the report kept on the
    phone, and are stored with it once the connection returns."""
    school = await _school(db)
    first, second = await factories.students(db, school["id"], 2, homeroom_id=school["rooms"][2])
    world = await _alerted(db, live, school, action="hold", drill=True)
    page = await phone.new_page()
    await page.goto(world["link"])
    await page.get_by_label("Room", exact=True).fill("R-003")
    await expect(page.locator("#roll-list .mark")).to_have_count(2)

    await offline(phone, True)
    await page.get_by_role("button", name="All present").click()
    await page.locator(f'#roll-list .mark[data-student="{first}"]').click()  # missing
    await page.get_by_role("button", name="Safe", exact=True).click()
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_text("R-003: saved on this phone, not sent yet",
                                  exact=False)).to_be_visible()
    assert await _marks(db) == {}

    await offline(phone, False)
    await expect(page.get_by_text(re.compile(r"R-003: sent, stored at"))).to_be_visible()
    assert await eventually(lambda: _marks(db)) == {first: "missing", second: "present"}
