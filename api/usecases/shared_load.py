"""One load for all the requests that miss a process's cache together."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


async def shared_load(loading: dict[K, asyncio.Future[T]], key: K,
                      load: Callable[[], Awaitable[T]]) -> T:
    """`load()`'s result, loaded once for everyone who asks for `key` while it loads
    (`loading` holds the loads under way). A storm of requests, or of streams, that miss
    together would otherwise queue one query each on the pool."""
    future = loading.get(key)
    if future is None:
        future = asyncio.ensure_future(load())
        loading[key] = future
        future.add_done_callback(lambda _: loading.pop(key, None))
    return await asyncio.shield(future)  # one request going away leaves the others theirs
