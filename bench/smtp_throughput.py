"""SMTP throughput of `returnpath serve`, end to end: a ``250`` means committed.

    .venv/bin/python -m bench.smtp_throughput [--db sqlite|postgres|both]
        [--messages 5000] [--connections 8] [--new-conn-messages 2000] [--amqp]

For each database a fresh store (temp SQLite file, or a new PostgreSQL
database dropped afterwards) and a fresh `returnpath serve` subprocess on free
loopback ports (RETURNPATH_LOG_LEVEL=warning) per run. Runs:

- ``reuse``: ``--connections`` aiosmtplib clients, each sending many
  messages over one connection (MAIL, RCPT, DATA per message), ``--messages``
  in total;
- ``new-conn``: the same concurrency, but a new connection (EHLO … QUIT) for
  every message, ``--new-conn-messages`` in total;
- ``reuse+amqp`` (with ``--amqp``): as ``reuse`` with the outbox relay
  publishing to RabbitMQ (a private exchange, deleted afterwards); reports how
  long after the last ``250`` the outbox is drained.

Every message is an RFC 3464 DSN (tests.messages.dsn) with its own Message-ID
and failed recipient, so deduplication never short-circuits and each message
writes a message, an event, an address state, a suppression and an audit row.

Reported: messages/s (wall clock, first MAIL to last 250), p50/p99 of the
DATA→250 step (client side: DATA command, 354, body, final reply) and of the
whole transaction, CPU seconds of the server and of the load generator, the
server's peak RSS (VmHWM) at the end. Rows in the database are counted after
each run to confirm each 250 was committed. Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib

from bench.common import (
    AMQP_URL,
    BOUNCE_DOMAIN,
    CORES_NOTE,
    CpuWatch,
    Database,
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
from tests.messages import dsn

MAIL_FROM = ""  # bounces come with a null reverse path
RCPT_TO = f"bounce@{BOUNCE_DOMAIN}"


def build_message(run: str, n: int) -> bytes:
    return dsn(
        f"user{n}.{run}@customer{n % 97}.example.org",
        message_id=f"<dsn-{run}-{n}@mx.example.net>",
    )


class Load:
    """Shared state of one run: the next message number, latencies, errors."""

    def __init__(self, run: str, total: int) -> None:
        self.run = run
        self.total = total
        self.next = 0
        self.data_ms: list[float] = []
        self.txn_ms: list[float] = []
        self.ok = 0
        self.errors: dict[str, int] = {}
        self.connects = 0

    def take(self) -> int | None:
        if self.next >= self.total:
            return None
        self.next += 1
        return self.next - 1

    def error(self, exc: BaseException | str) -> None:
        key = exc if isinstance(exc, str) else f"{type(exc).__name__}: {str(exc)[:120]}"
        self.errors[key] = self.errors.get(key, 0) + 1


async def _transaction(client: aiosmtplib.SMTP, load: Load, n: int, cmd_timeout: float) -> None:
    msg = build_message(load.run, n)
    t0 = time.perf_counter()
    try:
        await client.mail(MAIL_FROM, timeout=cmd_timeout)
        await client.rcpt(RCPT_TO, timeout=cmd_timeout)
        t1 = time.perf_counter()
        resp = await client.data(msg, timeout=cmd_timeout)
    except aiosmtplib.SMTPResponseException as exc:
        load.error(f"{exc.code} {exc.message[:80]}")
        with contextlib.suppress(Exception):
            await client.rset()
        return
    t2 = time.perf_counter()
    if resp.code == 250:
        load.ok += 1
        load.data_ms.append((t2 - t1) * 1000)
        load.txn_ms.append((t2 - t0) * 1000)
    else:
        load.error(f"{resp.code} {resp.message[:80]}")


def _client(port: int, timeout: float) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname="127.0.0.1",
        port=port,
        timeout=timeout,
        start_tls=False,
        local_hostname="bench.localhost",
    )


async def _reuse_worker(port: int, load: Load, cmd_timeout: float) -> None:
    client = _client(port, cmd_timeout)
    await client.connect()
    await client.ehlo()
    load.connects += 1
    try:
        while (n := load.take()) is not None:
            try:
                await _transaction(client, load, n, cmd_timeout)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                load.error(exc)
                with contextlib.suppress(Exception):
                    client.close()
                client = _client(port, cmd_timeout)
                await client.connect()
                await client.ehlo()
                load.connects += 1
    finally:
        with contextlib.suppress(Exception):
            await client.quit()


async def _new_conn_worker(port: int, load: Load, cmd_timeout: float) -> None:
    while (n := load.take()) is not None:
        client = _client(port, cmd_timeout)
        try:
            await client.connect()
            load.connects += 1
            await client.ehlo()
            await _transaction(client, load, n, cmd_timeout)
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            load.error(exc)
            with contextlib.suppress(Exception):
                client.close()


async def drive(
    port: int, load: Load, connections: int, new_conn: bool, cmd_timeout: float
) -> float:
    worker = _new_conn_worker if new_conn else _reuse_worker
    t0 = time.perf_counter()
    results = await asyncio.gather(
        *(worker(port, load, cmd_timeout) for _ in range(connections)), return_exceptions=True
    )
    elapsed = time.perf_counter() - t0
    for res in results:
        if isinstance(res, BaseException):
            load.error(res)
    return elapsed


# ---------------------------------------------------------------- database side


async def db_counts(db: Database) -> dict[str, int]:
    tables = ["message", "event", "suppression", "suppressionaudit", "addressstate", "outbox"]
    out: dict[str, int] = {}
    if db.kind == "sqlite":
        assert db.path is not None
        con = sqlite3.connect(db.path, timeout=30)
        try:
            for t in tables:
                out[t] = con.execute(f"select count(*) from {t}").fetchone()[0]
            out["outbox_pending"] = con.execute(
                "select count(*) from outbox where sent_at is null"
            ).fetchone()[0]
        finally:
            con.close()
        return out
    import asyncpg

    con = await asyncpg.connect(db.pg_dsn, timeout=10)
    try:
        for t in tables:
            out[t] = await con.fetchval(f"select count(*) from {t}")
        out["outbox_pending"] = await con.fetchval(
            "select count(*) from outbox where sent_at is null"
        )
    finally:
        await con.close()
    return out


async def outbox_pending(db: Database) -> int:
    if db.kind == "sqlite":
        assert db.path is not None
        con = sqlite3.connect(db.path, timeout=30)
        try:
            return int(
                con.execute("select count(*) from outbox where sent_at is null").fetchone()[0]
            )
        finally:
            con.close()
    import asyncpg

    con = await asyncpg.connect(db.pg_dsn, timeout=10)
    try:
        return int(await con.fetchval("select count(*) from outbox where sent_at is null"))
    finally:
        await con.close()


async def wait_drained(db: Database, limit_s: float) -> tuple[float | None, int]:
    """Seconds until no outbox row is pending (None on timeout), and the pending count at start."""
    t0 = time.perf_counter()
    first = await outbox_pending(db)
    pending = first
    while pending:
        if time.perf_counter() - t0 > limit_s:
            return None, first
        await asyncio.sleep(0.05)
        pending = await outbox_pending(db)
    return time.perf_counter() - t0, first


async def delete_exchange(name: str) -> None:
    import aio_pika

    with contextlib.suppress(Exception):
        conn = await aio_pika.connect(AMQP_URL, timeout=10)
        async with conn:
            channel = await conn.channel()
            await channel.exchange_delete(name)


# ---------------------------------------------------------------- one run


async def one_run(kind: str, mode: str, args: argparse.Namespace, src: Source) -> dict[str, Any]:
    new_conn = mode == "new-conn"
    amqp = mode == "reuse+amqp"
    total = args.new_conn_messages if new_conn else args.messages
    exchange = f"returnpath.bench.{secrets.token_hex(4)}" if amqp else ""
    async with temp_database(kind) as db:
        svc = ServiceProc(db, source=src.path, amqp_url=AMQP_URL if amqp else "", exchange=exchange)
        svc.start()
        try:
            tag = secrets.token_hex(3)
            if args.warmup:
                warm = Load(f"warm{tag}", args.warmup)
                await drive(svc.smtp_port, warm, 1, False, args.timeout)
            load = Load(f"{mode.replace('+', '')}{tag}", total)
            watch = CpuWatch(svc.pid)
            async with asyncio.timeout(args.run_timeout):
                elapsed = await drive(svc.smtp_port, load, args.connections, new_conn, args.timeout)
            cpu = watch.result(elapsed)
            loadavg = os.getloadavg()
            drain_s: float | None = None
            pending_at_end = None
            if amqp:
                drain_s, pending_at_end = await wait_drained(db, args.drain_timeout)
            mem = svc.memory()
            counts = await db_counts(db)
        finally:
            rc = svc.stop()
            logs = svc.log_summary()
            svc.cleanup()
            if exchange:
                await delete_exchange(exchange)
    expected = load.ok + (args.warmup or 0)
    row: dict[str, Any] = {
        "db": kind,
        "mode": mode,
        "connections": args.connections,
        "messages": total,
        "accepted_250": load.ok,
        "errors": sum(load.errors.values()),
        "error_kinds": load.errors,
        "smtp_connections_opened": load.connects,
        "elapsed_s": round(elapsed, 3),
        "msgs_per_s": round(load.ok / elapsed, 1) if elapsed else None,
        "data_p50_ms": round(percentile(load.data_ms, 50), 2),
        "data_p99_ms": round(percentile(load.data_ms, 99), 2),
        "data_max_ms": round(max(load.data_ms, default=float("nan")), 2),
        "txn_p50_ms": round(percentile(load.txn_ms, 50), 2),
        "txn_p99_ms": round(percentile(load.txn_ms, 99), 2),
        **cpu,
        "server_cpu_ms_per_msg": round(1000 * cpu["server_cpu_s"] / load.ok, 2)
        if load.ok
        else None,
        "loadavg_after": loadavg,
        "server_vmhwm_mib": round(mem.get("VmHWM", 0) / 1024, 1),
        "server_vmrss_mib": round(mem.get("VmRSS", 0) / 1024, 1),
        "server_ready_s": round(svc.ready_s, 2),
        "server_exit_code": rc,
        "db_rows": counts,
        "committed_matches_250": counts.get("message") == expected,
        "server_log_warnings": logs,
    }
    if amqp:
        row["outbox_pending_at_last_250"] = pending_at_end
        row["outbox_drain_s"] = None if drain_s is None else round(drain_s, 2)
    return row


async def main_async(args: argparse.Namespace) -> int:
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    modes = [m for m in args.modes.split(",") if m] + (["reuse+amqp"] if args.amqp else [])
    rows: list[dict[str, Any]] = []
    src = source_tree(args.rev)
    print(f"# SMTP throughput, {utc_stamp()}, code: {args.rev} = {src.commit[:12]}", flush=True)
    print(f"# {CORES_NOTE}", flush=True)
    try:
        for kind in kinds:
            for mode in modes:
                print(f"... {kind} {mode}", file=sys.stderr, flush=True)
                rows.append(await one_run(kind, mode, args, src))
    finally:
        src.cleanup()
    for row in rows:
        if row["errors"]:
            print(f"{row['db']} {row['mode']} errors: {row['error_kinds']}")
        if row["server_log_warnings"]["counts"]:
            print(f"{row['db']} {row['mode']} server log: {row['server_log_warnings']['counts']}")
    print()
    columns = [
        ("db", "db"),
        ("mode", "mode"),
        ("connections", "conns"),
        ("accepted_250", "250s"),
        ("errors", "errors"),
        ("msgs_per_s", "msg/s"),
        ("data_p50_ms", "DATA p50 ms"),
        ("data_p99_ms", "DATA p99 ms"),
        ("txn_p50_ms", "txn p50 ms"),
        ("txn_p99_ms", "txn p99 ms"),
        ("server_cpu_pct", "srv CPU %"),
        ("server_cpu_ms_per_msg", "srv CPU ms/msg"),
        ("client_cpu_s", "client CPU s"),
        ("others_cpu_pct", "others CPU %"),
        ("server_vmhwm_mib", "srv VmHWM MiB"),
    ]
    if args.amqp:
        columns.append(("outbox_drain_s", "outbox drain s"))
    print_table(rows, columns)
    print(
        "\nmsg/s: accepted (250) messages / wall time of the run; DATA = DATA command to final 250;"
        " txn = MAIL..250; srv CPU % of one core during the run (ms/msg: per accepted message);"
        " others CPU %: every other"
        " process on the machine (other sessions' tests, PostgreSQL, RabbitMQ) in the same span."
    )
    for row in rows:
        if not row["committed_matches_250"]:
            print(
                f"!! {row['db']} {row['mode']}: rows in message table {row['db_rows']} "
                f"do not match the 250s",
                file=sys.stderr,
            )
    out = write_json(
        args.out,
        {
            "benchmark": "smtp_throughput",
            "at": utc_stamp(),
            "machine": machine(),
            "params": vars(args),
            "code": {"rev": src.rev, "commit": src.commit, "worktree_dirty": src.dirty_worktree},
            "runs": rows,
        },
    )
    print(f"\nJSON: {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--messages", type=int, default=5000, help="messages per reuse run")
    p.add_argument("--connections", type=int, default=8, help="concurrent SMTP clients")
    p.add_argument(
        "--new-conn-messages", type=int, default=2000, help="messages in the new-connection run"
    )
    p.add_argument("--warmup", type=int, default=50, help="messages sent (not timed) first")
    p.add_argument("--modes", default="reuse,new-conn", help="comma-separated: reuse, new-conn")
    p.add_argument("--amqp", action="store_true", help="also run with the RabbitMQ outbox relay")
    p.add_argument("--timeout", type=float, default=60.0, help="per SMTP command, seconds")
    p.add_argument("--run-timeout", type=float, default=900.0, help="per run, seconds")
    p.add_argument("--drain-timeout", type=float, default=300.0, help="outbox drain, seconds")
    p.add_argument(
        "--rev",
        default="HEAD",
        help="commit whose code the server runs (git archive snapshot), or 'worktree'",
    )
    p.add_argument("--out", default="smtp_throughput", help="bench/results/<out>.json")
    args = p.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
