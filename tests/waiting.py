"""Waiting in tests: until a condition holds, never for a fixed time.

A busy machine (the suite beside other work) makes everything slower and nothing
different, so a test waits for what it expects to have happened, polling, within a
bound generous enough that only a failure ever reaches it. A fixed sleep is either
too short on a busy machine or wasted on an idle one; an assertion on elapsed time
fails for the machine's sake, not the code's.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

WAIT = 60.0  # seconds: the bound of every wait in the suite, reached only by a failure


def _give_up(condition: Callable[..., object], timeout: float) -> AssertionError:
    name = getattr(condition, "__qualname__", repr(condition))
    return AssertionError(f"still not so after {timeout} s: {name}")


async def eventually(condition: Callable[[], T | Awaitable[T]], *, timeout: float = WAIT,
                     interval: float = 0.02) -> T:
    """Poll `condition` (a plain or async function) until it returns something truthy;
    return that. An exception it raises (a failed assertion) ends the wait at once."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise _give_up(condition, timeout)
        await asyncio.sleep(interval)


def eventually_blocking(condition: Callable[[], T], *, timeout: float = WAIT,
                        interval: float = 0.05) -> T:
    """`eventually` for code without an event loop (threads, blocking HTTP clients)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise _give_up(condition, timeout)
        time.sleep(interval)
    return value
