"""Shared plumbing of the service benchmarks: a `returnpath serve` subprocess, a
throw-away database, a tiny HTTP/1.1 client, percentiles, tables and JSON output.

Everything talks to 127.0.0.1 only. Nothing here is a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
BOUNCE_DOMAIN = "bounces.example.com"
CORES_NOTE = (
    f"{os.cpu_count()} CPU cores shared by the service (one event loop per process; '1 proc' is"
    " the default, '2 proc' RETURNPATH_WORKERS=2), the database "
    "and the load generator running on the same machine: figures are a lower bound of what "
    "the service alone could do."
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): the value of rank ceil(p/100 * n); NaN for
    an empty sample. (It used round(x + 0.5), which Python rounds half to even: one
    rank too high whenever p/100 * n is a whole number, e.g. the maximum as the p99
    of 100 samples.)"""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p * len(ordered) / 100) - 1))
    return ordered[k]


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
        "note": CORES_NOTE,
    }


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def system_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine (all cores), from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in first[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class CpuWatch:
    """CPU seconds of the server, of this process and of everything else over a span.

    Other sessions share this machine: ``others_cpu_s`` says how much they
    took while a figure was measured.
    """

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.t0 = time.perf_counter()
        self.srv0 = proc_cpu_seconds(server_pid)
        self.me0 = self_cpu_seconds()
        self.all0 = system_busy_seconds()

    def result(self, elapsed: float | None = None) -> dict[str, float]:
        wall = elapsed if elapsed else time.perf_counter() - self.t0
        srv = proc_cpu_seconds(self.pid) - self.srv0
        me = self_cpu_seconds() - self.me0
        total = system_busy_seconds() - self.all0
        return {
            "server_cpu_s": round(srv, 2),
            "server_cpu_pct": round(100 * srv / wall, 1) if wall else float("nan"),
            "client_cpu_s": round(me, 2),
            "others_cpu_s": round(max(0.0, total - srv - me), 2),
            "others_cpu_pct": round(100 * max(0.0, total - srv - me) / wall, 1)
            if wall
            else float("nan"),
        }


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and of its live children (RETURNPATH_WORKERS), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_path.read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # fields[1] is the parent pid
        if stat_path.parent.name == str(pid) or fields[1] == str(pid):
            total += int(fields[11]) + int(fields[12])
    return total / ticks if Path(f"/proc/{pid}").exists() else float("nan")


def proc_memory_kib(pid: int) -> dict[str, int]:
    """VmHWM (peak RSS) and VmRSS of a process, in KiB."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


# ---------------------------------------------------------------- the code under test


@dataclass
class Source:
    """Where the service code comes from: the working tree, or a snapshot of a commit.

    Others edit the working tree while benchmarks run; a ``git archive`` of a
    commit (default HEAD) gives a stable, importable copy in a temp dir, put
    first on the server's PYTHONPATH.
    """

    rev: str
    path: Path
    commit: str
    dirty_worktree: bool
    temp: bool

    def cleanup(self) -> None:
        if self.temp:
            shutil.rmtree(self.path, ignore_errors=True)


def source_tree(rev: str) -> Source:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    if rev == "worktree":
        return Source(rev, REPO, git("rev-parse", "HEAD"), dirty, temp=False)
    commit = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    dest = Path(tempfile.mkdtemp(prefix="rp-src-"))
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return Source(rev, dest, commit, dirty, temp=True)


# ---------------------------------------------------------------- databases


@dataclass
class Database:
    kind: str  # "sqlite" | "postgres"
    url: str  # what RETURNPATH_DATABASE_URL gets
    path: Path | None = None  # sqlite file
    pg_dsn: str | None = None  # plain asyncpg DSN of the bench database


@contextlib.asynccontextmanager
async def temp_database(kind: str) -> AsyncIterator[Database]:
    """A fresh SQLite file (on the same disk as the repo: /tmp would do, it is ext4
    here, not tmpfs) or a fresh PostgreSQL database, removed afterwards."""
    if kind == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="rp-bench-"))
        path = tmp / "returnpath.db"
        try:
            yield Database("sqlite", f"sqlite+aiosqlite:///{path}", path=path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    if kind != "postgres":
        raise ValueError(kind)
    import asyncpg

    name = f"rp_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        yield Database(
            "postgres", f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", pg_dsn=dsn
        )
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# ---------------------------------------------------------------- the service


@dataclass
class ServiceProc:
    """`returnpath serve` in a subprocess, on free loopback ports."""

    db: Database
    source: Path = REPO
    amqp_url: str = ""
    exchange: str = ""
    log_level: str = "warning"
    extra_env: dict[str, str] = field(default_factory=dict)
    smtp_port: int = 0
    api_port: int = 0
    api_key: str = ""
    proc: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None
    started_at: float = 0.0
    ready_s: float = 0.0

    def start(self, timeout: float = 60.0) -> None:
        self.smtp_port, self.api_port = free_port(), free_port()
        self.api_key = "bench_" + secrets.token_urlsafe(16)
        self.workdir = Path(tempfile.mkdtemp(prefix="rp-serve-"))  # no stray .env is read
        env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
        env.update(
            {
                "RETURNPATH_DATABASE_URL": self.db.url,
                "RETURNPATH_SMTP_PORT": str(self.smtp_port),
                "RETURNPATH_API_PORT": str(self.api_port),
                "RETURNPATH_DOMAINS": BOUNCE_DOMAIN,
                "RETURNPATH_API_KEY": self.api_key,
                "RETURNPATH_AMQP_URL": self.amqp_url,
                "RETURNPATH_LOG_LEVEL": self.log_level,
                "RETURNPATH_LOG_FORMAT": "json",
                "RETURNPATH_SHUTDOWN_GRACE": "5",
                # src layout since the move to one package; older commits had the root
                "PYTHONPATH": str(
                    self.source / "src" if (self.source / "src").is_dir() else self.source
                ),
            }
        )
        if self.exchange:
            env["RETURNPATH_EXCHANGE"] = self.exchange
        env.update(self.extra_env)
        cmd = [sys.executable, "-m", "returnpath", "serve"]
        self.log_path = self.workdir / "serve.log"
        self._log = self.log_path.open("wb")
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=self.workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            self.cleanup()
            raise
        self.ready_s = time.perf_counter() - self.started_at

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.api_port}/healthz"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"returnpath serve exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"returnpath serve not ready after {timeout}s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def memory(self) -> dict[str, int]:
        return proc_memory_kib(self.pid)

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, wait; SIGKILL only if it does not stop in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def log_summary(self) -> dict[str, Any]:
        """Counts of warning/error lines the service wrote (JSON lines or stdlib lines)."""
        counts: dict[str, int] = {}
        samples: list[str] = []
        for line in self.log_text().splitlines():
            level = ""
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    obj = json.loads(line)
                    level = str(obj.get("level", ""))
                    key = f"{level}:{obj.get('event', '')}"
            else:
                level = line.split(" ", 1)[0].lower()
                key = f"{level}:{line[:80]}"
            if level in ("warning", "error", "critical", "exception"):
                counts[key] = counts.get(key, 0) + 1
                if len(samples) < 5:
                    samples.append(line[:400])
        return {"counts": counts, "samples": samples}

    def cleanup(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ---------------------------------------------------------------- a lean HTTP/1.1 client


class HttpConn:
    """One keep-alive HTTP/1.1 connection with the least client-side CPU possible.

    The load generator shares two cores with the service; httpx costs several
    times more CPU per request than this. Only what uvicorn answers is handled:
    Content-Length bodies (no chunked encoding).
    """

    def __init__(self, port: int, auth: str) -> None:
        self.port = port
        self.auth = auth
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(
        self, method: str, path: str, body: bytes = b"", limit_s: float = 30.0
    ) -> tuple[int, bytes]:
        if self.writer is None:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {self.auth}\r\n"
        )
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        try:
            async with asyncio.timeout(limit_s):
                raw = await self.reader.readuntil(b"\r\n\r\n")
                status = int(raw[9:12])
                length = 0
                close = False
                for line in raw.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    lname = name.strip().lower()
                    if lname == b"content-length":
                        length = int(value)
                    elif lname == b"connection" and value.strip().lower() == b"close":
                        close = True
                data = await self.reader.readexactly(length) if length else b""
        except BaseException:
            await self.close()
            raise
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


# ---------------------------------------------------------------- output


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def print_table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """Rows of dicts; columns as (key, header)."""
    cells = [[h for _, h in columns]] + [[fmt(r.get(k)) for k, _ in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if n else c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def write_json(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def utc_stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
