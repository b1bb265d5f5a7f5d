"""Pages in a real browser: Debian's Chromium (`apt-get install chromium`), driven by
Playwright for Python, against the app served by uvicorn in the test's process (so the
app reads the test's clock) on a real PostgreSQL.

Phones are 360 px wide contexts with touch; laptops 1280 px. `shoot(page, name)` saves a
screenshot to $MUSTER_SCREENSHOTS (or the test's tmp dir) for a person to look at.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest

from tests import factories, layers
from tests.conftest import SECRET

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

pytest_collection_modifyitems = layers.marking("browser", __file__)

CHROMIUM = "/usr/bin/chromium"
# As root in a container, without the network Chromium would reach out to by itself
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}
PATIENCE_MS = 30_000  # what a person would see within seconds; generous on a busy machine


@pytest.fixture
def clock(clock):
    """App time near wall time: the sign-in tokens the pages get are checked against the
    real clock by the JWT library (issued in the past, expiring in the future)."""
    clock.now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    return clock


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        await browser.close()


class Live(NamedTuple):
    base: str  # http://127.0.0.1:PORT, also the app's MUSTER_PUBLIC_URL


@pytest.fixture
async def live(db, database_url, clock, tmp_path) -> AsyncIterator[Live]:
    """The app served on a port of its own, its public URL that address (alert links point
    at it); on empty tables and the test clock; its outbox is left for the tests."""
    from playwright.async_api import expect

    from api.app import create_app
    from api.settings import Settings
    from tests.processes import free_port, serving

    expect.set_options(timeout=PATIENCE_MS)
    port = free_port()
    settings = Settings(data_dir=str(tmp_path), jwt_secret=SECRET,
                        public_url=f"http://127.0.0.1:{port}")
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                     dispatch=False)
    async with serving(app, port) as base:
        yield Live(base)


async def new_context(browser: Browser, live: Live, **options: object) -> BrowserContext:
    """A browser of its own (PHONE or LAPTOP options), opening paths on `live`."""
    context = await browser.new_context(base_url=live.base, **options)
    context.set_default_timeout(PATIENCE_MS)
    return context


@pytest.fixture
async def phone(browser, live) -> AsyncIterator[BrowserContext]:
    """A fresh phone: nothing stored, nobody signed in."""
    context = await new_context(browser, live, **PHONE)
    yield context
    await context.close()


@pytest.fixture
async def laptop(browser, live) -> AsyncIterator[BrowserContext]:
    context = await new_context(browser, live, **LAPTOP)
    yield context
    await context.close()


async def sign_in(context: BrowserContext, live: Live, db, user_id: uuid.UUID) -> str:
    """`user_id` signed in in this browser (the cookie POST /v1/auth/browser sets; the SMS
    round trip has tests of its own); the session's CSRF token."""
    session = await factories.browser_session(db, user_id)
    await context.add_cookies([{"name": "muster_session", "value": session.cookie,
                                "url": live.base, "httpOnly": True, "sameSite": "Strict"}])
    return session.csrf


@pytest.fixture
def shoot(tmp_path):
    """`await shoot(page, "name")`: a full-page screenshot, named by the page's width."""
    folder = Path(os.environ.get("MUSTER_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)

    async def screenshot(page: Page, name: str) -> Path:
        width = page.viewport_size["width"] if page.viewport_size else 0
        path = folder / f"{name}-{width}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    return screenshot
