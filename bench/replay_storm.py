"""Replay storm: many dashboards replay a long timeline while another school checks in.

Builds its world as `checkin_storm.py` does (a temporary data dir with an embedded
PostgreSQL, or a temporary database on the server named by MUSTER_DATABASE_URL;
`muster demo --json`; `muster serve`, one uvicorn worker). A lockdown at Cedar
Elementary gets ~1,600 timeline entries (check-ins with a note, posted over the API);
a lockdown at Riverbend High gets a steady check-in storm (open loop). The storm runs
twice: alone, then while 200 streams open Cedar's timeline with `Last-Event-ID: 0`
(spread over Cedar's staff, within the per-person bound) and read it to its end.

    .venv/bin/python bench/replay_storm.py [--streams 200] [--entries 1600] [--rate 100]

The storm and the streams each run in a process of their own (other devices: in one
process each would time the other's work). Figures are printed, never asserted; the
exit status is 0 whenever the run completed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import platform
import sys
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import msgspec
import psutil
from checkin_storm import (
    BIN,
    Tally,
    World,
    elsewhere,
    error_text,
    print_profile,
    py_spy_watcher,
    start_lockdown,
    verdict,
)

from api.cli.demo import DemoReport
from domain.streams import MAX_STREAMS_PER_PERSON

MAX_P99_MS = 100.0  # the target for check-ins during a replay storm


# ---------------------------------------------------------------- the long timeline

async def fill_timeline(base: str, event_id: uuid.UUID, tokens: list[str],
                        rooms: list[uuid.UUID], dsn: str, entries: int) -> int:
    """Check-ins (each a timeline entry) until the event has `entries`; its last seq."""
    path = f"/v1/events/{event_id}/checkins"
    note = "Two students with the nurse; one came from the library. " * 3
    conn = await asyncpg.connect(dsn)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as client:

            async def post(n: int) -> None:
                body = {"client_id": str(uuid.uuid4()), "room_id": str(rooms[n % len(rooms)]),
                        "status": "ok", "students_present": 18 + n % 9, "note": note}
                headers = {"authorization": f"Bearer {tokens[n % len(tokens)]}"}
                try:
                    r = await client.post(path, json=body, headers=headers)
                except httpx.TransportError:  # a kept-alive connection closed under us:
                    r = await client.post(path, json=body, headers=headers)  # same client_id
                if r.status_code != 201:
                    raise RuntimeError(f"filling the timeline: {r.status_code} {r.text}")

            while (last := await conn.fetchval("select last_seq from events where id = $1",
                                               event_id)) < entries:
                await asyncio.gather(*(post(n) for n in range(min(32, entries - last))))
    finally:
        await conn.close()
    return last


# ---------------------------------------------------------------- the storm (a process)

async def checkin_storm(base: str, event_id: uuid.UUID, tokens: list[str],
                        rooms: list[uuid.UUID], rate: float, stop: mp.synchronize.Event,
                        max_s: float) -> list[tuple[float, float, int | None, str]]:
    """Check-ins at `rate` per second on a steady clock (open loop) until `stop` is set
    (or `max_s`): (started, seconds, status, error) for each, perf_counter instants."""
    results: list[tuple[float, float, int | None, str]] = []
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    path = f"/v1/events/{event_id}/checkins"
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30,
                                 trust_env=False) as client:

        async def post(n: int, body: bytes) -> None:
            headers = {"authorization": f"Bearer {tokens[n % len(tokens)]}",
                       "content-type": "application/json"}
            started = time.perf_counter()
            try:
                r = await client.post(path, content=body, headers=headers)
                status, detail = r.status_code, error_text(r)
            except httpx.HTTPError as exc:
                status, detail = None, repr(exc)
            results.append((started, time.perf_counter() - started, status, detail))

        begin = time.perf_counter()
        tasks = []
        n = 0
        while not stop.is_set() and time.perf_counter() - begin < max_s:
            body = msgspec.json.encode({"client_id": uuid.uuid4(), "room_id": rooms[n % len(rooms)],
                                        "status": "ok", "students_present": 18 + n % 12})
            await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(post(n, body)))
            n += 1
        await asyncio.gather(*tasks)
    return results


def storm_tally(name: str, results: list[tuple[float, float, int | None, str]],
                since: float, until: float) -> Tally:
    """The check-ins started within [since, until)."""
    tally = Tally(name)
    for started, seconds, status, detail in results:
        if since <= started < until:
            tally.record(seconds, status, detail)
    tally.elapsed = until - since
    return tally


# ---------------------------------------------------------------- the replay (a process)

async def replay(base: str, event_id: uuid.UUID, tokens: list[str], streams: int,
                 last_seq: int) -> tuple[float, float, list[float], dict[str, int], float,
                                         tuple[float, float]]:
    """`streams` streams at once from Last-Event-ID 0, each read until the message with
    id `last_seq`. Read raw from the socket, not parsed: an attacker's client costs the
    server nothing, and this process shares the machine with it. Returns the start, the
    end, each stream's time to its last message, the outcomes by kind, when the last
    stream's answer began, and the start and end on the wall clock (for the server log)."""
    host, port = base.removeprefix("http://").split(":")
    marker = f"\r\nid: {last_seq}\r\n".encode()
    outcomes: dict[str, int] = {}
    done: list[float] = []
    heads: list[float] = []

    async def one(n: int) -> None:
        opened = time.perf_counter()
        outcome = "ended early"
        writer = None
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(f"GET /v1/events/{event_id}/stream HTTP/1.1\r\nhost: {host}\r\n"
                         f"authorization: Bearer {tokens[n % len(tokens)]}\r\n"
                         "accept: text/event-stream\r\nlast-event-id: 0\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            heads.append(time.perf_counter())
            status = head.split(b" ", 2)[1].decode()
            if status != "200":
                outcome = status
                return
            tail = b""
            while chunk := await reader.read(1 << 16):
                if marker in tail + chunk:
                    done.append(time.perf_counter() - opened)
                    outcome = "replayed to the end"
                    return
                tail = chunk[-len(marker):]
        except OSError as exc:
            outcome = type(exc).__name__
        finally:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if writer is not None:
                writer.close()

    start, wall_start = time.perf_counter(), time.time()
    await asyncio.gather(*(one(n) for n in range(streams)))
    return (start, time.perf_counter(), done, outcomes, max(heads, default=start),
            (wall_start, time.time()))


async def too_many_streams(base: str, event_id: uuid.UUID, token: str,
                           allowed: int) -> list[int]:
    """One person opening `allowed` + 1 streams at once: the statuses of their answers."""
    limits = httpx.Limits(max_connections=allowed + 1)
    async with (httpx.AsyncClient(base_url=base, timeout=30, trust_env=False,
                                  limits=limits) as client,
                contextlib.AsyncExitStack() as open_streams):
        statuses = []
        for _ in range(allowed + 1):
            r = await open_streams.enter_async_context(client.stream(
                "GET", f"/v1/events/{event_id}/stream",
                headers={"authorization": f"Bearer {token}"}))
            statuses.append(r.status_code)
        return statuses


def server_side(log: Path, event_id: uuid.UUID, wall: tuple[float, float]) -> Tally:
    """The check-ins' durations as the server logged them within `wall` (its text log:
    `2026-12-03 12:00:00,123 INFO ...: POST /v1/events/ID/checkins 201 12.3 ms ...`)."""
    tally = Tally("in the server")
    wanted = f"POST /v1/events/{event_id}/checkins "
    for line in log.read_text(errors="replace").splitlines():
        if wanted not in line:
            continue
        at = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if wall[0] <= at <= wall[1]:
            status, ms = line.split(wanted, 1)[1].split()[:2]
            tally.record(float(ms) / 1000, int(status))
    return tally


# ---------------------------------------------------------------- main

def report(alone: Tally, during: Tally, replay_s: float, done: list[float],
           outcomes: dict[str, int], streams: int, entries: int, bound: list[int]) -> None:
    def figures(t: Tally) -> str:
        return (f"{len(t.latencies):6} check-ins  p50 {t.percentile_ms(0.5):7.1f} ms  "
                f"p99 {t.percentile_ms(0.99):7.1f} ms  max {t.percentile_ms(1.0):7.1f} ms  "
                f"errors {t.errors}")

    print()
    print(f"check-ins at Riverbend, alone:            {figures(alone)}")
    print(f"check-ins at Riverbend, during the replay: {figures(during)}")
    for t in (alone, during):
        if t.errors:
            print(f"  {t.name}: statuses {dict(t.statuses)}; first error: {t.first_error}")
    ratio50 = during.percentile_ms(0.5) / alone.percentile_ms(0.5)
    ratio99 = during.percentile_ms(0.99) / alone.percentile_ms(0.99)
    print(f"ratio during/alone: p50 {ratio50:.2f}x, p99 {ratio99:.2f}x")
    done_sorted = sorted(done)
    median = done_sorted[len(done_sorted) // 2] if done_sorted else float("nan")
    print(f"replay: {streams} streams x {entries} entries from Last-Event-ID 0: all done in "
          f"{replay_s:.2f} s (per stream: median {median:.2f} s, slowest "
          f"{max(done, default=float('nan')):.2f} s); outcomes {outcomes}")
    print(f"one person opening {MAX_STREAMS_PER_PERSON + 1} streams: statuses {bound}")
    print()
    p99 = during.percentile_ms(0.99)
    print(f"  {verdict(p99 < MAX_P99_MS)}  check-in p99 during the replay < {MAX_P99_MS:.0f} ms "
          f"({p99:.1f} ms)")
    print(f"  {verdict(outcomes.get('replayed to the end') == streams)}  every stream replayed "
          f"to its last entry")
    print(f"  {verdict(bound[-1] == 429 and set(bound[:-1]) == {200})}  the stream past "
          f"{MAX_STREAMS_PER_PERSON} per person is 429")


def main() -> int:
    parser = argparse.ArgumentParser(description="Replay storm: streams replaying a long "
                                     "timeline while another school checks in.")
    parser.add_argument("--streams", type=int, default=200, help="streams replaying at once")
    parser.add_argument("--entries", type=int, default=1600, help="timeline entries to replay")
    parser.add_argument("--rate", type=float, default=100, help="check-ins per second")
    parser.add_argument("--seconds", type=float, default=10, help="the storm alone")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="also record muster serve with py-spy for the replay's first "
                             "--profile-seconds (raw stacks to FILE); the figures of such a "
                             "run are disturbed by the profiler")
    parser.add_argument("--profile-seconds", type=float, default=3)
    args = parser.parse_args()

    world = World(pool_size=10)
    started = time.monotonic()
    try:
        world.up()
        demo = msgspec.json.decode(world.muster("demo", "--json"), type=DemoReport)
        high, cedar = demo.schools[0], demo.schools[1]
        readers = [u.access_token for u in cedar.users]
        if args.streams > len(readers) * MAX_STREAMS_PER_PERSON:
            raise SystemExit(f"--streams: at most {len(readers) * MAX_STREAMS_PER_PERSON}")
        phones = [u.access_token for u in high.users if u.role == "teacher"]
        database = "external, temporary database" if world.external else "embedded"
        print(f"replay storm: {args.streams} streams from Last-Event-ID 0 on a {cedar.name} "
              f"lockdown of ~{args.entries} entries, spread over its {len(readers)} staff; "
              f"check-ins at {high.name} at {args.rate:g}/s from {len(phones)} phones")
        print(f"machine: {len(os.sched_getaffinity(0))} cores, Python "
              f"{platform.python_version()}, PostgreSQL ({database}); pool 10, 1 uvicorn "
              f"worker; the streams and the storm each in a process of their own")

        base, pid = world.serve("muster", [str(BIN / "muster"), "serve"], "/ready")
        sro = next(u for u in cedar.users if u.role == "sro")
        replayed = start_lockdown(base, cedar.id, sro.access_token)
        last_seq = asyncio.run(fill_timeline(base, replayed, readers,
                                             [r.id for r in cedar.rooms], world.dsn,
                                             args.entries))
        print(f"{cedar.name}'s lockdown has {last_seq} timeline entries")
        stormed = start_lockdown(base, high.id,
                                 next(u for u in high.users if u.role == "sro").access_token)
        rooms = [r.id for r in high.rooms]

        never = mp.get_context("spawn").Event()
        results, _ = asyncio.run(elsewhere(checkin_storm, base, stormed, phones, rooms,
                                           args.rate, never, args.seconds + 1))
        alone = storm_tally("alone", results, results[0][0] + 1, results[0][0] + 1
                            + args.seconds)

        async def together() -> tuple:
            stop = mp.get_context("spawn").Event()
            storming = asyncio.ensure_future(elsewhere(
                checkin_storm, base, stormed, phones, rooms, args.rate, stop, 600))
            await asyncio.sleep(2)
            server_before = server_cpu()
            profiling = args.profile and asyncio.ensure_future(py_spy_watcher(
                pid, args.profile)(time.perf_counter(),
                                   time.perf_counter() + args.profile_seconds))
            (start, end, done, outcomes, all_open, wall), replay_cpu = await elsewhere(
                replay, base, replayed, readers, args.streams, last_seq)
            cpu = {"server": server_cpu() - server_before, "stream readers": replay_cpu}
            await asyncio.sleep(1)
            stop.set()
            (results, cpu["check-in phones"]) = await storming
            if profiling:
                await profiling
            return results, start, end, done, outcomes, cpu, all_open, wall

        def server_cpu() -> float:
            times = psutil.Process(pid).cpu_times()
            return times.user + times.system

        results, start, end, done, outcomes, cpu, all_open, wall = asyncio.run(together())
        during = storm_tally("during the replay", results, start, end)
        opening = storm_tally("while the streams open", results, start, all_open)
        replaying = storm_tally("once all are open", results, all_open, end)
        bound = asyncio.run(too_many_streams(base, replayed, readers[0],
                                             MAX_STREAMS_PER_PERSON))
        world.stop_servers()
        in_server = server_side(world.dir / "muster.log", stormed, wall)
        report(alone, during, end - start, done, outcomes, args.streams, last_seq, bound)
        print(f"of which: while the streams open ({all_open - start:.2f} s): "
              f"p50 {opening.percentile_ms(0.5):.1f} ms, p99 {opening.percentile_ms(0.99):.1f} ms "
              f"({len(opening.latencies)}); once all are open: p50 "
              f"{replaying.percentile_ms(0.5):.1f} ms, p99 {replaying.percentile_ms(0.99):.1f} ms "
              f"({len(replaying.latencies)})")
        print(f"the same check-ins in the server (arrival to answer, from its access log): "
              f"p50 {in_server.percentile_ms(0.5):.1f} ms, p99 {in_server.percentile_ms(0.99):.1f}"
              f" ms ({len(in_server.latencies)}): the rest of the phones' figure is waiting "
              f"for a CPU, in the phones' process or before the server reads the request")
        print(f"CPU seconds: server {cpu['server']:.1f} during the replay; the stream readers' "
              f"process {cpu['stream readers']:.1f}, the phones' {cpu['check-in phones']:.1f} "
              f"(all of the second storm); {len(os.sched_getaffinity(0))} cores, load average "
              f"{os.getloadavg()[0]:.1f}")
        if args.profile:
            print_profile(args.profile, Counter())
    finally:
        world.down_and_report(started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
