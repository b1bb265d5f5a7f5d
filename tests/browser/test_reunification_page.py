"""The reunification site's page on a phone: a student arrives (one tap), her listed
mother checks in and takes her, a restricted adult shows in red with no release button,
and the printable record shows the release."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import expect

from tests import factories
from tests.browser.conftest import sign_in
from tests.conftest import bearer


async def _site(db, live) -> tuple[dict, uuid.UUID, uuid.UUID, str]:
    """Cedar's reunification open at a gym; Ana Diaz (her mother listed, a no-contact
    order naming Jorge Diaz) and Ben Cole (nobody listed): the school, Ana, Ben, its id."""
    school = await factories.staffed_school(db, "principal", "teacher")
    await db.execute("update schools set name = 'Cedar Elementary' where id = $1", school["id"])
    ana, ben = await factories.students(db, school["id"], 2)
    await db.executemany("update students set given_name = $2, family_name = $3 where id = $1",
                         [(ana, "Ana", "Diaz"), (ben, "Ben", "Cole")])
    await factories.guardian(db, school["id"], ana, "Maria Diaz", relationship="mother")
    await db.execute(
        "insert into student_restrictions (id, student_id, school_id, kind, adult_name) "
        "values ($1, $2, $3, 'no_contact', 'Jorge Diaz')", uuid.uuid4(), ana, school["id"])
    async with httpx.AsyncClient(base_url=live.base, timeout=30) as api:
        r = await api.post(f"/v1/schools/{school['id']}/reunifications",
                           json={"site": "Cedar Middle gym", "address": "12 Oak St"},
                           headers=bearer(school["principal"]))
    assert r.status_code == 201, r.text
    return school, ana, ben, r.json()["id"]


async def test_a_student_arrives_and_her_mother_takes_her(db, live, phone, shoot):
    school, _, _, rid = await _site(db, live)
    await sign_in(phone, live, db, school["principal"])
    page = await phone.new_page()
    await page.goto(f"/reunifications/{rid}")
    await expect(page.locator("#site-title")).to_have_text("Cedar Middle gym")
    await expect(page.locator("#count-not-arrived")).to_have_text("2")

    await page.fill("#student-search", "ana")
    await page.locator("#student-matches").get_by_role("button", name="Arrived").tap()
    await expect(page.locator("#count-arrived")).to_have_text("1")
    await expect(page.locator("#students")).to_contain_text("Ana Diaz")

    await page.fill("#adult-name", "Jorge Diaz")
    await page.fill("#adult-student-search", "diaz")
    await page.locator("#adult-student-matches").get_by_role("button", name="Add").tap()
    await page.get_by_role("button", name="Check the adult in").tap()
    await expect(page.locator("#adult-result .restricted")).to_contain_text(
        "DO NOT RELEASE: No-contact order naming Jorge Diaz")
    await expect(page.locator("#adult-result").get_by_role("button")).to_have_count(0)

    await page.fill("#adult-name", "Maria Diaz")
    await page.fill("#adult-relationship", "mother")
    await page.check("#adult-id-seen")
    await page.fill("#adult-student-search", "ana")
    await page.locator("#adult-student-matches").get_by_role("button", name="Add").tap()
    await page.get_by_role("button", name="Check the adult in").tap()
    await expect(page.locator("#adult-result")).to_contain_text("Listed (mother)")
    await page.locator("#adult-result").get_by_role("button", name="Release Ana Diaz").tap()
    await expect(page.locator("#status")).to_contain_text("Released Ana Diaz to Maria Diaz")
    await expect(page.locator("#count-released")).to_have_text("1")
    await expect(page.locator("#students")).to_contain_text("released to Maria Diaz")
    await shoot(page, "reunification-site")

    await page.goto(f"/reunifications/{rid}/record")
    table = page.locator("table")
    await expect(table).to_contain_text("Ana Diaz")
    await expect(table).to_contain_text("Maria Diaz")
    await expect(table).to_contain_text("listed")
    releases = await db.fetch("select verification from releases")
    assert [r["verification"] for r in releases] == ["listed"]


async def test_an_adult_not_listed_is_approved_from_the_waiting_list_after_a_reload(
        db, live, phone):
    """Ben's uncle, on nobody's list, checked in; the page reloaded: his release from the
    waiting list is refused for want of an approval, which the principal gives there,
    and the release that follows is recorded as approved."""
    school, _, _, rid = await _site(db, live)
    await sign_in(phone, live, db, school["principal"])
    page = await phone.new_page()
    await page.goto(f"/reunifications/{rid}")
    await page.fill("#student-search", "ben")
    await page.locator("#student-matches").get_by_role("button", name="Arrived").tap()
    await expect(page.locator("#count-arrived")).to_have_text("1")
    await page.fill("#adult-name", "Rob Cole")
    await page.check("#adult-id-seen")
    await page.fill("#adult-student-search", "ben")
    await page.locator("#adult-student-matches").get_by_role("button", name="Add").tap()
    await page.get_by_role("button", name="Check the adult in").tap()
    await expect(page.locator("#adult-result")).to_contain_text("NOT on the list")

    await page.reload()
    waiting = page.locator("#waiting")
    await waiting.get_by_role("button", name="Release Ben Cole").tap()
    await expect(page.locator("#status")).to_contain_text("approval is needed")
    await waiting.get_by_role("button", name="Approve Ben Cole (principal)").tap()
    await expect(page.locator("#status")).to_contain_text("Approved")
    await waiting.get_by_role("button", name="Release Ben Cole").tap()
    await expect(page.locator("#count-released")).to_have_text("1")
    releases = await db.fetch("select verification from releases")
    assert [r["verification"] for r in releases] == ["approved"]
