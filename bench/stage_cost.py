"""CPU per message of the stage (spool → parse → record), and where it goes (issue 16).

The listener and the stage share two cores; at 1,000 msg/s the stage's CPU per
message decides whether it keeps up and how soon a suppression is visible. This
fills a spool with 4 KB DSNs (bench.ingest_batch's mix: 60 % hard, 30 % soft,
10 % delivered) as the listener writes them, then drains it with the real
``Stage`` on a fresh SQLite file or PostgreSQL database, and reports this
process's CPU per message (PostgreSQL's backends apart), with ``--profile`` a
cProfile summary of where it went.

    .venv/bin/python -m bench.stage_cost [--messages 8192] [--backends sqlite,postgres]
        [--profile] [--publish]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.common import print_table, self_cpu_seconds, temp_database
from bench.ingest_batch import message
from returnpath import logs
from returnpath.inbound.spool import Spooled, SpoolWriter
from returnpath.stage import Stage, spool_drained
from returnpath.store.db import Store
from returnpath.store.tenants import ensure_tenant


async def fill(directory: Path, tenant_id: int, run: str, n: int) -> None:
    writer = SpoolWriter(directory)
    writer.open()
    try:
        await asyncio.gather(
            *(
                writer.append(
                    Spooled(
                        uid=uuid.uuid4().hex,
                        tenant_id=tenant_id,
                        tenant_name="default",
                        peer="127.0.0.1",
                        mail_from="",
                        rcpt_tos=("bounce@bounces.example.com",),
                        received_at=datetime.now(UTC),
                        raw=message(run, i),
                    )
                )
                for i in range(n)
            )
        )
    finally:
        await writer.close()


async def measure(
    kind: str, n: int, publish: bool, profile: bool, serial: bool
) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="rp-stage-"))
    try:
        async with temp_database(kind) as db:
            store = Store(db.url)
            try:
                await store.create_schema()
                tenant = await ensure_tenant(store, "default", ["bounces.example.com"])
                stage = Stage(store, root, publish=publish)
                await fill(root / "w0", tenant.id, "warm", 256)
                while await stage.run_once():
                    pass
                await fill(root / "w0", tenant.id, "timed", n)
                profiler = cProfile.Profile() if profile else None
                cpu0, wall0 = self_cpu_seconds(), time.perf_counter()
                if profiler:
                    profiler.enable()
                while await stage.run_once(read_ahead=not serial):
                    pass
                stage.discard_read_ahead()
                if profiler:
                    profiler.disable()
                cpu, wall = self_cpu_seconds() - cpu0, time.perf_counter() - wall0
                assert spool_drained(root)
                if profiler:
                    stats = pstats.Stats(profiler)
                    stats.sort_stats("cumulative").print_stats(40)
                    stats.sort_stats("tottime").print_stats(30)
                return {
                    "backend": kind,
                    "messages": n,
                    "publish": publish,
                    "read_ahead": not serial,
                    "cpu_ms_per_msg": round(1000 * cpu / n, 3),
                    "wall_ms_per_msg": round(1000 * wall / n, 3),
                    "msg_per_s_wall": round(n / wall),
                }
            finally:
                await store.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=8192)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--publish", action="store_true", help="write outbox rows too")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--serial", action="store_true", help="no read-ahead (as before)")
    parser.add_argument("--log-format", default="json", help="as RETURNPATH_LOG_FORMAT")
    args = parser.parse_args()
    # as serve logs (one JSON line per message recorded); stderr goes where you send it
    logs.configure(args.log_format, "info")
    rows = [
        await measure(kind, args.messages, args.publish, args.profile, args.serial)
        for kind in args.backends.split(",")
    ]
    print_table(rows, [(k, k) for k in rows[0]])


if __name__ == "__main__":
    asyncio.run(main())
