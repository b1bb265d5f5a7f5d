"""Slow and huge request heads: does `muster serve` keep its memory and its sockets?

Builds its own world (as checkin_storm.py does), starts `muster serve` with its
defaults, then attacks it twice, each time with 200 sockets at once:

1. **Huge heads**: each sends a request line and a header whose value is 1 MB of
   `a`, in 64 KiB writes, and never ends it; the socket is then held open.
2. **Slowloris**: each sends a request line and then one byte a second, for
   `--slow` seconds (default 25: the 10 s head bound and more).

It prints the server's RSS before, at its highest during each attack and after, how
each socket ended (answered 431/408 and closed, reset, or still open when the attack
ended) and how many bytes the server took before closing. A request is served
before and after. Figures are printed, never asserted.

    .venv/bin/python bench/slow_heads.py [--sockets 200] [--slow 25]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import psutil
from checkin_storm import BIN, HOST, World

HEAD = b"GET /health HTTP/1.1\r\nhost: bench\r\n"
MEGABYTE = 1024 * 1024


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


async def highest_rss(pid: int, stop: asyncio.Event) -> float:
    """The highest RSS sampled every 100 ms until `stop`."""
    highest = rss_mb(pid)
    while not stop.is_set():
        highest = max(highest, rss_mb(pid))
        await asyncio.sleep(0.1)
    return highest


async def until_closed(reader: asyncio.StreamReader, seconds: float) -> str:
    """How the server ended the connection within `seconds`: its status, or `reset`,
    `closed`, `open`."""
    try:
        answer = await asyncio.wait_for(reader.read(), seconds)
    except TimeoutError:
        return "open"
    except ConnectionError:
        return "reset"
    return answer[9:12].decode() if answer.startswith(b"HTTP/1.1 ") else "closed"


async def huge_head(port: int, hold: float) -> tuple[str, int]:
    """A 1 MB header never finished; how it ended and the bytes the server took."""
    reader, writer = await asyncio.open_connection(HOST, port)
    sent = 0
    try:
        writer.write(HEAD + b"x-big: ")
        while sent < MEGABYTE and not reader.at_eof():
            writer.write(b"a" * 65536)
            await writer.drain()
            sent += 65536
        return await until_closed(reader, hold), sent
    except ConnectionError:
        return "reset", sent
    finally:
        writer.close()


async def slowloris(port: int, seconds: float) -> tuple[str, int]:
    """One byte a second after the request line; how it ended and the bytes sent."""
    reader, writer = await asyncio.open_connection(HOST, port)
    sent, ends = 0, time.monotonic() + seconds
    try:
        writer.write(HEAD)
        while time.monotonic() < ends:
            ended = await until_closed(reader, 1.0)
            if ended != "open":
                return ended, sent
            writer.write(b"x")
            await writer.drain()
            sent += 1
        return "open", sent
    except ConnectionError:
        return "reset", sent
    finally:
        writer.close()


async def attack(pid: int, sockets: int,
                 one: Callable[[], Awaitable[tuple[str, int]]]) -> tuple[float, list]:
    """Run `one` on `sockets` sockets at once; the highest RSS meanwhile, and the ends."""
    stop = asyncio.Event()
    watching = asyncio.create_task(highest_rss(pid, stop))
    ends = await asyncio.gather(*(one() for _ in range(sockets)), return_exceptions=True)
    stop.set()
    return await watching, ends


def describe(name: str, before: float, highest: float, ends: list) -> None:
    outcomes = Counter(e[0] if isinstance(e, tuple) else type(e).__name__ for e in ends)
    taken = sorted(e[1] for e in ends if isinstance(e, tuple))
    median = taken[len(taken) // 2] if taken else 0
    print(f"{name}: RSS highest {highest:.0f} MB ({highest - before:+.0f} MB); sockets "
          f"ended: {dict(outcomes)}; bytes written per socket, median {median:,}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--slow", type=float, default=25.0,
                        help="seconds each slowloris socket keeps sending")
    args = parser.parse_args()
    world = World(pool_size=10)
    started = time.monotonic()
    try:
        world.up()
        base, pid = world.serve("muster", [str(BIN / "muster"), "serve"], "/ready")
        port = int(base.rsplit(":", 1)[1])
        for _ in range(50):
            httpx.get(f"{base}/health", trust_env=False).raise_for_status()
        before = rss_mb(pid)
        print(f"muster serve (pid {pid}): RSS before {before:.0f} MB")
        highest, ends = asyncio.run(attack(pid, args.sockets, lambda: huge_head(port, 15)))
        describe(f"{args.sockets} unfinished 1 MB heads", before, highest, ends)
        highest, ends = asyncio.run(attack(pid, args.sockets,
                                           lambda: slowloris(port, args.slow)))
        describe(f"{args.sockets} slowloris heads, {args.slow:g} s", before, highest, ends)
        time.sleep(2)
        served = httpx.get(f"{base}/health", trust_env=False).status_code
        after = rss_mb(pid)
        print(f"after: RSS {after:.0f} MB ({after - before:+.0f} MB); GET /health: {served}")
    finally:
        world.down_and_report(started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
