"""First visit on a slow phone: what the check-in page an alert links to downloads, and
how soon it can be used, over Chromium's "Slow 4G".

Builds its world as `checkin_storm.py` does (a temporary data dir with an embedded
PostgreSQL, or a temporary database on the server named by MUSTER_DATABASE_URL;
`muster demo --json`; `muster serve`). An SRO starts a real lockdown at Riverbend High;
a teacher's alert SMS (the outbox row) gives the link. Debian's Chromium, driven by
Playwright, opens it in a fresh 360 px phone context, throttled as DevTools' "Slow 4G"
preset is (562.5 ms round trip, 1.44 Mbit/s down, 675 kbit/s up), then again from its
cache; and the sign-in page likewise.

    .venv/bin/python bench/first_visit.py

Figures are printed, never asserted; the exit status is 0 whenever the run completed.
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import msgspec
from checkin_storm import BIN, World, start_lockdown
from playwright.async_api import Browser, BrowserContext, async_playwright

from api.cli.demo import DemoReport

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# DevTools' "Slow 4G" preset (Chromium 156), as its network panel applies it
SLOW_4G = {"offline": False, "latency": 562.5, "downloadThroughput": 1.44e6 / 8,
           "uploadThroughput": 675e3 / 8}
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2}


@dataclass
class Visit:
    """What one page load fetched and when it could be used."""

    responses: dict[str, int] = field(default_factory=dict)  # url -> bytes on the wire
    ready_s: float = 0.0  # until the page's main control could be used

    @property
    def bytes(self) -> int:
        return sum(self.responses.values())


async def visit(context: BrowserContext, url: str, ready: str) -> Visit:
    """Open `url` in a new tab of `context`, throttled; time until the control named by
    the role selector `ready` (e.g. 'button=Send') is visible and enabled."""
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    seen = Visit()
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent",
           lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: seen.responses.__setitem__(
        urls.get(e["requestId"], e["requestId"]), int(e["encodedDataLength"])))
    role, _, name = ready.partition("=")
    began = time.perf_counter()
    await page.goto(url, wait_until="commit")
    control = page.get_by_role(role, name=name, exact=True)  # type: ignore[arg-type]
    await control.wait_for(state="visible", timeout=120_000)
    while not await control.is_enabled():
        await asyncio.sleep(0.01)
    seen.ready_s = time.perf_counter() - began
    await page.wait_for_load_state("load")
    await page.close()
    return seen


async def alert_link(dsn: str, event_id: uuid.UUID, user_id: uuid.UUID) -> str:
    """The link in the person's alert SMS (as queued in the outbox)."""
    conn = await asyncpg.connect(dsn)
    try:
        body = await conn.fetchval(
            "select body from notification_outbox where event_id = $1 and user_id = $2 "
            "and channel = 'sms' order by id limit 1", event_id, user_id)
    finally:
        await conn.close()
    found = re.search(r"https?://\S+/e/\S+", body or "")
    if found is None:
        raise RuntimeError(f"no link in the alert SMS: {body!r}")
    return found.group(0)


async def measure(browser: Browser, url: str, ready: str) -> tuple[Visit, Visit]:
    """A fresh phone's first visit, then its second (from its cache)."""
    context = await browser.new_context(**PHONE)  # type: ignore[arg-type]
    try:
        first = await visit(context, url, ready)
        again = await visit(context, url, ready)
    finally:
        await context.close()
    return first, again


def show(name: str, first: Visit, again: Visit) -> None:
    print(f"\n{name}")
    print(f"  first visit: {first.bytes / 1024:6.1f} KiB in {len(first.responses)} responses, "
          f"usable after {first.ready_s:5.2f} s")
    for url, size in sorted(first.responses.items(), key=lambda item: -item[1]):
        print(f"    {size / 1024:6.1f} KiB  {url.split('/', 3)[-1][:70]}")
    print(f"  again (cached): {again.bytes / 1024:6.1f} KiB in {len(again.responses)} "
          f"responses, usable after {again.ready_s:5.2f} s "
          f"({again.ready_s / first.ready_s:.2f}x the first)")


async def run(world: World, base: str, demo: DemoReport) -> None:
    school = demo.schools[0]
    sro = next(u for u in school.users if u.role == "sro")
    teacher = next(u for u in school.users if u.role == "teacher")
    event_id = start_lockdown(base, school.id, sro.access_token)
    link = await alert_link(world.dsn, event_id, teacher.id)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        print(f"Chromium {browser.version}, 360 px phone, Slow 4G "
              f"({SLOW_4G['latency']} ms RTT, 1.44 Mbit/s down)")
        show(f"check-in page from the alert's link ({len(link)} characters)",
             *await measure(browser, link, "button=Send"))
        show("sign-in page", *await measure(browser, base + "/signin", "button=Text me a code"))
        await browser.close()


def main() -> int:
    world = World(pool_size=10)
    started = time.monotonic()
    try:
        world.up()
        demo = msgspec.json.decode(world.muster("demo", "--json"), type=DemoReport)
        database = "external, temporary database" if world.external else "embedded"
        print(f"First visit: machine {len(os.sched_getaffinity(0))} cores, Python "
              f"{platform.python_version()}, PostgreSQL ({database}); one muster serve")
        base, _ = world.serve("muster", [str(BIN / "muster"), "serve"], "/ready")
        asyncio.run(run(world, base, demo))
    finally:
        world.down_and_report(started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
