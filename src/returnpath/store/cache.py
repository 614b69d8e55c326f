"""Short-lived caches of settings every request needs, refreshed by one task at a time.

Every check needs the caller's key and its tenant's policy. Both change
rarely and are re-read every couple of seconds, so that a change made by
another process (the CLI, another worker) is seen without a restart. At
1,000 checks/s an expiry must not send every request in flight to the
database at once: that stampede on the connection pool stalled the API for
up to half a second every two seconds (bench/api_latency.py, open loop).
So there is one reload per key at a time, and while it runs the previous
value keeps answering (for the few milliseconds of the reload). A change
made through this process calls ``forget``: the next request waits for a
fresh value, and a reload that started before the change is not kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._values: dict[K, tuple[float, V]] = {}
        self._loads: dict[K, asyncio.Task[V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        hit = self._values.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        task = self._loads.get(key)
        if task is None:
            task = asyncio.create_task(self._load(key, load))
            task.add_done_callback(_retrieve)
            self._loads[key] = task
        if hit is not None:
            return hit[1]
        # Shielded: a caller that goes away does not cancel the load others wait for.
        return await asyncio.shield(task)

    async def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        me = asyncio.current_task()
        try:
            value = await load()
            if self._loads.get(key) is me:  # not forgotten while loading
                self._values[key] = (time.monotonic(), value)
            return value
        finally:
            if self._loads.get(key) is me:
                del self._loads[key]

    def forget(self, key: K) -> None:
        self._values.pop(key, None)
        self._loads.pop(key, None)


def _retrieve(task: asyncio.Task[object]) -> None:
    """A failed background reload is seen by whoever awaited it; never logged as lost."""
    if not task.cancelled():
        task.exception()
