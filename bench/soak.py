"""Soak: minutes of a district's mixed traffic on one `muster serve`, to show that
nothing fails and memory stays flat.

The mix, all on 127.0.0.1: phones posting check-ins (open loop, at `--load` times
the peak measured first with the same mix), and in a process of their own a
principal's dashboard reading accountability 10 times a second and `--dashboards`
live streams of the current event; every `--cycle` seconds an all-clear and a new
lockdown (each one alerting the school's 70 staff through the console senders, so
the dispatcher works too). Prints errors (must be 0), p50/p99 per route, stream
messages, CPU per process, and the server's memory (RSS) at the start, every
minute and at the end: flat means the end within 10 % of the one-minute mark (the
first minute fills the token and caller caches).

    .venv/bin/python bench/soak.py                      # 10 minutes at 50 % of peak
    .venv/bin/python bench/soak.py --minutes 2 --load 0.5 --dashboards 50

Figures are printed, never asserted; the exit status is 0 whenever the run
completed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import msgspec
import psutil
from checkin_storm import (
    BIN,
    SCHOOL_ROOMS,
    Phone,
    Tally,
    World,
    checkin_bodies,
    cpu_watcher,
    elsewhere,
    error_text,
    grow_school,
    row,
    start_lockdown,
    storm,
)

from api.cli.demo import DemoReport

MAX_MEMORY_GROWTH = 1.10  # "flat": the end within 10 % of the start
# Idle connections are dropped before uvicorn's 5 s keep-alive ends them, or a request
# sent just as the server closes one fails (a client's error, not the server's).
KEEPALIVE_S = 4


@dataclass
class Current:
    """The lockdown everyone is working on now; `moved` is set when a new one starts.
    Between an all-clear and the next lockdown the phones have nothing to report on."""

    event_id: uuid.UUID
    moved: asyncio.Event = field(default_factory=asyncio.Event)
    active: bool = True


@dataclass
class Streams:
    messages: int = 0
    checkins: int = 0  # `checkin` messages: each dashboard gets each check-in of its event
    connects: int = 0
    errors: int = 0
    first_error: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def timed(tally: Tally, request) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await request
        tally.record(time.perf_counter() - started, response.status_code, error_text(response))
        return response
    except httpx.HTTPError as exc:
        tally.record(time.perf_counter() - started, None, repr(exc))
        return None


@dataclass
class Unsent:
    """Check-ins of the schedule that were not sent, and how late the rest were."""

    between: int = 0  # due between an all-clear and the next lockdown
    late: int = 0  # sent more than a second after they were due: the phone was waiting
    late_s: float = 0.0  # how far behind its schedule the last phone finished


async def post_checkins(base: str, current: Current, phones: list[Phone], rate: float,
                        until: float, tally: Tally) -> Unsent:
    """Open loop at `rate` over all phones: phone i's k-th report is due at
    (i + k * phones) / rate s, whatever the answers; a phone still waiting for its last
    answer sends late. Each phone has its own connection, and its bodies are encoded
    beforehand but for the phone's clock (`observed_at`), so that a report that arrives
    just after an all-clear is still accepted (observed before the end)."""
    unsent, start = Unsent(), time.perf_counter()

    async def phone_at_work(i: int, phone: Phone) -> None:
        headers = {"authorization": f"Bearer {phone.token}", "content-type": "application/json"}
        async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30,
                                     limits=httpx.Limits(max_connections=1,
                                                         keepalive_expiry=KEEPALIVE_S)
                                     ) as client:
            for k in itertools.count():
                due = start + (i + k * len(phones)) / rate
                if due >= until:
                    break
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                if not current.active:
                    unsent.between += 1
                    continue
                unsent.late += time.perf_counter() - due > 1.0
                body = next(phone.bodies)[:-1] + f',"observed_at":"{_now()}"}}'.encode()
                await timed(tally, client.post(f"/v1/events/{current.event_id}/checkins",
                                               content=body, headers=headers))
        unsent.late_s = max(unsent.late_s, time.perf_counter() - until)

    await asyncio.gather(*(phone_at_work(i, p) for i, p in enumerate(phones)))
    return unsent


async def poll(client: httpx.AsyncClient, current: Current, token: str, until: float,
               tally: Tally) -> None:
    while (started := time.perf_counter()) < until:
        await timed(tally, client.get(f"/v1/events/{current.event_id}/accountability",
                                      headers={"authorization": f"Bearer {token}"}))
        await asyncio.sleep(max(0.0, started + 0.1 - time.perf_counter()))


async def follow(client: httpx.AsyncClient, current: Current, school_id: uuid.UUID, token: str,
                 until: float) -> None:
    """What a dashboard does across lockdowns: look up the school's active event twice a
    second; a new one moves the streams to it."""
    while time.perf_counter() < until:
        r = await client.get(f"/v1/schools/{school_id}/events",
                             params={"status": "active", "limit": 1},
                             headers={"authorization": f"Bearer {token}"})
        active = r.json()["items"] if r.status_code == 200 else []
        if active and uuid.UUID(active[0]["id"]) != current.event_id:
            moved = current.moved
            current.event_id, current.moved = uuid.UUID(active[0]["id"]), asyncio.Event()
            moved.set()
        await asyncio.sleep(0.5)


async def watch(base: str, school_id: uuid.UUID, event_id: uuid.UUID, principal: str,
                viewers: list[str], until: float) -> tuple[Streams, Tally]:
    """The live streams and the principal's accountability reads of the school's current
    event, `event_id` at first, as their own devices (run `elsewhere`: 50 streams of a
    soak's check-ins are more than the phones' process can read besides its own work)."""
    limits = httpx.Limits(max_connections=10 + len(viewers), keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30, limits=limits
                                 ) as client:
        current = Current(event_id)
        seen, polled = Streams(), Tally("accountability")
        await asyncio.gather(follow(client, current, school_id, principal, until),
                             poll(client, current, principal, until, polled),
                             *(dashboard(client, current, t, until, seen) for t in viewers))
    return seen, polled


async def dashboard(client: httpx.AsyncClient, current: Current, token: str, until: float,
                    seen: Streams) -> None:
    """Follow the current event's stream; move to the next event when it starts. Counts
    messages by their blank-line ends (no parsing: the generator must stay light)."""
    while time.perf_counter() < until:
        moved, event_id = current.moved, current.event_id
        try:
            async with client.stream("GET", f"/v1/events/{event_id}/stream",
                                     headers={"authorization": f"Bearer {token}"}) as s:
                seen.connects += 1
                if s.status_code != 200:
                    raise httpx.HTTPStatusError(str(s.status_code), request=s.request,
                                                response=s)
                reading = asyncio.ensure_future(_count(s, seen))
                await asyncio.wait([reading, asyncio.ensure_future(moved.wait())],
                                   timeout=max(0.0, until - time.perf_counter()),
                                   return_when=asyncio.FIRST_COMPLETED)
                reading.cancel()
        except httpx.HTTPError as exc:
            seen.errors += 1
            seen.first_error = seen.first_error or repr(exc)
            await asyncio.sleep(0.5)


async def _count(s: httpx.Response, seen: Streams) -> None:
    """Messages end with a blank line (CRLF CRLF); one may straddle two chunks."""
    tail = b""  # shorter than either mark, so a mark is counted once
    async for chunk in s.aiter_bytes():
        seen.messages += (tail[-3:] + chunk).count(b"\r\n\r\n")
        seen.checkins += (tail + chunk).count(b"event: checkin")
        tail = chunk[-13:]


async def cycle(client: httpx.AsyncClient, current: Current, school_id: uuid.UUID, sro: str,
                every: float, until: float, clears: Tally, starts: Tally) -> None:
    """All-clear and a new lockdown every `every` seconds (the streams find it by
    themselves: `follow`)."""
    headers = {"authorization": f"Bearer {sro}"}
    while time.perf_counter() + every < until:
        await asyncio.sleep(every)
        current.active = False
        await timed(clears, client.post(f"/v1/events/{current.event_id}/all-clear", json={},
                                        headers=headers))
        started = await timed(starts, client.post(f"/v1/schools/{school_id}/events",
                                                  json={"action": "lockdown", "drill": False},
                                                  headers=headers))
        if started is not None and started.status_code == 201:
            current.event_id = uuid.UUID(started.json()["id"])
        current.active = True


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


async def memory(pid: int, until: float, samples: list[tuple[float, float]]) -> None:
    start = time.perf_counter()
    while time.perf_counter() < until:
        samples.append((time.perf_counter() - start, rss_mb(pid)))
        await asyncio.sleep(min(60.0, max(0.0, until - time.perf_counter())))
    samples.append((time.perf_counter() - start, rss_mb(pid)))


async def soak(base: str, pids: tuple[int, int | None], current: Current, school_id: uuid.UUID,
               phones: list[Phone], sro: str, principal: str, viewers: list[str], rate: float,
               seconds: float, every: float) -> dict:
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE_S)  # the all-clears and lockdowns
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30, limits=limits
                                 ) as client:
        until = time.perf_counter() + seconds
        tallies = {name: Tally(name) for name in ("checkins", "all-clear", "start lockdown")}
        samples, cpu = [], {}
        watching = asyncio.ensure_future(elsewhere(watch, base, school_id, current.event_id,
                                                   principal, viewers, until))
        _, unsent, *_ = await asyncio.gather(
            cpu_watcher(*pids, cpu)(time.perf_counter(), until),
            post_checkins(base, current, phones, rate, until, tallies["checkins"]),
            cycle(client, current, school_id, sro, every, until, tallies["all-clear"],
                  tallies["start lockdown"]),
            memory(pids[0], until, samples))
        (seen, polled), cpu["streams and dashboard"] = await watching
        tallies = {"checkins": tallies.pop("checkins"), "accountability": polled} | tallies
        for t in tallies.values():
            t.elapsed = seconds
    return {"tallies": tallies, "streams": seen, "memory": samples, "unsent": unsent,
            "cpu": cpu, "seconds": seconds, "dashboards": len(viewers)}


def main() -> int:
    parser = argparse.ArgumentParser(description="Soak muster serve with mixed traffic.")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--load", type=float, default=0.5,
                        help="check-in rate as a share of the peak measured first")
    parser.add_argument("--dashboards", type=int, default=50)
    parser.add_argument("--cycle", type=float, default=60,
                        help="seconds between all-clear + new lockdown")
    parser.add_argument("--phones", type=int, default=64)
    args = parser.parse_args()

    world = World(pool_size=10)
    world.env["MUSTER_ACCESS_TOKEN_TTL"] = "86400"  # the demo's tokens outlive the run
    started = time.monotonic()
    try:
        world.up()
        demo = msgspec.json.decode(world.muster("demo", "--json"), type=DemoReport)
        school = demo.schools[0]
        rooms, _ = asyncio.run(grow_school(world.dsn, school, SCHOOL_ROOMS))
        staff = school.users
        sro = next(u for u in staff if u.role == "sro").access_token
        principal = next(u for u in staff if u.role == "principal").access_token
        leads = [u.access_token for u in staff if u.role in ("sro", "principal")]
        viewers = [leads[n % len(leads)] for n in range(args.dashboards)]
        base, pid = world.serve("muster", [str(BIN / "muster"), "serve"], "/ready")
        current = Current(start_lockdown(base, school.id, sro))

        def phones(prebuilt: int) -> list[Phone]:
            return [Phone(u.access_token, checkin_bodies(rooms, i, args.phones, prebuilt))
                    for i, u in enumerate(staff[:args.phones])]

        peak = asyncio.run(_peak_with_the_mix(base, current, school.id, phones(600),
                                              principal, viewers))
        # a fresh lockdown: the streams' history is then only the soak's own check-ins
        httpx.post(f"{base}/v1/events/{current.event_id}/all-clear", json={}, trust_env=False,
                   headers={"authorization": f"Bearer {sro}"}, timeout=30).raise_for_status()
        current = Current(start_lockdown(base, school.id, sro))
        rate = args.load * peak.per_second
        print(f"soak: {school.name}, {len(rooms)} rooms; peak with the mix "
              f"{peak.per_second:.0f} check-ins/s ({args.phones} phones, closed loop, 15 s); "
              f"soaking at {rate:.0f}/s ({args.load:.0%}) for {args.minutes:g} min with "
              f"{args.dashboards} streams, 10 accountability reads/s, a new lockdown every "
              f"{args.cycle:g} s", flush=True)
        result = asyncio.run(soak(base, (pid, world.postmaster_pid), current, school.id,
                                  phones(int(rate * args.minutes * 60 / args.phones) + 10),
                                  sro, principal, viewers, rate, args.minutes * 60, args.cycle))
        report(result, rate)
    finally:
        world.down_and_report(started)
    return 0


async def _peak_with_the_mix(base: str, current: Current, school_id: uuid.UUID,
                             phones: list[Phone], principal: str, viewers: list[str]) -> Tally:
    """The closed-loop check-in rate with the streams open and the dashboard polling."""
    watching = asyncio.ensure_future(elsewhere(watch, base, school_id, current.event_id,
                                               principal, viewers, time.perf_counter() + 18))
    peak, _, _ = await storm(base, f"/v1/events/{current.event_id}/checkins", phones, 3, 15,
                             "peak")
    await watching
    return peak


def report(result: dict, rate: float) -> None:
    tallies, seen, samples = result["tallies"], result["streams"], result["memory"]
    print(f"\n{'route':<30}{'requests':>9}{'per s':>12}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}")
    for t in tallies.values():
        print(row(t.name, t))
    errors = sum(t.errors for t in tallies.values()) + seen.errors
    for t in tallies.values():
        if t.errors:
            print(f"  {t.name}: statuses {dict(t.statuses)}; first error: {t.first_error}")
            for status, detail in t.error_samples.items():
                print(f"    {status}: {detail}")
    expected = tallies["checkins"].statuses[201] * result["dashboards"]
    print(f"streams: {seen.connects} connections, {seen.messages} messages, {seen.errors} "
          f"errors{' (' + seen.first_error + ')' if seen.errors else ''}; check-in messages "
          f"{seen.checkins} of {expected} (accepted x dashboards: the last ones of the run may "
          f"still be on their way)")
    unsent = result["unsent"]
    print(f"check-ins asked for: {rate:.0f}/s; not sent: {unsent.between} due between "
          f"lockdowns; sent over 1 s late: {unsent.late}; the last phone finished "
          f"{unsent.late_s:.1f} s behind its schedule")
    print("CPU seconds per second of the run: " + ", ".join(
        f"{k} {v / result['seconds']:.2f}" for k, v in result["cpu"].items()) + " (2 cores)")
    print("server memory (RSS): " + ", ".join(f"{t / 60:.0f} min {mb:.0f} MB"
                                              for t, mb in samples))
    # caches fill in the first minute (verified tokens, callers): flat is measured after it
    first, last = samples[min(1, len(samples) - 1)][1], samples[-1][1]
    flat = last <= first * MAX_MEMORY_GROWTH
    print(f"\nerrors: {errors} -> {'PASS' if errors == 0 else 'FAIL'}")
    print(f"memory after the first minute -> at the end: {first:.0f} MB -> {last:.0f} MB "
          f"({last / first - 1:+.1%}; flat means within {MAX_MEMORY_GROWTH - 1:.0%}) -> "
          f"{'PASS' if flat else 'FAIL'}")


if __name__ == "__main__":
    sys.exit(main())
