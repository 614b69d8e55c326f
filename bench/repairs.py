"""Repairs at scale (issue 14): reverting 100,000 suppressions, purging raw messages.

Fills a fresh SQLite file or PostgreSQL database with suppressions made by bounces
(each with its event, naming a remote MTA) and with old raw messages, then times
``store.revert`` (the dry run, then applying) and ``store.retention.purge_raw``:
wall time, rate, and this process's peak RSS.

    .venv/bin/python -m bench.repairs [--suppressions 100000] [--raw 20000]
        [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col

from bench.common import machine, print_table, temp_database, utc_stamp, write_json
from returnpath.store import retention, revert
from returnpath.store.db import Store
from returnpath.store.models import Event, Message, Suppression, new_uid, utcnow
from returnpath.store.tenants import ensure_tenant

RAW = b"X" * 4096
CHUNK = 2000


async def fill(store: Store, tenant_id: int, suppressions: int, raw: int) -> None:
    """``max(suppressions, raw)`` old messages of 4 KB; the first ``suppressions`` are
    hard bounces with their event and suppression, from two of outlook.com's hosts."""
    now = utcnow()
    old = now - timedelta(days=200)
    made = 0
    total = max(suppressions, raw)
    while made < total:
        n = min(CHUNK, total - made)
        messages = [
            {
                "uid": new_uid(),
                "tenant_id": tenant_id,
                "dedup_key": f"bench-{made + i}",
                "received_at": old,
                "rcpt_tos": "b@bounces.example.com",
                "size": len(RAW),
                "family": "rfc3464",
                "raw": RAW,
            }
            for i in range(n)
        ]
        async with store.write_core() as conn:
            ids = (
                (await conn.execute(sa.insert(Message).returning(col(Message.id)), messages))
                .scalars()
                .all()
            )
            with_suppression = [
                (message_id, made + i)
                for i, message_id in enumerate(ids)
                if made + i < suppressions
            ]
            if with_suppression:
                events = (
                    (
                        await conn.execute(
                            sa.insert(Event).returning(col(Event.id)),
                            [
                                {
                                    "uid": new_uid(),
                                    "tenant_id": tenant_id,
                                    "message_id": message_id,
                                    "created_at": now,
                                    "recipient": f"user{k}@example.com",
                                    "kind": "hard_bounce",
                                    "reason": "userunknown",
                                    "family": "rfc3464",
                                    "remote_mta": "mx1.eur.outlook.com"
                                    if k % 2
                                    else "mx2.nam.outlook.com",
                                }
                                for message_id, k in with_suppression
                            ],
                        )
                    )
                    .scalars()
                    .all()
                )
                await conn.execute(
                    sa.insert(Suppression),
                    [
                        {
                            "tenant_id": tenant_id,
                            "address": f"user{k}@example.com",
                            "stream": "",
                            "kind": "hard_bounce",
                            "reason": "userunknown",
                            "source": "bounce",
                            "event_id": event_id,
                            "created_at": now,
                        }
                        for (_, k), event_id in zip(with_suppression, events, strict=True)
                    ],
                )
        made += n


async def run(kind: str, suppressions: int, raw: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    async with temp_database(kind) as db:
        store = Store(db.url)
        try:
            await store.create_schema()
            tenant = await ensure_tenant(store, "default", ["bounces.example.com"])
            await fill(store, tenant.id, suppressions, raw)
            flt = revert.RevertFilter(kind="hard_bounce", remote_mta="outlook.com")
            for label, dry in (("revert, dry run", True), ("revert, apply", False)):
                started = time.perf_counter()
                result = await revert.revert(
                    store, tenant.id, flt, note="bench", actor="bench", dry_run=dry
                )
                seconds = time.perf_counter() - started
                rows.append(
                    {
                        "backend": kind,
                        "what": label,
                        "rows": result.count,
                        "seconds": seconds,
                        "per_s": result.count / seconds,
                    }
                )
            started = time.perf_counter()
            purged = await retention.purge_raw(store, retention.cutoff(90))
            seconds = time.perf_counter() - started
            rows.append(
                {
                    "backend": kind,
                    "what": "purge raw (4 KB)",
                    "rows": purged,
                    "seconds": seconds,
                    "per_s": purged / seconds,
                }
            )
        finally:
            await store.close()
    for row in rows:
        row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--suppressions", type=int, default=100_000)
    ap.add_argument("--raw", type=int, default=20_000)
    ap.add_argument("--backends", default="sqlite,postgres")
    args = ap.parse_args()
    rows: list[dict[str, object]] = []
    for kind in args.backends.split(","):
        rows += asyncio.run(run(kind, args.suppressions, args.raw))
    print(f"{utc_stamp()}; {machine()}")
    print_table(
        rows,
        [
            ("backend", "backend"),
            ("what", "what"),
            ("rows", "rows"),
            ("seconds", "seconds"),
            ("per_s", "rows/s"),
            ("peak_rss_mib", "peak RSS MiB"),
        ],
    )
    write_json("repairs", {"machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
