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
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil
import uvicorn
from litestar import Litestar

MUSTER = str(Path(sys.executable).parent / "muster")
ROOT = Path(__file__).resolve().parent.parent


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
async def serving(app: Litestar) -> AsyncIterator[str]:
    """`app` served by uvicorn on a free local port in this process (so that its clock and
    log stay the test's): the base URL, once it accepts connections."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the server stopped before it started"
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


def postgres_serving(pgdata: Path) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "postgres" and str(pgdata) in " ".join(p.info["cmdline"] or [])]


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 30) -> float:
    """Seconds until /ready answered 200."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        assert proc.poll() is None, f"muster serve exited with {proc.returncode}"
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return time.monotonic() - start
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("muster serve did not become ready")


def serve(port: int, log: Path, **variables: str) -> subprocess.Popen:
    """`muster serve --port PORT` with these MUSTER_* variables, logging to `log`."""
    with log.open("a") as out:
        return subprocess.Popen([MUSTER, "serve", "--port", str(port)], env=env(**variables),
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
