"""Signing in in a browser with the code texted to the phone, and out again."""

from __future__ import annotations

import logging
import re

import pytest
from playwright.async_api import expect

from tests import factories
from tests.browser.conftest import LAPTOP, PHONE, new_context

NUMBER = "+15125550142"


@pytest.fixture
def texts(caplog):
    caplog.set_level(logging.INFO, logger="muster.notifications")

    def code() -> str:
        sent = [m.group(1) for r in caplog.records
                if (m := re.fullmatch(r"SMS to \+\d+: (\d{6}) is your .*", r.getMessage()))]
        assert sent, "no code was texted"
        return sent[-1]
    return code


@pytest.mark.parametrize("device", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_a_principal_signs_in_with_the_texted_code_and_sees_her_school(
        browser, device, live, db, texts, shoot):
    school = await factories.staffed_school(db, "principal")
    await db.execute("update users set phone = $2 where id = $1", school["principal"], NUMBER)
    await db.execute("update schools set name = 'Cedar Elementary' where id = $1", school["id"])
    context = await new_context(browser, live, **device)
    page = await context.new_page()
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/signin\?next=/$"))
    await shoot(page, "signin")
    await page.get_by_label("Phone").fill("(512) 555-0142")
    await page.get_by_role("button", name="Text me a code").click()
    await expect(page.get_by_label("Code")).to_be_visible()
    await page.get_by_label("Code").fill(texts())
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("link", name="Cedar Elementary")).to_be_visible()
    await shoot(page, "home")
    cookie = next(c for c in await page.context.cookies() if c["name"] == "muster_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert await page.evaluate("document.cookie") == ""  # scripts cannot read the session

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/signin"))
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/signin\?next=/$"))
    await context.close()


async def test_a_wrong_code_says_so_and_signs_nobody_in(phone, live, db, texts):
    school = await factories.staffed_school(db, "principal")
    await db.execute("update users set phone = $2 where id = $1", school["principal"], NUMBER)
    page = await phone.new_page()
    await page.goto("/signin")
    await page.get_by_label("Phone").fill(NUMBER)
    await page.get_by_role("button", name="Text me a code").click()
    await expect(page.get_by_label("Code")).to_be_visible()
    right = texts()
    await page.get_by_label("Code").fill("000000" if right != "000000" else "111111")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("that code is wrong")
    assert not [c for c in await phone.cookies() if c["name"] == "muster_session"]
