"""The push transport by itself: FCM sends handed over per second by one process, and
the CPU each costs, against bench/fcm_responder.py in a process of its own.

    .venv/bin/python bench/push_transport.py [--messages 10000] [--in-flight 300] \\
        [--latency-ms 50] [--loop uvloop|asyncio] [--error-rate 0.1]

Two targets, one after the other, each `--in-flight` workers sending `--messages`
one-device pushes (after as many unmeasured ones to open the pool's connections):

- bare: one aiohttp ClientSession with a pool of `--in-flight` keep-alive connections,
  posting prebuilt bodies with a fixed Authorization header: the floor of any sender
  on aiohttp;
- sender: `FcmSender.send` (notifications/fcm) with an OutboxMessage per push: its
  JSON, OAuth token, answer reading and retries on top of the same kind of pool.

Prints, for each, pushes/s (over the wall time of the measured sends), CPU ms per push
of this process (`time.process_time`) and of the responder (psutil), and the answers;
then the ratio sender/bare, and whether the responder saw each push exactly once.
`--loop` is the event loop of this process: uvloop, as under `muster serve` (uvicorn),
or asyncio's own, as under `muster worker`. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import msgspec
import psutil
from fcm_responder import service_account

from domain.delivery import OutboxMessage
from notifications.fcm import FcmSender
from notifications.fcm.message import send_bodies

HERE = Path(__file__).resolve().parent
PROJECT = "muster-bench"
DATA = {"event_id": str(uuid.uuid4()), "school_id": str(uuid.uuid4()), "action": "lockdown",
        "drill": "false", "kind": "alert"}


class Figures(msgspec.Struct):
    """One target's measured sends (and its unmeasured warm-up)."""

    name: str
    pushes: int
    wall_s: float
    cpu_s: float
    responder_cpu_s: float
    answers: Counter[str]
    warm_up: tuple[int, float, float]  # pushes, wall s, CPU s of this process

    def line(self) -> str:
        per = 1000 / self.pushes
        answers = ", ".join(f"{k} {v}" for k, v in sorted(self.answers.items()))
        pushes, wall_s, cpu_s = self.warm_up
        return (f"{self.name:<7} {self.pushes / self.wall_s:8.0f} pushes/s  {self.wall_s:6.2f} s"
                f"  CPU/push: this process {self.cpu_s * per:5.3f} ms,"
                f" responder {self.responder_cpu_s * per:5.3f} ms  ({answers})\n"
                f"{'':<8}warm-up, opening the pool: {pushes} pushes in {wall_s:.2f} s,"
                f" {cpu_s * 1000 / pushes:5.3f} ms CPU/push")


def push(n: int, prefix: str) -> OutboxMessage:
    return OutboxMessage(id=n, event_id=uuid.uuid4(), user_id=uuid.uuid4(), channel="push",
                         kind="alert", body="LOCKDOWN: Locks, lights, out of sight.",
                         critical=True, data=DATA, attempts=1, phone="+15555550100",
                         push_tokens=[f"{prefix}-{n}"])


async def drive(name: str, send: Callable[[int], Awaitable[str]], count: int,
                in_flight: int, responder: psutil.Process) -> Figures:
    """`in_flight` workers sending pushes 0..in_flight-1 (warming up), then the next
    `count` (measured)."""
    async def workers(numbers: range, answers: Counter[str]) -> None:
        todo = iter(numbers)

        async def worker() -> None:
            for n in todo:
                answers[await send(n)] += 1

        await asyncio.gather(*(worker() for _ in range(in_flight)))

    cpu, wall = time.process_time(), time.perf_counter()
    await workers(range(in_flight), Counter())
    warm_up = in_flight, time.perf_counter() - wall, time.process_time() - cpu
    answers: Counter[str] = Counter()
    theirs, cpu, wall = responder.cpu_times(), time.process_time(), time.perf_counter()
    await workers(range(in_flight, in_flight + count), answers)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = responder.cpu_times()
    return Figures(name, count, wall, cpu, after.user + after.system - theirs.user - theirs.system,
                   answers, warm_up)


async def bare(base_url: str, count: int, in_flight: int, responder: psutil.Process) -> Figures:
    url = f"{base_url}/v1/projects/{PROJECT}/messages:send"
    bodies = [send_bodies(push(n, "bare"), [f"bare-{n}"])[0] for n in range(count + in_flight)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as session:
        async with session.post(f"{base_url}/token", data=b"grant") as answer:
            token = (await answer.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        async def send(n: int) -> str:
            async with session.post(url, data=bodies[n], headers=headers) as answer:
                await answer.read()
                return str(answer.status)

        return await drive("bare", send, count, in_flight, responder)


async def sender(base_url: str, count: int, in_flight: int,
                 responder: psutil.Process) -> Figures:
    messages = [push(n, "sender") for n in range(count + in_flight)]
    fcm = FcmSender(service_account(base_url, PROJECT), connections=in_flight,
                    fcm_url=f"{base_url}/v1/projects/{{0}}/messages:send")

    async def send(n: int) -> str:
        result = await fcm.send(messages[n])
        return str(result.outcome if result.outcome == "sent" else result.error_code)

    try:
        return await drive("sender", send, count, in_flight, responder)
    finally:
        await fcm.aclose()


def stats(base_url: str) -> dict[str, int]:
    """The responder's counts: sends received and accepted, tokens accepted twice."""
    async def get() -> dict[str, int]:
        async with aiohttp.ClientSession() as session, session.get(
                f"{base_url}/stats?brief") as answer:
            figures = await answer.json()
        return {"received": figures["received"], "accepted": figures["answered"].get("200", 0),
                "accepted_twice": figures["accepted_twice"]}

    return asyncio.run(get())


def start_responder(latency_ms: float, error_rate: float = 0.0, unregistered_rate: float = 0.0
                    ) -> tuple[subprocess.Popen[str], str]:
    """fcm_responder.py in a process of its own; the process and its base URL."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / "fcm_responder.py"), "--port", "0", "--latency-ms",
         str(latency_ms), "--error-rate", str(error_rate), "--unregistered-rate",
         str(unregistered_rate)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()  # "listening on http://127.0.0.1:PORT"
    if not line.startswith("listening on "):
        process.kill()
        raise SystemExit(f"the responder did not start: {line!r}")
    return process, line.split()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument("--error-rate", type=float, default=0.0,
                        help="share of sends the responder answers 503 (the sender retries)")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop
        uvloop.install()
    process, base_url = start_responder(args.latency_ms, args.error_rate)
    try:
        responder = psutil.Process(process.pid)
        measured = [asyncio.run(target(base_url, args.messages, args.in_flight, responder))
                    for target in (bare, sender)]
        seen = stats(base_url)
    finally:
        process.terminate()
        process.communicate(timeout=10)
    print(f"{args.messages} pushes, {args.in_flight} in flight, FCM answering after "
          f"{args.latency_ms:g} ms; {args.loop} loop; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for figures in measured:
        print(figures.line())
    bare_figures, sender_figures = measured
    ratio = (sender_figures.pushes / sender_figures.wall_s) / (bare_figures.pushes
                                                              / bare_figures.wall_s)
    print(f"sender/bare: {ratio:.2f}x the rate, {sender_figures.cpu_s / bare_figures.cpu_s:.2f}x"
          " the CPU per push")
    print(f"responder: {seen['received']} sends received, {seen['accepted']} accepted of "
          f"{2 * (args.messages + args.in_flight)} pushes, "
          f"{seen['accepted_twice']} tokens accepted twice")
    return 0


if __name__ == "__main__":
    sys.exit(main())
