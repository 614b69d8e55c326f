"""CPU per message of ``store.ingest.record_many`` by group size, on SQLite and PostgreSQL.

What the spool stage will pay per group: messages are parsed beforehand, so only
``record_many`` is timed (this process's user+system CPU, and wall time). 4 KB RFC 3464
DSNs with distinct Message-IDs: 60 % hard bounces (each suppresses a new address),
30 % soft bounces (three per address, so the soft history is read and counted), 10 %
delivery reports; ``publish=True`` (outbox rows written). SQLite runs as the store sets
it (WAL, synchronous=FULL) on a temp file; PostgreSQL on a throwaway database of the
local server, whose own CPU (its backend process) is not in the figure: the wall time
column shows the round trips.

    .venv/bin/python -m bench.ingest_batch [--messages 2048] [--groups 1,16,64,256]
        [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.common import print_table, self_cpu_seconds, temp_database
from returnpath.parsers import parse
from returnpath.parsers.model import Report
from returnpath.store.db import Store
from returnpath.store.ingest import Received, record_many
from returnpath.store.tenants import TenantRef, ensure_tenant
from tests.messages import dsn

SIZE = 4096
PAD_LINE = b"This line pads the human-readable part to a typical DSN size.\r\n"


def message(run: str, i: int) -> bytes:
    """The i-th DSN of a run: a hard bounce, a soft bounce (pairs share an address) or a
    delivery report, padded to about 4 KB."""
    slot = i % 10
    if slot < 6:
        raw = dsn(f"hard-{run}-{i}@example.org", message_id=f"<{run}-{i}@mx.example.net>")
    elif slot < 9:
        raw = dsn(
            f"soft-{run}-{i // 10}@example.org",
            status="4.2.2",
            action="failed",
            diagnostic="452 4.2.2 <{r}>: Mailbox full",
            message_id=f"<{run}-{i}@mx.example.net>",
        )
    else:
        raw = dsn(
            f"ok-{run}-{i}@example.org",
            status="2.0.0",
            action="delivered",
            diagnostic="250 2.0.0 Ok",
            message_id=f"<{run}-{i}@mx.example.net>",
        )
    marker = b"I'm sorry"
    pad = PAD_LINE * max(0, (SIZE - len(raw)) // len(PAD_LINE))
    return raw.replace(marker, pad + marker, 1)


def prepared(tenant: TenantRef, run: str, n: int) -> list[tuple[Received, Report]]:
    items = []
    for i in range(n):
        raw = message(run, i)
        items.append(
            (
                Received(
                    tenant=tenant,
                    raw=raw,
                    peer="127.0.0.1",
                    mail_from="",
                    rcpt_tos=("bounce@bounces.example.com",),
                ),
                parse(raw),
            )
        )
    return items


async def measure(kind: str, groups: list[int], messages: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    async with temp_database(kind) as db:
        store = Store(db.url)
        try:
            await store.create_schema()
            tenant = await ensure_tenant(store, "default", ["bounces.example.com"])
            # Warm up: connections, statement caches, the tenant context.
            await record_many(store, prepared(tenant, "warm", 64), publish=True)
            for size in groups:
                n = messages if size > 1 else min(messages, 512)
                items = prepared(tenant, f"g{size}", n)
                batches = [items[i : i + size] for i in range(0, n, size)]
                cpu0, wall0 = self_cpu_seconds(), time.perf_counter()
                for batch in batches:
                    await record_many(store, batch, publish=True)
                cpu, wall = self_cpu_seconds() - cpu0, time.perf_counter() - wall0
                rows.append(
                    {
                        "backend": kind,
                        "group": size,
                        "messages": n,
                        "cpu_ms_per_msg": round(1000 * cpu / n, 3),
                        "wall_ms_per_msg": round(1000 * wall / n, 3),
                        "msg_per_s_wall": round(n / wall),
                    }
                )
                print_table(rows[-1:], [(k, k) for k in rows[-1]])
        finally:
            await store.close()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=2048)
    parser.add_argument("--groups", default="1,16,64,256")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    groups = [int(g) for g in args.groups.split(",")]
    rows: list[dict[str, object]] = []
    for kind in args.backends.split(","):
        rows += await measure(kind, groups, args.messages)
    print()
    print_table(rows, [(k, k) for k in rows[0]])


if __name__ == "__main__":
    asyncio.run(main())
