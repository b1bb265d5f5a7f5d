"""Helpers to run `muster` as real processes, as an operator would, or an app served
for real in the test's own process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import uvicorn
from litestar import Litestar

from tests.waiting import eventually, eventually_blocking

MUSTER = str(Path(sys.executable).parent / "muster")
ROOT = Path(__file__).resolve().parents[2]


def env(**extra: str) -> dict[str, str]:
    """This environment without MUSTER_* variables, plus `extra`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MUSTER_")} | extra


def run(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([MUSTER, *args], env=env, capture_output=True, text=True, timeout=60,
                          check=check, cwd=ROOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(app: Litestar, port: int | None = None) -> AsyncIterator[str]:
    """`app` served by uvicorn on `port` (a free local one by default) in this process (so
    that its clock and log stay the test's): the base URL, once it accepts connections."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False))
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done())
        assert not task.done(), "the server stopped before it started"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


def postgres_serving(pgdata: Path) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "postgres" and str(pgdata) in " ".join(p.info["cmdline"] or [])]


async def outbox_settled(url: str, event_id: uuid.UUID) -> bool:
    """Whether every due message of the event has its outcome recorded (none queued or
    leased): nothing is left to send, so a message sent twice would show by now."""
    conn = await asyncpg.connect(url)
    try:
        return not await conn.fetchval(
            "select count(*) from notification_outbox where event_id = $1 "
            "and state in ('queued', 'sending') and not_before <= now()", event_id)
    finally:
        await conn.close()


def wait_ready(base: str, proc: subprocess.Popen) -> None:
    """Return once /ready answers 200; fail at once if the process exits first."""

    def ready() -> bool:
        assert proc.poll() is None, f"muster serve exited with {proc.returncode}"
        try:
            return httpx.get(f"{base}/ready", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    eventually_blocking(ready)


def serve(port: int, log: Path, *args: str, **variables: str) -> subprocess.Popen:
    """`muster serve --port PORT ARGS` with these MUSTER_* variables, logging to `log`."""
    with log.open("a") as out:
        return subprocess.Popen([MUSTER, "serve", "--port", str(port), *args],
                                env=env(**variables), cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)


def demo_contact_phones(school_name: str) -> set[str]:
    """The numbers of the demo school's contacts: a real event calls and texts each (their
    SMS is among the lockdown's)."""
    from db.demo import demo_schools

    return {c.phone for s in demo_schools() if s.name == school_name for c in s.contacts}
