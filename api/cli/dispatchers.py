"""`muster serve --dispatchers N`: the API's dispatchers as processes of their own.

In the API's process a dispatcher shares its event loop: while it sends a district's
10,000 pushes, every request waits its turn (another school's lockdown 160-750 ms). As
`muster worker` processes beside it, the API answers in tens of milliseconds, and two of
them hand the pushes off faster than the API's own on two cores (bench/fanout.py).
This starts them, starts one again if it dies (after a second, so that a worker that
cannot start does not spin), and stops them when the server stops. They are started in
a session of their own, so a ^C at the terminal reaches the server alone, which stops
them itself; each also stops by itself if the server dies without stopping it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping

from api.settings import Settings

log = logging.getLogger("muster.notifications")

RESTART_AFTER_S = 1.0
STOP_WITHIN_S = 10.0
_MUSTER = [sys.executable, "-c", "from api.cli.main import main; main()"]


@contextlib.contextmanager
def dispatcher_processes(count: int, environ: Mapping[str, str]) -> Iterator[None]:
    """`count` `muster worker` processes with `environ`, kept running for the block."""
    stopping = threading.Event()
    workers = [_Worker(n, environ, stopping) for n in range(1, count + 1)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        stopping.set()
        for worker in workers:
            worker.stop()


class _Worker:
    """One dispatcher process, and the thread that starts it again if it exits."""

    def __init__(self, number: int, environ: Mapping[str, str],
                 stopping: threading.Event) -> None:
        self._number, self._environ, self._stopping = number, dict(environ), stopping
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._keep_running, daemon=True,
                                        name=f"dispatcher-{number}")

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            log.warning("dispatcher %d did not stop within %g s: killed", self._number,
                        STOP_WITHIN_S)
            process.kill()
            process.wait()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._process = subprocess.Popen(
                [*_MUSTER, "worker", "--stop-with", str(os.getpid())], env=self._environ,
                stdin=subprocess.DEVNULL, start_new_session=True)
        log.info("dispatcher %d started (pid %d)", self._number, self._process.pid)

    def _keep_running(self) -> None:
        while not self._stopping.is_set():
            assert self._process is not None
            code = self._process.wait()
            if self._stopping.wait(RESTART_AFTER_S):
                return
            log.error("dispatcher %d (pid %d) exited with %s: starting it again",
                      self._number, self._process.pid, code)
            self._spawn()


def environ_for_dispatchers(settings: Settings, url: str, count: int) -> dict[str, str]:
    """This process's environment for its `count` dispatchers: its own (`serving_environ`),
    and a share each of the SMS and call rates, which are the server's."""
    return {**os.environ, **serving_environ(settings, url),
            "MUSTER_SMS_RATE": repr(settings.sms_rate / max(count, 1)),
            "MUSTER_VOICE_RATE": repr(settings.voice_rate / max(count, 1))}


def serving_environ(settings: Settings, url: str) -> dict[str, str]:
    """What the processes this server starts (API workers, dispatchers) read from their
    environment to serve as it does: the database (the embedded server's, if any: this
    process holds it, and stops it once they have stopped) and the address (the links
    the alerts carry default to it), command-line flags included."""
    return {"MUSTER_DATABASE_URL": url, "MUSTER_HOST": settings.host,
            "MUSTER_PORT": str(settings.port)}
