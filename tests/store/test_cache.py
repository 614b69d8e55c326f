"""store.cache: one reload at a time, the old value while it runs, nothing stale kept after forget."""

from __future__ import annotations

import asyncio

import pytest

from returnpath.store.cache import TtlCache


class Source:
    """A value behind a gate: each load waits until the test opens it."""

    def __init__(self) -> None:
        self.value = "v1"
        self.loads = 0
        self.gate = asyncio.Event()
        self.fail = False

    async def load(self) -> str:
        self.loads += 1
        await self.gate.wait()
        if self.fail:
            raise ConnectionError("database down")
        return self.value


async def test_a_thousand_concurrent_misses_make_one_load() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=60)
    src = Source()
    waiting = [asyncio.create_task(cache.get("k", src.load)) for _ in range(1000)]
    await asyncio.sleep(0)
    src.gate.set()
    assert set(await asyncio.gather(*waiting)) == {"v1"}
    assert src.loads == 1
    assert await cache.get("k", src.load) == "v1" and src.loads == 1  # fresh: no load


async def test_an_expired_value_answers_while_one_reload_runs() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=0)  # always expired
    src = Source()
    src.gate.set()
    assert await cache.get("k", src.load) == "v1"
    src.gate.clear()
    src.value = "v2"
    # Expired: the old value answers at once, and only one reload starts.
    assert [await cache.get("k", src.load) for _ in range(100)] == ["v1"] * 100
    await asyncio.sleep(0)  # let the reload task start
    assert src.loads == 2
    src.gate.set()
    await asyncio.sleep(0.01)
    assert await cache.get("k", src.load) == "v2"


async def test_forget_waits_for_a_fresh_value_and_drops_an_older_reload() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=0)
    src = Source()
    src.gate.set()
    await cache.get("k", src.load)
    src.gate.clear()
    await cache.get("k", src.load)  # starts a reload that will read the old value
    cache.forget("k")  # a change made in this process
    src.value = "changed"
    fresh = asyncio.create_task(cache.get("k", src.load))
    await asyncio.sleep(0)
    assert not fresh.done()  # no stale answer after forget
    src.gate.set()
    assert await fresh == "changed"
    assert await cache.get("k", src.load) == "changed"


async def test_a_failed_reload_keeps_the_old_value_and_is_retried() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=0)
    src = Source()
    src.gate.set()
    await cache.get("k", src.load)
    src.fail = True
    assert await cache.get("k", src.load) == "v1"  # the reload fails in the background
    await asyncio.sleep(0.01)
    src.fail = False
    src.value = "v2"
    await cache.get("k", src.load)  # starts the retry
    await asyncio.sleep(0.01)
    assert await cache.get("k", src.load) == "v2"
    # With nothing to fall back on, the caller sees the error.
    src.fail = True
    with pytest.raises(ConnectionError):
        await cache.get("other", src.load)
