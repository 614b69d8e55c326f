"""CPU cost of the outbox relay per event, live: a steady stream of commits at a fixed rate.

    .venv/bin/python -m bench.relay_cost [--db sqlite|postgres|both] [--rate 500]
        [--duration 10] [--relay-from OTHER/relay.py]

For each database: a fresh store (temp SQLite file, or a new PostgreSQL database
dropped afterwards). One process commits one outbox row per transaction at
``--rate`` rows/s for ``--duration`` s (open loop: on schedule, however late) and
calls ``wake()`` after each commit, as the SMTP path does, while the relay runs in
the same event loop and publishes to the real RabbitMQ (a private exchange with a
queue bound to ``#``, so that every publish is routed; both deleted afterwards).
The run ends when every row is marked sent.

Each database is measured three ways: ``commits`` (no relay; the baseline),
``relay`` (this tree's relay) and, with ``--relay-from``, ``other`` (the
``OutboxRelay`` of another version of relay.py, e.g. ``git show
main:src/returnpath/bus/relay.py > /tmp/relay_main.py``). Reported: CPU seconds of
this process (``time.process_time``: every thread, the SQLite driver's included)
and, on PostgreSQL, of the bench database's backends (``/proc/<pid>/stat``); the
relay's cost per event is the difference from the baseline divided by the events,
pooled over the ``--repeat`` rounds (each round's own figure in brackets).
Other work on the machine adds noise: compare runs of one invocation. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import sqlalchemy as sa

from bench.common import AMQP_URL, PG_ADMIN_DSN
from returnpath.bus.relay import OutboxRelay
from returnpath.store.db import Store
from returnpath.store.models import Outbox, utcnow

BODY = '{"version": 1, "kind": "hard_bounce", "reason": "userunknown"}' + " " * 400


@dataclass
class Result:
    db: str
    mode: str
    events: int
    committed: float
    wall: float
    cpu: float
    backend_cpu: float
    batches: int | None


def _load_relay(path: str | None) -> Any:
    if path is None:
        return OutboxRelay
    spec = importlib.util.spec_from_file_location("relay_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.OutboxRelay


@contextlib.asynccontextmanager
async def _database(kind: str) -> AsyncIterator[tuple[str, str | None]]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", None
        return
    name = f"rp_relaybench_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}", name
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _backend_cpu(dbname: str | None) -> float:
    """CPU seconds so far of the PostgreSQL backends serving ``dbname``."""
    if dbname is None:
        return 0.0
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        pids = [
            r[0]
            for r in await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1", dbname
            )
        ]
    finally:
        await admin.close()
    return await asyncio.to_thread(_proc_cpu, pids)


def _proc_cpu(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def _pending(store: Store) -> int:
    async with store.read() as session:
        query = sa.select(sa.func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None))  # type: ignore[union-attr]
        return int((await session.execute(query)).scalar_one())


async def _commit_one(store: Store) -> None:
    """One outbox row in a transaction of its own, as the SMTP path commits events."""
    async with store.write_core() as conn:
        await conn.execute(
            sa.insert(Outbox),
            {
                "event_uid": secrets.token_hex(16),
                "routing_key": "hard_bounce.userunknown",
                "body": BODY,
                "created_at": utcnow(),
            },
        )


async def run_one(kind: str, mode: str, relay_cls: Any, rate: int, duration: float) -> Result:
    exchange_name = f"relay-bench-{secrets.token_hex(4)}"
    async with _database(kind) as (url, dbname):
        store = Store(url)
        await store.create_schema()
        broker = await aio_pika.connect(AMQP_URL)
        channel = await broker.channel()
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="#")
        relay = relay_cls(store, AMQP_URL, exchange_name) if mode != "commits" else None
        task = asyncio.create_task(relay.run()) if relay is not None else None
        # Warm up (connections open, statements compiled), then measure.
        for _ in range(20):
            await _commit_one(store)
        while relay is not None and await _pending(store):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        backend0 = await _backend_cpu(dbname)
        cpu0, wall0 = time.process_time(), time.monotonic()
        events = int(rate * duration)
        for i in range(events):
            delay = wall0 + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await _commit_one(store)
            if relay is not None:
                relay.wake()
        committed = time.monotonic() - wall0
        if relay is not None:
            while await _pending(store):
                await asyncio.sleep(0.02)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        backend = await _backend_cpu(dbname) - backend0
        batches = getattr(relay, "batches", None)
        if relay is not None and task is not None:
            await relay.stop()
            await asyncio.wait_for(task, 30)
        await exchange.delete(if_unused=False)
        await broker.close()
        await store.close()
    return Result(kind, mode, events, committed, wall, cpu, backend, batches)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--relay-from", default=None, help="another relay.py to compare with")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (modes interleaved)")
    args = parser.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    modes: list[tuple[str, Any]] = [("commits", None), ("relay", OutboxRelay)]
    if args.relay_from:
        modes.append(("other", _load_relay(args.relay_from)))
    results = []
    for kind, _round in [(k, n) for k in dbs for n in range(args.repeat)]:
        for mode, cls in modes:
            result = await run_one(kind, mode, cls, args.rate, args.duration)
            results.append(result)
            print(
                f"{kind:8} {mode:8} events={result.events} committed in {result.committed:.1f}s "
                f"all sent {result.wall:.1f}s "
                f"cpu={result.cpu:.2f}s backends={result.backend_cpu:.2f}s batches={result.batches}",
                flush=True,
            )
    print()
    print(
        f"{'db':8} {'relay':8} {'ms CPU/event (process)':>24} {'(+ PG backends)':>16} {'events/batch':>13}"
    )
    for kind in dbs:
        bases = [r for r in results if r.db == kind and r.mode == "commits"]
        for mode, _cls in modes[1:]:
            runs = [r for r in results if r.db == kind and r.mode == mode]
            own = _figures([r.cpu for r in runs], [b.cpu for b in bases], runs)
            total = _figures(
                [r.cpu + r.backend_cpu for r in runs], [b.cpu + b.backend_cpu for b in bases], runs
            )
            per_batch = [f"{r.events / r.batches:.0f}" for r in runs if r.batches]
            print(f"{kind:8} {mode:8} {own:>24} {total:>16} {','.join(per_batch) or 'n/a':>13}")


def _figures(cpu: list[float], base: list[float], runs: list[Result]) -> str:
    """ms per event pooled over the rounds (all the relay's CPU minus all the baseline's,
    over all events: one noisy baseline weighs less than in a per-round median), and
    the per-round range."""
    events = sum(r.events for r in runs)
    pooled = (sum(cpu) - sum(base)) / events * 1000
    rounds = sorted((c - b) / r.events * 1000 for c, b, r in zip(cpu, base, runs, strict=True))
    return (
        f"{pooled:.3f} ({rounds[0]:.2f}-{rounds[-1]:.2f})" if len(rounds) > 1 else f"{pooled:.3f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
