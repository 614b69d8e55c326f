"""Wire speed of the SMTP edge, side by side with its yardsticks, in one run (issue 16).

    .venv/bin/python bench/smtp_wire.py                 # 2 rounds of 5,000 messages per target
    .venv/bin/python bench/smtp_wire.py --quick         # a few hundred, one round
    .venv/bin/python bench/smtp_wire.py --targets aiosmtpd,sqlite --messages 2000

Targets, each on free loopback ports, driven by the same load generator:

- ``smtp-sink``: Postfix's test server (C, throws mail away): the machine's ceiling.
- ``aiosmtpd``: ``bench/bare_aiosmtpd.py``, the same aiosmtpd and event loop as
  ``returnpath serve`` answering 250 to everything: the yardstick the goals are
  stated against ("at least 0.8x the bare aiosmtpd rate of the same run").
- ``sqlite``, ``postgres``: ``returnpath serve`` on a fresh database;
  ``sqlite+amqp``, ``postgres+amqp``: the same with the RabbitMQ relay on (a private
  exchange, deleted afterwards).

Load: 4 KB RFC 3464 DSNs (tests.messages.dsn, padded with returned header lines),
each with its own Message-ID and failed recipient; 16 clients, each on one
connection from its own loopback address (127.0.0.2, 127.0.0.3, ...: a per-peer
connection cap sees 16 peers, as with real MTAs), MAIL, RCPT, DATA per message,
no pipelining. The generator runs in its own process(es) (``--generators``, default
one), on a raw asyncio client under uvloop: 0.08-0.17 ms of CPU per message, against
0.33-0.38 ms for aiosmtplib (bench/smtp_throughput.py's client), since it shares the
two cores with the target. One process drives smtp-sink at 2,500-4,500 msg/s using
under 25 % of a core, so it is nowhere near saturation at the rates of aiosmtpd or
returnpath; whether it saturated a core is printed for every run anyway (``gen CPU %``,
the busiest generator process; a warning above ``--saturation-pct``).

Per target: msg/s (first MAIL to last 250 over all clients), p50/p99 of end-of-DATA
(the final ``.``) to 250, measured by the client; CPU ms per message of the target's
whole process tree (children included, from the start signal until every suppression
is visible), PostgreSQL's backends of the target's database apart; the ratio to the
bare aiosmtpd of the same round. For returnpath: rows in the database against the
250s (polled for up to ``--settle-timeout`` seconds, since acceptance may come before
the database write), the lag from the last 250 until its suppression answers on
``GET /v1/suppressions/{address}``, and during the run the same lag for every
``--sample-every``-th message (p50/p99).

Lags have a floor: the 250 reaches this process through a pipe and the API answers
from a loaded service; with the code that commits before its 250 they read 10-50 ms.

Targets alternate in rounds (``--rounds``) so that drift on the shared machine shows in
the per-round ratios; a target gets at most ``--max-seconds`` of load per round, so a
round stays within about five minutes on a crowded machine. Results: ``bench/results/smtp_wire.txt`` and ``.json``
(``--out``). Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    AMQP_URL,
    BOUNCE_DOMAIN,
    REPO,
    Database,
    HttpConn,
    ServiceProc,
    Source,
    free_port,
    machine,
    percentile,
    print_table,
    source_tree,
    system_busy_seconds,
    temp_database,
    utc_stamp,
)
from bench.smtp_throughput import delete_exchange
from tests.messages import dsn

TARGETS = ("smtp-sink", "aiosmtpd", "sqlite", "postgres", "sqlite+amqp", "postgres+amqp")
RCPT_TO = f"bounce@{BOUNCE_DOMAIN}"
MESSAGE_SIZE = 4096
HOST = "127.0.0.1"
THIS_FILE = str(Path(__file__).resolve())  # the load generator runs it with --generate


# ---------------------------------------------------------------- messages


def address(run: str, n: int) -> str:
    return f"user{n}.{run}@customer{n % 97}.example.org"


def build_message(run: str, n: int, size: int = MESSAGE_SIZE) -> bytes:
    """A DSN of exactly ``size`` bytes: tests.messages.dsn with returned header lines
    (a Received chain, as real DSNs carry) added to its text/rfc822-headers part."""
    base = dsn(address(run, n), message_id=f"<dsn-{run}-{n}@mx.example.net>")
    anchor = b"Message-ID: <orig-1@example.com>\r\n"
    head, sep, tail = base.partition(anchor)
    assert sep, "tests.messages.dsn changed its returned headers"
    pad = io.BytesIO()
    room = size - len(base)
    i = 0
    while room - pad.tell() > 200:
        pad.write(
            f"Received: from relay{i}.example.com (relay{i}.example.com [192.0.2.{i % 250}])"
            f"\r\n\tby mx{i}.example.net with ESMTPS id {n:08x}{i:04x}; Mon, 23 Nov 2026"
            f" 09:{i % 60:02d}:00 +0000\r\n".encode()
        )
        i += 1
    left = room - pad.tell()
    if left >= 12:
        pad.write(b"X-Pad: " + b"x" * (left - 9) + b"\r\n")
    return head + sep + pad.getvalue() + tail


def dot_stuffed(body: bytes) -> bytes:
    """The DATA payload with its terminator (RFC 5321 4.5.2)."""
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    if body.startswith(b"."):
        body = b"." + body
    return body.replace(b"\r\n.", b"\r\n..") + b".\r\n"


# ---------------------------------------------------------------- the load generator
#
# A child process (this file with --generate SPEC): it builds its messages, connects
# its clients, says "ready", waits for "go" on stdin, drives the load, prints one
# "S <n> <t>" line per sampled 250 (t on CLOCK_MONOTONIC, shared by all processes of
# the machine), "D <n> <t> <250s> <warm-up 250s>" for its last 250 as soon as the load
# is done, and a last "R <json>" line with its figures once its sessions are closed.


class ReplyError(Exception):
    def __init__(self, step: str, line: bytes) -> None:
        super().__init__(f"{step}: {line[:80].decode(errors='replace').strip()}")
        self.key = f"{step} {line[:3].decode(errors='replace')}"


class WireClient:
    """One SMTP session over a raw asyncio stream, one command at a time."""

    def __init__(self, port: int, source: str) -> None:
        self.port = port
        self.source = source
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            HOST, self.port, local_addr=(self.source, 0), limit=1 << 16
        )
        await self.expect("greeting", b"220")
        await self.command(b"EHLO bench.localhost\r\n", "EHLO", b"250")

    async def reply(self) -> bytes:
        assert self.reader is not None
        line = await self.reader.readline()
        while line[3:4] == b"-":
            line = await self.reader.readline()
        if not line:
            raise ConnectionError("connection closed by the server")
        return line

    async def expect(self, step: str, code: bytes) -> None:
        line = await self.reply()
        if not line.startswith(code):
            raise ReplyError(step, line)

    async def command(self, data: bytes, step: str, code: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)
        await self.expect(step, code)

    async def send(self, payload: bytes) -> tuple[float, float]:
        """One transaction; returns (time of the final '.', time of its 250)."""
        assert self.writer is not None
        await self.command(b"MAIL FROM:<>\r\n", "MAIL", b"250")
        await self.command(f"RCPT TO:<{RCPT_TO}>\r\n".encode(), "RCPT", b"250")
        await self.command(b"DATA\r\n", "DATA", b"354")
        self.writer.write(payload)
        t_eod = time.monotonic()
        line = await self.reply()
        t_250 = time.monotonic()
        if not line.startswith(b"250"):
            raise ReplyError("end of DATA", line)
        return t_eod, t_250

    async def reset(self) -> None:
        with contextlib.suppress(Exception):
            await self.command(b"RSET\r\n", "RSET", b"250")

    async def close(self) -> None:
        if self.writer is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self.command(b"QUIT\r\n", "QUIT", b"221")
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
        self.reader = self.writer = None


@dataclass
class GenResult:
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    eod_ms: list[float] = field(default_factory=list)
    t_first_mail: float = float("inf")
    t_last_250: float = 0.0
    last_n: int = -1
    connects: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    warmup_ok: int = 0
    capped: bool = False

    def error(self, key: str) -> None:
        self.errors[key] = self.errors.get(key, 0) + 1


async def generate(spec: dict[str, Any]) -> None:
    port: int = spec["port"]
    run: str = spec["run"]
    numbers: list[int] = list(range(spec["first"], spec["total"], spec["stride"]))
    sample_every: int = spec["sample_every"]
    max_s: float = spec["max_s"]
    payloads = {n: dot_stuffed(build_message(run, n)) for n in numbers}
    warm = [dot_stuffed(build_message(f"w{run}", i)) for i in range(spec["warmup"])]
    res = GenResult()
    out = sys.stdout
    clients = [WireClient(port, src) for src in spec["sources"]]
    for c in clients:
        await c.connect()
        res.connects += 1
    for i, payload in enumerate(warm):
        try:
            await clients[i % len(clients)].send(payload)
            res.warmup_ok += 1
        except (ReplyError, OSError):
            await clients[i % len(clients)].reset()
    out.write("ready\n")
    out.flush()
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    if (await stdin.readline()).strip() != b"go":
        return
    queue = iter(numbers)
    t_cpu, t_wall = os.times(), time.monotonic()

    rate: float = spec.get("rate", 0.0)  # messages/s this generator offers; 0: as fast as it can
    turns = itertools.count()

    async def client_loop(client: WireClient) -> None:
        for n in queue:
            if rate:  # paced: message k is due k/rate seconds after the start, whoever sends it
                delay = t_wall + next(turns) / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            now = time.monotonic()
            if now - t_wall > max_s:
                res.capped = True
                break
            res.t_first_mail = min(res.t_first_mail, now)
            try:
                t_eod, t_250 = await client.send(payloads[n])
            except ReplyError as exc:
                res.error(exc.key)
                await client.reset()
                continue
            except (OSError, asyncio.IncompleteReadError) as exc:
                res.error(f"{type(exc).__name__}")
                await client.close()
                await client.connect()
                res.connects += 1
                continue
            res.ok += 1
            res.eod_ms.append((t_250 - t_eod) * 1000)
            if t_250 > res.t_last_250:
                res.t_last_250, res.last_n = t_250, n
            if n % sample_every == 0:
                out.write(f"S {n} {t_250:.6f}\n")
                out.flush()

    await asyncio.gather(*(client_loop(c) for c in clients))
    t_end = os.times()
    res.cpu_s = (t_end.user - t_cpu.user) + (t_end.system - t_cpu.system)
    res.wall_s = time.monotonic() - t_wall
    # the last 250 at once, before the sessions are closed: the parent starts polling for
    # its suppression now rather than after the wind-down
    out.write(f"D {res.last_n} {res.t_last_250:.6f} {res.ok} {res.warmup_ok}\n")
    out.flush()
    for c in clients:
        await c.close()
    out.write("R " + json.dumps(res.__dict__) + "\n")
    out.flush()


# ---------------------------------------------------------------- CPU of process trees


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and of its reaped children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, float]] = {}
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_path.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after the name: state ppid ... utime(11) stime(12) cutime(13) cstime(14)
        cpu = sum(int(x) for x in fields[11:15]) / ticks
        table[int(stat_path.parent.name)] = (int(fields[1]), cpu)
    return table


def tree_cpu_seconds(roots: Iterable[int]) -> float:
    """CPU seconds of processes and all their descendants. A child's reaped children
    count in its cutime/cstime; a child that exited and was reaped counts in its
    parent's: nothing is counted twice, nothing of a tree that waits for its children
    is lost."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [p for p in roots if p in table]
    while todo:
        pid = todo.pop()
        total += table[pid][1]
        todo.extend(children.get(pid, ()))
    return total


def pg_backends(dbname: str) -> dict[int, float]:
    """PostgreSQL backends serving ``dbname`` (their title names the database): pid -> CPU s."""
    table = _proc_table()
    out: dict[int, float] = {}
    needle = f" {dbname} ".encode()
    for pid, (_, cpu) in table.items():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmd.startswith(b"postgres: ") and needle in cmd:
            out[pid] = cpu
    return out


class Span:
    """CPU of the target tree, its database backends, the generators, this process and
    everything else, from one snapshot to the next."""

    def __init__(self, roots: list[int], dbname: str | None) -> None:
        self.roots, self.dbname = roots, dbname
        self.t0 = time.monotonic()
        self.target0 = tree_cpu_seconds(roots)
        self.pg0 = pg_backends(dbname) if dbname else {}
        self.me0 = _self_cpu()
        self.all0 = system_busy_seconds()

    def take(self, gen_cpu_s: float, exclude_pg: Iterable[int] = ()) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        target = tree_cpu_seconds(self.roots) - self.target0
        pg = 0.0
        if self.dbname:
            skip = set(exclude_pg)
            pg = sum(
                cpu - self.pg0.get(pid, 0.0)
                for pid, cpu in pg_backends(self.dbname).items()
                if pid not in skip
            )
        me = _self_cpu() - self.me0
        others = max(0.0, system_busy_seconds() - self.all0 - target - pg - gen_cpu_s - me)
        return {"wall_s": wall, "target_s": target, "pg_s": pg, "me_s": me, "others_s": others}


def _self_cpu() -> float:
    t = os.times()
    return t.user + t.system


# ---------------------------------------------------------------- targets


@dataclass
class Running:
    """What a started target offers the run: its SMTP port, the pids whose trees are its
    CPU, and (returnpath only) its database, API and log."""

    port: int
    roots: list[int]
    svc: ServiceProc | None = None
    db: Database | None = None
    dbname: str | None = None


def _launch(cmd: list[str], port: int, timeout: float = 15.0) -> subprocess.Popen[bytes]:
    """Start a yardstick server and wait for its greeting. Blocking, on purpose: nothing
    else runs while a target starts."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited early with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 1) as s:
            if s.recv(100).startswith(b"220"):
                return proc
        time.sleep(0.05)
    _stop(proc)
    raise TimeoutError(f"no SMTP greeting from {cmd[0]} on port {port} after {timeout}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def smtp_sink_path() -> str | None:
    for path in (shutil.which("smtp-sink"), "/usr/sbin/smtp-sink", "/usr/lib/postfix/smtp-sink"):
        if path and Path(path).exists():
            return path
    return None


@contextlib.asynccontextmanager
async def smtp_sink() -> AsyncIterator[Running]:
    path = smtp_sink_path()
    if path is None:
        raise RuntimeError("smtp-sink not found: apt-get install postfix (see the docstring)")
    port = free_port()
    cmd = [path, "-4", "-m", "1024"]
    if os.geteuid() == 0:
        cmd += ["-u", "nobody"]  # it refuses to run as root otherwise
    proc = _launch([*cmd, f"{HOST}:{port}", "256"], port)
    try:
        yield Running(port, [proc.pid])
    finally:
        _stop(proc)


@contextlib.asynccontextmanager
async def bare_aiosmtpd() -> AsyncIterator[Running]:
    port = free_port()
    proc = _launch([sys.executable, str(REPO / "bench" / "bare_aiosmtpd.py"), str(port)], port)
    try:
        yield Running(port, [proc.pid])
    finally:
        _stop(proc)


@contextlib.asynccontextmanager
async def returnpath(
    kind: str, amqp: bool, src: Source, extra_env: dict[str, str]
) -> AsyncIterator[Running]:
    exchange = f"returnpath.bench.{secrets.token_hex(4)}" if amqp else ""
    async with temp_database(kind) as db:
        svc = ServiceProc(
            db,
            source=src.path,
            amqp_url=AMQP_URL if amqp else "",
            exchange=exchange,
            extra_env=extra_env,
        )
        try:
            svc.start()
            dbname = db.pg_dsn.rsplit("/", 1)[1] if db.pg_dsn else None
            yield Running(svc.smtp_port, [svc.pid], svc=svc, db=db, dbname=dbname)
        finally:
            svc.stop()
            svc.cleanup()
            if exchange:
                await delete_exchange(exchange)


def start_target(
    name: str, src: Source, extra_env: dict[str, str]
) -> contextlib.AbstractAsyncContextManager[Running]:
    if name == "smtp-sink":
        return smtp_sink()
    if name == "aiosmtpd":
        return bare_aiosmtpd()
    kind, _, extra = name.partition("+")
    return returnpath(kind, extra == "amqp", src, extra_env)


# ---------------------------------------------------------------- database and API side


class Counter:
    """Row counts of the target's database, read apart from the service."""

    TABLES = ("message", "suppression")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pg: Any = None
        self.pg_pid = 0

    async def open(self) -> None:
        if self.db.kind == "postgres":
            import asyncpg

            self.pg = await asyncpg.connect(self.db.pg_dsn, timeout=10)
            self.pg_pid = int(self.pg.get_server_pid())

    async def close(self) -> None:
        if self.pg is not None:
            await self.pg.close()

    async def counts(self) -> dict[str, int]:
        queries = {t: f"select count(*) from {t}" for t in self.TABLES}
        queries["outbox_pending"] = "select count(*) from outbox where sent_at is null"
        out: dict[str, int] = {}
        if self.pg is not None:
            for key, sql in queries.items():
                with contextlib.suppress(Exception):
                    out[key] = int(await self.pg.fetchval(sql))
            return out
        return await asyncio.to_thread(self._sqlite_counts, queries)

    def _sqlite_counts(self, queries: dict[str, str]) -> dict[str, int]:
        assert self.db.path is not None
        out: dict[str, int] = {}
        con = sqlite3.connect(f"file:{self.db.path}?mode=ro", uri=True, timeout=30)
        try:
            for key, sql in queries.items():
                with contextlib.suppress(sqlite3.Error):
                    out[key] = int(con.execute(sql).fetchone()[0])
        finally:
            con.close()
        return out


@dataclass
class Visibility:
    """When the API first answered 200 for an address's suppression (CLOCK_MONOTONIC,
    None if never within the limit), after how many requests, the last other answer.
    A hit on the first request bounds the lag from above only: it may have been
    visible before the poll began."""

    t250: float
    seen: float | None = None
    polls: int = 0
    last: str = ""

    @property
    def lag_ms(self) -> float | None:
        return None if self.seen is None else (self.seen - self.t250) * 1000


async def visible_at(
    svc: ServiceProc, addr: str, t250: float, limit_s: float, every_s: float = 0.025
) -> Visibility:
    """Poll ``GET /v1/suppressions/{address}`` every ``every_s`` until it answers 200.

    Every 25 ms: fine enough for a goal of a second, while a 10 ms poll by each of
    the samples in flight added up to hundreds of requests a second on the service
    being measured exactly when it lagged (load that grew with the lag it measured).
    """
    vis = Visibility(t250)
    conn = HttpConn(svc.api_port, svc.api_key)
    path = "/v1/suppressions/" + urllib.parse.quote(addr, safe="@")
    deadline = time.monotonic() + limit_s
    try:
        while time.monotonic() < deadline:
            vis.polls += 1
            try:
                status, _ = await conn.request("GET", path, limit_s=10)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                vis.last = type(exc).__name__
                await conn.close()
            else:
                if status == 200:
                    vis.seen = time.monotonic()
                    return vis
                vis.last = str(status)
            await asyncio.sleep(every_s)
        return vis
    finally:
        await conn.close()


# ---------------------------------------------------------------- one run


def _split(items: list[str], parts: int) -> list[list[str]]:
    return [items[i::parts] for i in range(parts)]


async def _spawn_generators(
    port: int, run: str, args: argparse.Namespace
) -> list[asyncio.subprocess.Process]:
    sources = (
        [f"127.0.0.{2 + i}" for i in range(args.connections)]
        if args.peers
        else [HOST] * args.connections
    )
    gens = []
    for g, srcs in enumerate(_split(sources, args.generators)):
        spec = {
            "port": port,
            "run": run,
            "first": g,
            "total": args.messages,
            "stride": args.generators,
            "sample_every": args.sample_every,
            "max_s": args.max_seconds,
            "warmup": args.warmup // args.generators,
            "sources": srcs,
            "rate": args.rate / args.generators,
        }
        gens.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                THIS_FILE,
                "--generate",
                json.dumps(spec),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=1 << 20,
            )
        )
    for proc in gens:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError(f"load generator did not start: {line[:200]!r}")
    return gens


async def one_run(
    target: str, round_no: int, args: argparse.Namespace, src: Source
) -> dict[str, Any]:
    run = f"r{round_no}{target.replace('+', '')[:6]}{secrets.token_hex(3)}"
    row: dict[str, Any] = {"round": round_no, "target": target}
    async with contextlib.AsyncExitStack() as stack:
        t = await stack.enter_async_context(start_target(target, src, args.extra_env))
        counter = Counter(t.db) if t.db is not None else None
        if counter is not None:
            await counter.open()  # before the load: its connect is no part of any lag
            stack.push_async_callback(counter.close)
        samples: list[asyncio.Task[Visibility]] = []
        lasts: list[asyncio.Task[Visibility]] = []
        ends: list[tuple[float, int]] = []  # per generator: last 250, 250s + warm-up 250s
        rows: list[asyncio.Task[dict[str, Any]]] = []
        results: list[GenResult] = []
        stack.callback(_cancel, [samples, lasts, rows])
        gens = await _spawn_generators(t.port, run, args)
        stack.callback(_kill, gens)

        def poll(n: int, t250: float) -> asyncio.Task[Visibility]:
            assert t.svc is not None
            return asyncio.create_task(
                visible_at(t.svc, address(run, n), t250, args.settle_timeout)
            )

        async def read(proc: asyncio.subprocess.Process) -> None:
            assert proc.stdout is not None
            async for raw in proc.stdout:
                kind, _, rest = raw.decode().strip().partition(" ")
                if kind in ("S", "D") and t.svc is not None:
                    n_s, t_s, *more = rest.split()
                    if int(n_s) >= 0:
                        (samples if kind == "S" else lasts).append(poll(int(n_s), float(t_s)))
                    if kind == "D":
                        ends.append((float(t_s), int(more[0]) + int(more[1])))
                        if len(ends) == len(gens) and counter is not None:
                            expected = sum(e[1] for e in ends)
                            t_end = max(e[0] for e in ends)
                            rows.append(
                                asyncio.create_task(wait_rows(counter, expected, t_end, args))
                            )
                elif kind == "R":
                    results.append(GenResult(**json.loads(rest)))
            await proc.wait()

        if counter is not None:
            # Steady state, not start-up: the stage (a child process importing its
            # modules) may start after serve answers; the timed load begins once the
            # warm-up's messages are recorded, so a lag measured is the stage keeping up
            # or not, never its start. How long that took is reported.
            waited = time.monotonic()
            async with asyncio.timeout(args.settle_timeout):
                while (await counter.counts()).get("message", 0) < args.warmup:
                    await asyncio.sleep(0.05)
            row["warmup_recorded_s"] = round(time.monotonic() - waited, 2)
        span = Span(t.roots, t.dbname)
        for proc in gens:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        async with asyncio.timeout(args.run_timeout):
            await asyncio.gather(*(read(p) for p in gens))
        if len(results) != len(gens):
            raise RuntimeError(f"{target}: a load generator died ({[p.returncode for p in gens]})")
        gen_cpu = sum(r.cpu_s for r in results)
        accept = span.take(gen_cpu)
        ok = sum(r.ok for r in results)
        t_first = min(r.t_first_mail for r in results)
        t_last = max(r.t_last_250 for r in results)
        elapsed = t_last - t_first if ok else float("nan")
        eod = [x for r in results for x in r.eod_ms]
        errors: dict[str, int] = {}
        for r in results:
            for k, v in r.errors.items():
                errors[k] = errors.get(k, 0) + v
        gen_pct = [round(100 * r.cpu_s / r.wall_s, 1) if r.wall_s else 0.0 for r in results]
        row.update(
            {
                "messages": args.messages,
                "capped_at_max_seconds": any(r.capped for r in results),
                "accepted_250": ok,
                "errors": sum(errors.values()),
                "error_kinds": errors,
                "smtp_connections": sum(r.connects for r in results),
                "elapsed_s": round(elapsed, 3),
                "msgs_per_s": round(ok / elapsed, 1) if ok else None,
                "eod_p50_ms": round(percentile(eod, 50), 2),
                "eod_p99_ms": round(percentile(eod, 99), 2),
                "eod_max_ms": round(max(eod, default=float("nan")), 2),
                "target_cpu_pct": round(100 * accept["target_s"] / accept["wall_s"], 1),
                "gen_cpu_pct": gen_pct,
                "gen_saturated": any(p >= args.saturation_pct for p in gen_pct),
                "others_cpu_pct": round(100 * accept["others_s"] / accept["wall_s"], 1),
                "loadavg_after": os.getloadavg(),
            }
        )
        settled = span.take(gen_cpu)
        if t.svc is not None and counter is not None:
            row.update(await rows[0] if rows else {"rows_match_250": False})
            row.update(last_visible([await x for x in lasts]))
            settled = span.take(gen_cpu, exclude_pg=[counter.pg_pid])
            seen = [await x for x in samples]
            lags = [v.lag_ms for v in seen if v.lag_ms is not None]
            row["visible_first_poll"] = sum(v.seen is not None and v.polls == 1 for v in seen)
            row["visible_samples"] = len(samples)
            row["visible_missing"] = len(samples) - len(lags)
            row["visible_p50_ms"] = round(percentile(lags, 50), 1)
            row["visible_p99_ms"] = round(percentile(lags, 99), 1)
            # when in the run the slow ones were: a warm-up, a periodic stall, a drift
            t0 = min((v.t250 for v in seen), default=0.0)
            row["visible_timeline"] = [
                [round(v.t250 - t0, 2), None if v.lag_ms is None else round(v.lag_ms)]
                for v in sorted(seen, key=lambda v: v.t250)
            ]
            row["server_log_warnings"] = t.svc.log_summary()
        row["target_cpu_ms_per_msg"] = round(1000 * settled["target_s"] / ok, 3) if ok else None
        row["pg_cpu_ms_per_msg"] = (
            round(1000 * settled["pg_s"] / ok, 3) if t.dbname and ok else None
        )
        row["cpu_span_s"] = round(settled["wall_s"], 2)
    return row


def _cancel(task_lists: Iterable[Iterable[asyncio.Task[Any]]]) -> None:
    for tasks in task_lists:
        for task in tasks:
            task.cancel()


def _kill(procs: list[asyncio.subprocess.Process]) -> None:
    """Load generators still running after a failed run (nothing to do after a good one)."""
    for proc in procs:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()


async def wait_rows(
    counter: Counter, expected: int, t_last: float, args: argparse.Namespace
) -> dict[str, Any]:
    """Poll, from the end of the load until --settle-timeout after the last 250, until
    the database holds a message and a suppression for every 250 (warm-up included)
    and the outbox is drained."""
    deadline = t_last + args.settle_timeout
    counts = await counter.counts()
    while time.monotonic() < deadline and not _complete(counts, expected):
        await asyncio.sleep(0.02)
        counts = await counter.counts()
    done = time.monotonic()
    ok = _complete(counts, expected)
    return {
        "expected_rows": expected,
        "db_rows": counts,
        "rows_match_250": ok,
        "all_rows_lag_ms": round((done - t_last) * 1000, 1) if ok else None,
    }


def last_visible(lasts: list[Visibility]) -> dict[str, Any]:
    """The lag of the last 250's suppression on the API (polled from the end of the load)."""
    if not lasts:
        return {}
    last = max(lasts, key=lambda v: v.t250)
    lag = last.lag_ms
    out: dict[str, Any] = {
        "last_visible_lag_ms": None if lag is None else round(lag, 1),
        "last_visible_first_poll": last.seen is not None and last.polls == 1,
    }
    if last.seen is None:
        out["last_visible_status"] = last.last
    return out


def _complete(counts: dict[str, int], expected: int) -> bool:
    return (
        counts.get("message") == expected
        and counts.get("suppression") == expected
        and counts.get("outbox_pending", 0) == 0
    )


# ---------------------------------------------------------------- main


class Report:
    """Prints and keeps every line, for the .txt next to the .json."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def table(self, rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            print_table(rows, columns)
        for line in buf.getvalue().rstrip("\n").split("\n"):
            self(line)


COLUMNS = [
    ("round", "round"),
    ("target", "target"),
    ("accepted_250", "250s"),
    ("errors", "errors"),
    ("msgs_per_s", "msg/s"),
    ("ratio_to_aiosmtpd", "x bare"),
    ("eod_p50_ms", "EOD p50 ms"),
    ("eod_p99_ms", "EOD p99 ms"),
    ("target_cpu_ms_per_msg", "CPU ms/msg"),
    ("pg_cpu_ms_per_msg", "+PG ms/msg"),
    ("target_cpu_pct", "CPU %"),
    ("gen_cpu_pct_max", "gen CPU %"),
    ("others_cpu_pct", "others %"),
    ("rows_ok", "rows=250s"),
    ("all_rows_lag_ms", "rows lag ms"),
    ("last_visible_lag_ms", "last vis ms"),
    ("visible_p50_ms", "vis p50 ms"),
    ("visible_p99_ms", "vis p99 ms"),
]

LEGEND = (
    "msg/s: 250s / (last 250 - first MAIL), all clients; x bare: msg/s over the bare aiosmtpd's"
    " of the same round; EOD: the final '.' of DATA to its 250, client side; CPU ms/msg: the"
    " target's process tree from the start until its rows are all in (+PG: PostgreSQL backends"
    " of its database); CPU %, gen CPU % (the busiest generator process), others %: of one"
    " core during the load; rows=250s: message and suppression rows equal the 250s (warm-up"
    " included) and the outbox is drained; rows lag: last 250 until then; last vis: last 250"
    " until its suppression answers on GET /v1/suppressions/{address}; vis p50/p99: the same"
    " for every sampled message during the load."
)


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_target: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_target.setdefault(row["target"], []).append(row)
    out = []
    for target, rs in by_target.items():
        rates = [r["msgs_per_s"] for r in rs if r.get("msgs_per_s")]
        ratios = [r["ratio_to_aiosmtpd"] for r in rs if r.get("ratio_to_aiosmtpd") is not None]
        out.append(
            {
                "target": target,
                "msgs_per_s": f"{min(rates):,.0f}-{max(rates):,.0f}" if rates else None,
                "ratio_to_aiosmtpd": f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else None,
                "eod_p99_ms": f"{min(r['eod_p99_ms'] for r in rs):.1f}-"
                f"{max(r['eod_p99_ms'] for r in rs):.1f}",
                "target_cpu_ms_per_msg": f"{min(r['target_cpu_ms_per_msg'] or 0 for r in rs):.2f}-"
                f"{max(r['target_cpu_ms_per_msg'] or 0 for r in rs):.2f}",
            }
        )
    return out


async def main_async(args: argparse.Namespace) -> int:
    report = Report()
    src = source_tree(args.rev)
    compiled = sorted(p.name for p in (src.path / "src" / "returnpath" / "parsers").rglob("*.so"))
    report(f"# SMTP wire speed, {utc_stamp()}, code: {args.rev} = {src.commit[:12]}")
    report(
        f"# {args.messages:,} x {MESSAGE_SIZE:,}-byte DSNs per target, {args.connections} clients"
        f" ({'distinct loopback peers' if args.peers else 'one peer'}),"
        f" {args.generators} generator process(es), {args.rounds} round(s);"
        f" {os.cpu_count()} cores shared with other work; loadavg {os.getloadavg()}"
    )
    report(f"# returnpath parsers compiled with mypyc: {'yes' if compiled else 'no'}")
    if args.extra_env:
        report(f"# extra env for returnpath serve: {args.extra_env}")
    rows: list[dict[str, Any]] = []
    try:
        for r in range(1, args.rounds + 1):
            for target in args.targets:
                print(f"... round {r} {target}", file=sys.stderr, flush=True)
                try:
                    rows.append(await one_run(target, r, args, src))
                except Exception as exc:  # one broken target must not lose the others' figures
                    report(f"!! round {r} {target}: {type(exc).__name__}: {exc}")
                    rows.append({"round": r, "target": target, "failed": repr(exc)})
    finally:
        src.cleanup()
    for row in rows:
        bare = next(
            (x for x in rows if x["round"] == row["round"] and x["target"] == "aiosmtpd"), None
        )
        if bare and bare.get("msgs_per_s") and row.get("msgs_per_s"):
            row["ratio_to_aiosmtpd"] = round(row["msgs_per_s"] / bare["msgs_per_s"], 3)
        row["gen_cpu_pct_max"] = max(row.get("gen_cpu_pct") or [float("nan")])
        if "rows_match_250" in row:
            row["rows_ok"] = "yes" if row["rows_match_250"] else "NO"
    report()
    report.table(rows, COLUMNS)
    report()
    report(LEGEND)
    if args.rounds > 1:
        report()
        report("Per target over the rounds (min-max):")
        report.table(
            summarise([r for r in rows if "failed" not in r]),
            [
                ("target", "target"),
                ("msgs_per_s", "msg/s"),
                ("ratio_to_aiosmtpd", "x bare"),
                ("eod_p99_ms", "EOD p99 ms"),
                ("target_cpu_ms_per_msg", "CPU ms/msg"),
            ],
        )
    report()
    for row in rows:
        tag = f"round {row['round']} {row['target']}"
        if row.get("errors"):
            report(f"!! {tag}: errors {row['error_kinds']}")
        if row.get("capped_at_max_seconds"):
            report(
                f"!! {tag}: stopped after --max-seconds {args.max_seconds:g}, short of"
                f" {args.messages:,} messages"
            )
        if row.get("gen_saturated"):
            report(
                f"!! {tag}: a load generator process used {row['gen_cpu_pct']} % of a core:"
                " the rate is the generator's, not the target's"
            )
        if row.get("rows_match_250") is False:
            report(
                f"!! {tag}: rows {row['db_rows']} after {args.settle_timeout}s, 250s + warm-up"
                f" {row['expected_rows']}"
            )
        if row.get("visible_missing"):
            report(f"!! {tag}: {row['visible_missing']} sampled suppressions never visible")
        logs = row.get("server_log_warnings") or {}
        if logs.get("counts"):
            report(f"!! {tag}: server log {logs['counts']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".txt").write_text("\n".join(report.lines) + "\n")
    out.with_suffix(".json").write_text(
        json.dumps(
            {
                "benchmark": "smtp_wire",
                "at": utc_stamp(),
                "machine": machine(),
                "params": {k: v for k, v in vars(args).items() if k != "generate"},
                "code": {
                    "rev": src.rev,
                    "commit": src.commit,
                    "worktree_dirty": src.dirty_worktree,
                    "parsers_compiled": compiled,
                },
                "runs": rows,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    print(f"\nwritten: {out.with_suffix('.txt')} and .json", file=sys.stderr)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--targets", default=",".join(TARGETS), help="comma-separated, run in order")
    p.add_argument("--messages", type=int, default=5000, help="timed messages per target")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument(
        "--max-seconds",
        type=float,
        default=45.0,
        help="stop sending to a target after this long, even short of --messages (keeps a"
        " round within minutes on a crowded machine; rates are over what was sent)",
    )
    p.add_argument("--connections", type=int, default=16, help="concurrent SMTP clients")
    p.add_argument("--generators", type=int, default=1, help="load generator processes")
    p.add_argument(
        "--one-peer",
        dest="peers",
        action="store_false",
        help="every client from 127.0.0.1 (default: one loopback address per client)",
    )
    p.add_argument("--warmup", type=int, default=32, help="untimed messages first (per target)")
    p.add_argument("--sample-every", type=int, default=200, help="visibility sample interval")
    p.add_argument("--settle-timeout", type=float, default=60.0, help="seconds, after the load")
    p.add_argument("--run-timeout", type=float, default=600.0, help="seconds per target")
    p.add_argument(
        "--saturation-pct",
        type=float,
        default=90.0,
        help="a generator process above this %% of a core is reported as the bottleneck",
    )
    p.add_argument(
        "--env",
        dest="extra_env",
        action="append",
        default=[],
        metavar="RETURNPATH_X=V",
        help="extra environment for returnpath serve (repeatable)",
    )
    p.add_argument(
        "--rev",
        default="worktree",
        help="code returnpath serve runs: 'worktree' (the installed tree, compiled parsers"
        " included) or a commit (a git archive snapshot: pure-Python parsers)",
    )
    p.add_argument("--quick", action="store_true", help="300 messages, one round")
    p.add_argument("--out", default=str(REPO / "bench" / "results" / "smtp_wire"))
    p.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offer at most this many messages/s in all (paced); default 0: as fast as possible",
    )
    p.add_argument("--generate", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.messages, args.rounds, args.sample_every = 300, 1, 50
    args.targets = [t for t in args.targets.split(",") if t]
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        p.error(f"unknown targets {sorted(unknown)}; known: {', '.join(TARGETS)}")
    env = {}
    for item in args.extra_env:
        key, sep, value = item.partition("=")
        if not sep:
            p.error(f"--env wants NAME=VALUE, got {item!r}")
        env[key] = value
    args.extra_env = env
    args.generators = max(1, min(args.generators, args.connections))
    return args


def _run(main: Coroutine[Any, Any, Any]) -> Any:
    """uvloop when installed: the generator's own CPU per message is what it saves."""
    runner: Callable[[Coroutine[Any, Any, Any]], Any] = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    return runner(main)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.generate:
        _run(generate(json.loads(args.generate)))
        return 0
    return int(_run(main_async(args)))


if __name__ == "__main__":
    raise SystemExit(main())
