"""Suppression API latency of `returnpath serve` over HTTP, on a large suppression list.

    .venv/bin/python -m bench.api_latency [--db sqlite|postgres|both] [--rows 1000000]
        [--rate 1000] [--duration 10] [--clients 32] [--bulk-size 10000] [--bulk-calls 100]

For each database: a fresh store (temp SQLite file, or a new PostgreSQL
database dropped afterwards); `returnpath serve` is started once to create
the schema and the tenant 'default', stopped, then ``--rows`` suppressions
are bulk-inserted straight into table ``suppression`` (SQLite: SQLAlchemy
Core executemany, 10k rows per transaction; PostgreSQL: asyncpg
copy_records_to_table, 10k rows per COPY), followed by ANALYZE (PostgreSQL: VACUUM ANALYZE, a table at rest); the
service is started again and measured:

- ``sequential``: one client, one request at a time (service time, no queueing);
- ``open-loop``: ``GET /v1/suppressions/{address}`` at ``--rate`` requests/s for
  ``--duration`` s, requests sent on schedule whatever the answers (up to
  ``--pool`` keep-alive connections); latency is counted from the scheduled
  send time, so queueing in front of a slow server is included;
- ``closed-loop``: ``--clients`` keep-alive clients, each sending its next
  request when the previous one is answered, for ``--duration`` s: max rps;
- ``bulk``: ``POST /v1/suppressions/check`` with ``--bulk-size`` addresses,
  ``--bulk-calls`` calls one after another.

Addresses asked for are half seeded ones (some of them expired or in a
stream: the expected answer is known for each) and half never seeded. The
client is a minimal asyncio HTTP/1.1 client (bench/common.py) because it
shares the two cores with the server; client and server CPU seconds are
reported for each phase. Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CORES_NOTE,
    CpuWatch,
    Database,
    HttpConn,
    ServiceProc,
    Source,
    machine,
    percentile,
    print_table,
    source_tree,
    temp_database,
    utc_stamp,
    write_json,
)

CHUNK = 10_000
COLUMNS = [
    "tenant_id",
    "address",
    "stream",
    "kind",
    "reason",
    "source",
    "event_id",
    "verified",
    "created_at",
    "expires_at",
    "note",
]


# ---------------------------------------------------------------- the seeded population


def address_of(i: int) -> str:
    return f"user{i}.x{i * 2654435761 % 1_000_003:x}@dom{i % 1000}.example.com"


def miss_address(i: int) -> str:
    return f"nobody{i}@nowhere{i % 100}.example.net"


def row_shape(i: int) -> tuple[str, str, str, bool]:
    """(stream, kind, reason, expired) of seeded row i; deterministic."""
    r = i % 20
    if r < 14:
        return "", "hard_bounce", "mailbox_not_found", False
    if r < 16:
        return "", "complaint", "abuse", False
    if r == 16:
        return "marketing", "unsubscribe", "list_unsubscribe", False
    if r == 17:
        return "", "soft_bounce", "mailbox_full", False  # expires in the future
    return "", "soft_bounce", "mailbox_full", True  # 18, 19: expired, not active


def seed_rows(tenant_id: int, start: int, stop: int, now: datetime) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(start, stop):
        stream, kind, reason, expired = row_shape(i)
        created = now - timedelta(days=i % 700, seconds=i % 86400)
        expires = None
        if kind == "soft_bounce":
            expires = now - timedelta(days=1 + i % 30) if expired else now + timedelta(days=7)
        rows.append(
            (
                tenant_id,
                address_of(i),
                stream,
                kind,
                reason,
                "import",
                None,
                False,
                created,
                expires,
                None,
            )
        )
    return rows


async def tenant_id_of(db: Database) -> int:
    if db.kind == "sqlite":
        import sqlite3

        assert db.path is not None
        con = sqlite3.connect(db.path)
        try:
            return int(con.execute("select id from tenant where name = 'default'").fetchone()[0])
        finally:
            con.close()
    import asyncpg

    con = await asyncpg.connect(db.pg_dsn, timeout=10)
    try:
        return int(await con.fetchval("select id from tenant where name = 'default'"))
    finally:
        await con.close()


def seed_sqlite(db: Database, tenant_id: int, n: int) -> dict[str, float]:
    import sqlalchemy as sa

    assert db.path is not None
    engine = sa.create_engine(f"sqlite:///{db.path}")
    table = sa.Table("suppression", sa.MetaData(), autoload_with=engine)
    now = datetime.now(UTC).replace(tzinfo=None)  # the service stores naive UTC in SQLite
    t0 = time.perf_counter()
    with engine.connect() as conn:
        for start in range(0, n, CHUNK):
            rows = seed_rows(tenant_id, start, min(n, start + CHUNK), now)
            conn.execute(table.insert(), [dict(zip(COLUMNS, r, strict=True)) for r in rows])
            conn.commit()
    insert_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    analyze_s = time.perf_counter() - t1
    engine.dispose()
    return {"insert_s": insert_s, "analyze_s": analyze_s}


async def seed_postgres(db: Database, tenant_id: int, n: int) -> dict[str, float]:
    import asyncpg

    now = datetime.now(UTC)
    con = await asyncpg.connect(db.pg_dsn, timeout=10)
    try:
        t0 = time.perf_counter()
        for start in range(0, n, CHUNK):
            rows = seed_rows(tenant_id, start, min(n, start + CHUNK), now)
            await con.copy_records_to_table("suppression", records=rows, columns=COLUMNS)
        insert_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        # A table at rest, as autovacuum leaves it: visibility map and hint bits set, so
        # neither the first reads nor an autovacuum woken by a million inserts run
        # inside a measurement.
        await con.execute("VACUUM ANALYZE suppression")
        analyze_s = time.perf_counter() - t1
    finally:
        await con.close()
    return {"insert_s": insert_s, "analyze_s": analyze_s}


@dataclass
class Picker:
    """Addresses to ask for, each with the answer the service should give."""

    rows: int
    hit_ratio: float
    rng: random.Random = field(default_factory=lambda: random.Random(42))
    misses: int = 0

    def one(self) -> tuple[str, bool]:
        if self.rng.random() < self.hit_ratio:
            i = self.rng.randrange(self.rows)
            return address_of(i), not row_shape(i)[3]
        self.misses += 1
        return miss_address(self.misses), False


# ---------------------------------------------------------------- load phases


@dataclass
class Sample:
    lat_ms: list[float] = field(default_factory=list)  # from scheduled/first send to answer
    service_ms: list[float] = field(default_factory=list)  # from actual send to answer
    statuses: dict[str, int] = field(default_factory=dict)
    wrong: int = 0  # 200 for an inactive address, 404 for an active one
    errors: dict[str, int] = field(default_factory=dict)
    dropped: int = 0  # open loop: not sent, too many in flight
    elapsed_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    def status(self, code: int, expect_hit: bool | None) -> None:
        self.statuses[str(code)] = self.statuses.get(str(code), 0) + 1
        if expect_hit is not None and code in (200, 404) and (code == 200) != expect_hit:
            self.wrong += 1

    def error(self, exc: BaseException) -> None:
        key = f"{type(exc).__name__}: {str(exc)[:100]}"
        self.errors[key] = self.errors.get(key, 0) + 1

    def summary(self) -> dict[str, Any]:
        done = len(self.lat_ms)
        return {
            "completed": done,
            "elapsed_s": round(self.elapsed_s, 3),
            "rps": round(done / self.elapsed_s, 1) if self.elapsed_s else None,
            "p50_ms": round(percentile(self.lat_ms, 50), 2),
            "p90_ms": round(percentile(self.lat_ms, 90), 2),
            "p99_ms": round(percentile(self.lat_ms, 99), 2),
            "max_ms": round(max(self.lat_ms, default=float("nan")), 2),
            "service_p50_ms": round(percentile(self.service_ms, 50), 2),
            "service_p99_ms": round(percentile(self.service_ms, 99), 2),
            "statuses": self.statuses,
            "wrong_answers": self.wrong,
            "errors": self.errors,
            "dropped_client_side": self.dropped,
            **self.cpu,
            "server_cpu_ms_per_req": round(1000 * self.cpu["server_cpu_s"] / done, 2)
            if done and self.cpu
            else None,
        }


def get_path(address: str) -> str:
    return "/v1/suppressions/" + quote(address, safe="@")


@contextlib.contextmanager
def measure_cpu(svc: ServiceProc, sample: Sample):  # type: ignore[no-untyped-def]
    watch = CpuWatch(svc.pid)
    t0 = time.perf_counter()
    yield
    sample.elapsed_s = sample.elapsed_s or time.perf_counter() - t0
    sample.cpu = watch.result(sample.elapsed_s)


async def sequential(svc: ServiceProc, picker: Picker, n: int) -> Sample:
    sample = Sample()
    conn = HttpConn(svc.api_port, svc.api_key)
    with measure_cpu(svc, sample):
        for _ in range(n):
            addr, hit = picker.one()
            t = time.perf_counter()
            try:
                code, _ = await conn.request("GET", get_path(addr))
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                sample.error(exc)
                continue
            ms = (time.perf_counter() - t) * 1000
            sample.lat_ms.append(ms)
            sample.service_ms.append(ms)
            sample.status(code, hit)
    await conn.close()
    return sample


async def open_loop(
    svc: ServiceProc, picker: Picker, rate: float, duration: float, pool: int, max_inflight: int
) -> Sample:
    sample = Sample()
    conns: asyncio.Queue[HttpConn] = asyncio.Queue()
    for _ in range(pool):
        conns.put_nowait(HttpConn(svc.api_port, svc.api_key))
    inflight = 0
    last_done = 0.0

    async def one(due: float, addr: str, hit: bool) -> None:
        nonlocal inflight, last_done
        try:
            conn = await conns.get()
            try:
                t = time.perf_counter()
                code, _ = await conn.request("GET", get_path(addr), limit_s=30)
                end = time.perf_counter()
            finally:
                conns.put_nowait(conn)
            sample.lat_ms.append((end - due) * 1000)
            sample.service_ms.append((end - t) * 1000)
            sample.status(code, hit)
            last_done = max(last_done, end)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            sample.error(exc)
        finally:
            inflight -= 1

    total = int(rate * duration)
    tasks: list[asyncio.Task[None]] = []
    with measure_cpu(svc, sample):
        t0 = time.perf_counter()
        i = 0
        while i < total:
            now = time.perf_counter()
            while i < total and t0 + i / rate <= now:
                addr, hit = picker.one()
                if inflight >= max_inflight:
                    sample.dropped += 1
                else:
                    inflight += 1
                    tasks.append(asyncio.create_task(one(t0 + i / rate, addr, hit)))
                i += 1
            if i < total:
                await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), duration + 30)
        for task in tasks:
            task.cancel()
        sample.elapsed_s = (last_done or time.perf_counter()) - t0
    while not conns.empty():
        await conns.get_nowait().close()
    return sample


async def closed_loop(svc: ServiceProc, picker: Picker, clients: int, duration: float) -> Sample:
    sample = Sample()
    stop_at = 0.0

    async def worker() -> None:
        conn = HttpConn(svc.api_port, svc.api_key)
        try:
            while time.perf_counter() < stop_at:
                addr, hit = picker.one()
                t = time.perf_counter()
                try:
                    code, _ = await conn.request("GET", get_path(addr), limit_s=30)
                except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                    sample.error(exc)
                    continue
                ms = (time.perf_counter() - t) * 1000
                sample.lat_ms.append(ms)
                sample.service_ms.append(ms)
                sample.status(code, hit)
        finally:
            await conn.close()

    with measure_cpu(svc, sample):
        t0 = time.perf_counter()
        stop_at = t0 + duration
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(clients))), duration + 60)
        sample.elapsed_s = time.perf_counter() - t0
    return sample


async def bulk(svc: ServiceProc, picker: Picker, size: int, calls: int) -> tuple[Sample, list[int]]:
    sample = Sample()
    suppressed: list[int] = []
    conn = HttpConn(svc.api_port, svc.api_key)
    bodies = []
    for _ in range(calls):
        picked = [picker.one() for _ in range(size)]
        expect = sum(hit for _, hit in picked)
        body = json.dumps({"addresses": [a for a, _ in picked]}).encode()
        bodies.append((body, expect))
    wrong = 0
    with measure_cpu(svc, sample):
        t0 = time.perf_counter()
        for body, expect in bodies:
            t = time.perf_counter()
            try:
                code, data = await conn.request("POST", "/v1/suppressions/check", body, limit_s=120)
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                sample.error(exc)
                continue
            ms = (time.perf_counter() - t) * 1000
            sample.lat_ms.append(ms)
            sample.service_ms.append(ms)
            sample.status(code, None)
            if code == 200:
                got = int(json.loads(data)["suppressed"])
                suppressed.append(got)
                wrong += got != expect
        sample.elapsed_s = time.perf_counter() - t0
    sample.wrong = wrong
    await conn.close()
    return sample, suppressed


# ---------------------------------------------------------------- one database


async def run_db(kind: str, args: argparse.Namespace, src: Source) -> dict[str, Any]:
    out: dict[str, Any] = {"db": kind, "rows": args.rows}
    async with temp_database(kind) as db:
        svc = ServiceProc(db, source=src.path)
        svc.start()  # schema and tenant
        svc.stop()
        svc.cleanup()
        tenant_id = await tenant_id_of(db)
        print(f"    seeding {args.rows:,} rows", file=sys.stderr, flush=True)
        if kind == "sqlite":
            seed = await asyncio.to_thread(seed_sqlite, db, tenant_id, args.rows)
        else:
            seed = await seed_postgres(db, tenant_id, args.rows)
        out["seed"] = {
            "rows": args.rows,
            "method": "SQLAlchemy Core executemany, 10k/txn"
            if kind == "sqlite"
            else "asyncpg copy_records_to_table, 10k/COPY; VACUUM ANALYZE",
            "insert_s": round(seed["insert_s"], 2),
            "rows_per_s": round(args.rows / seed["insert_s"]),
            "analyze_s": round(seed["analyze_s"], 2),
        }
        if db.path is not None:
            out["seed"]["sqlite_file_mib"] = round(db.path.stat().st_size / 2**20, 1)
        out["variants"] = []
        for workers in args.workers:
            label = f"{workers} proc"
            print(f"    server {label}", file=sys.stderr, flush=True)
            out["variants"].append(await measure(db, args, src, workers) | {"server": label})
    return out


async def wait_workers_ready(svc: ServiceProc, workers: int) -> None:
    """The first process answers before its copies have started (each imports, then
    binds): wait for every worker's 'ready' line, so no start-up is measured."""
    deadline = time.monotonic() + 60
    while svc.log_text().count('"event": "ready"') < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only some of {workers} workers ready:\n{svc.log_tail()}")
        await asyncio.sleep(0.2)


async def measure(
    db: Database, args: argparse.Namespace, src: Source, workers: int
) -> dict[str, Any]:
    svc = ServiceProc(
        db,
        source=src.path,
        log_level="info",  # each worker's 'ready' line; the API logs nothing per request
        extra_env={"RETURNPATH_WORKERS": str(workers)},
    )
    svc.start()
    await wait_workers_ready(svc, workers)
    picker = Picker(args.rows, args.hit_ratio)
    phases: dict[str, Any] = {}
    try:
        await sequential(svc, picker, 200)  # warm-up: statement caches, pools
        print("      sequential", file=sys.stderr, flush=True)
        phases["sequential"] = (await sequential(svc, picker, args.sequential)).summary()
        print("      open loop", file=sys.stderr, flush=True)
        s = await open_loop(svc, picker, args.rate, args.duration, args.pool, args.max_inflight)
        phases["open_loop"] = s.summary() | {
            "target_rps": args.rate,
            "scheduled": int(args.rate * args.duration),
        }
        await asyncio.sleep(2)
        print("      closed loop", file=sys.stderr, flush=True)
        phases["closed_loop"] = (
            await closed_loop(svc, picker, args.clients, args.duration)
        ).summary() | {"clients": args.clients}
        await asyncio.sleep(2)
        print("      bulk", file=sys.stderr, flush=True)
        s, suppressed = await bulk(svc, picker, args.bulk_size, args.bulk_calls)
        phases["bulk"] = s.summary() | {
            "addresses_per_call": args.bulk_size,
            "calls": args.bulk_calls,
            "suppressed_per_call_mean": round(sum(suppressed) / len(suppressed), 1)
            if suppressed
            else None,
            "addresses_per_s": round(args.bulk_size * len(s.lat_ms) / s.elapsed_s)
            if s.elapsed_s
            else None,
        }
        mem = svc.memory()
    finally:
        rc = svc.stop()
        logs = svc.log_summary()
        svc.cleanup()
    return {
        "phases": phases,
        "server_vmhwm_mib": round(mem.get("VmHWM", 0) / 1024, 1),
        "server_vmrss_mib": round(mem.get("VmRSS", 0) / 1024, 1),
        "server_exit_code": rc,
        "server_log_warnings": logs,
    }


async def main_async(args: argparse.Namespace) -> int:
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    src = source_tree(args.rev)
    print(f"# Suppression API latency, {utc_stamp()}, code: {args.rev} = {src.commit[:12]}")
    print(f"# {CORES_NOTE}", flush=True)
    results = []
    try:
        for kind in kinds:
            print(f"... {kind}", file=sys.stderr, flush=True)
            results.append(await run_db(kind, args, src))
    finally:
        src.cleanup()

    print("\nSeeding (table suppression)")
    print_table(
        [{"db": r["db"], **r["seed"]} for r in results],
        [
            ("db", "db"),
            ("rows", "rows"),
            ("insert_s", "insert s"),
            ("rows_per_s", "rows/s"),
            ("analyze_s", "ANALYZE s"),
            ("method", "method"),
        ],
    )
    table = []
    for r, v in ((res, var) for res in results for var in res["variants"]):
        for name, ph in v["phases"].items():
            label = {
                "sequential": f"GET, 1 client x {ph['completed']}",
                "open_loop": f"GET, open loop @{ph.get('target_rps')}/s",
                "closed_loop": f"GET, closed loop {ph.get('clients')} clients",
                "bulk": f"POST check {ph.get('addresses_per_call')} x {ph.get('calls')}",
            }[name]
            non2xx = sum(v for k, v in ph["statuses"].items() if k not in ("200", "404"))
            table.append(
                {
                    "db": r["db"],
                    "server": v["server"],
                    "phase": label,
                    **ph,
                    "bad": non2xx + sum(ph["errors"].values()) + ph["dropped_client_side"],
                }
            )
    print(
        f"\nHTTP (rows={args.rows:,}; open loop latency counted from the scheduled send time,"
        " svc = from the actual send; dropped = not sent, over --max-inflight in flight)"
    )
    print_table(
        table,
        [
            ("db", "db"),
            ("server", "server"),
            ("phase", "phase"),
            ("completed", "done"),
            ("rps", "rps"),
            ("p50_ms", "p50 ms"),
            ("p99_ms", "p99 ms"),
            ("max_ms", "max ms"),
            ("service_p50_ms", "svc p50"),
            ("service_p99_ms", "svc p99"),
            ("server_cpu_pct", "srv CPU %"),
            ("server_cpu_ms_per_req", "srv CPU ms/req"),
            ("client_cpu_s", "cli CPU s"),
            ("others_cpu_pct", "others CPU %"),
            ("bad", "dropped/err"),
            ("wrong_answers", "wrong"),
        ],
    )
    for r, v in ((res, var) for res in results for var in res["variants"]):
        print(
            f"{r['db']} ({v['server']}): server VmHWM {v['server_vmhwm_mib']} MiB,"
            f" exit code {v['server_exit_code']}"
            + (
                f", log: {v['server_log_warnings']['counts']}"
                if v["server_log_warnings"]["counts"]
                else ""
            )
        )
    print(f"\nNote: {CORES_NOTE}")
    out = write_json(
        args.out,
        {
            "benchmark": "api_latency",
            "at": utc_stamp(),
            "machine": machine(),
            "params": vars(args),
            "code": {"rev": src.rev, "commit": src.commit, "worktree_dirty": src.dirty_worktree},
            "results": results,
        },
    )
    print(f"JSON: {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--rows", type=int, default=1_000_000, help="suppressions seeded")
    p.add_argument("--hit-ratio", type=float, default=0.5, help="share of seeded addresses asked")
    p.add_argument("--sequential", type=int, default=500, help="requests of the 1-client phase")
    p.add_argument("--rate", type=float, default=1000.0, help="open loop target, requests/s")
    p.add_argument("--duration", type=float, default=10.0, help="open/closed loop seconds")
    p.add_argument("--pool", type=int, default=64, help="open loop keep-alive connections")
    p.add_argument("--max-inflight", type=int, default=5000, help="open loop cap (then dropped)")
    p.add_argument("--clients", type=int, default=32, help="closed loop clients")
    p.add_argument("--bulk-size", type=int, default=10_000, help="addresses per check call")
    p.add_argument(
        "--bulk-calls",
        type=int,
        default=100,
        help="sequential check calls (30 would make p99 the max)",
    )
    p.add_argument(
        "--workers",
        type=lambda v: [int(n) for n in v.split(",")],
        default=[1, 2],
        help="comma-separated RETURNPATH_WORKERS values, one server variant each (default 1,2)",
    )
    p.add_argument(
        "--rev",
        default="HEAD",
        help="commit whose code the server runs (git archive snapshot), or 'worktree'",
    )
    p.add_argument("--out", default="api_latency", help="bench/results/<out>.json")
    args = p.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
