"""kill -9 of either stage under load: every message answered 250 is recorded, once.

A real ``returnpath serve`` (its stage in a child process, as in production)
takes DSNs from concurrent clients; the test kills the stage with SIGKILL,
keeps sending, then kills ``serve`` itself with SIGKILL, starts it again on
the same database and spool, and checks the store: each acknowledged
message is there, and no finding was recorded twice.
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest

from tests.messages import dsn
from tests.services import PG_DSN, free_port, require_postgres

DOMAIN = "bounces.localhost"


class Serve:
    """``returnpath serve`` with its log read on a thread (so the pipe never fills)."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.lines: list[dict[str, object]] = []
        self.other: list[str] = []  # what is not a JSON log line (a crash's traceback)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "returnpath", "serve"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            if raw.startswith("{"):
                self.lines.append(json.loads(raw))
            else:
                self.other.append(raw)

    def wait_for(self, event: str, count: int = 1, timeout: float = 120) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if line.get("event") == event]
            if len(found) >= count:
                return found[count - 1]
            assert self.proc.poll() is None, (
                f"serve exited before {event}: {self.lines[-5:]} {''.join(self.other[-30:])}"
            )
            time.sleep(0.05)
        raise AssertionError(f"no {event} within {timeout} s")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False


def send_one(port: int, n: int) -> str | None:
    """One DSN on its own connection; the uid of its 250, or None if it was not accepted."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            client.mail("")
            client.rcpt(f"b@{DOMAIN}")
            code, reply = client.data(
                dsn(f"k{n}@example.org", message_id=f"<kill-{n}@mx.example.net>")
            )
    except (OSError, smtplib.SMTPException):
        return None
    return reply.decode().split()[-1] if code == 250 else None


def send_many(port: int, numbers: range) -> dict[int, str]:
    with ThreadPoolExecutor(8) as pool:
        uids = pool.map(lambda n: send_one(port, n), numbers)
        return {n: uid for n, uid in zip(numbers, uids, strict=True) if uid}


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'returnpath.db'}"
        return
    import asyncio

    require_postgres()
    name = f"rp_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_DSN.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def stored(database: str) -> tuple[set[str], dict[str, int]]:
    """Message uids, and events per recipient, in the store."""
    if database.startswith("sqlite"):
        with sqlite3.connect(database.removeprefix("sqlite:///")) as db:
            uids = {row[0] for row in db.execute("select uid from message")}
            per = dict(db.execute("select recipient, count(*) from event group by recipient"))
        return uids, per
    import asyncio

    async def query() -> tuple[set[str], dict[str, int]]:
        conn = await asyncpg.connect(database)
        try:
            uids = {r[0] for r in await conn.fetch("select uid from message")}
            rows = await conn.fetch("select recipient, count(*) from event group by recipient")
            return uids, {r[0]: r[1] for r in rows}
        finally:
            await conn.close()

    return asyncio.run(query())


def test_kill_9_of_the_stage_and_of_serve_loses_nothing(database: str, tmp_path: Path) -> None:
    smtp_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
    env |= {
        "RETURNPATH_SMTP_PORT": str(smtp_port),
        "RETURNPATH_API_PORT": str(api_port),
        "RETURNPATH_API_KEY": "k",
        "RETURNPATH_LOG_FORMAT": "json",
        "RETURNPATH_DATABASE_URL": database,
        "RETURNPATH_SPOOL_DIR": str(tmp_path / "spool"),
    }
    serve = Serve(tmp_path, env)
    acked: dict[int, str] = {}
    try:
        serve.wait_for("ready")
        stage_pid = int(str(serve.wait_for("stage_started")["pid"]))
        acked |= send_many(smtp_port, range(0, 100))
        os.kill(stage_pid, signal.SIGKILL)  # the stage, in the middle of its work
        acked |= send_many(smtp_port, range(100, 200))
        second_stage = int(str(serve.wait_for("stage_started", count=2)["pid"]))  # restarted
        # Now serve itself, with messages in flight: those not answered are not counted.
        killer = threading.Timer(0.3, serve.kill)
        killer.start()
        acked |= send_many(smtp_port, range(200, 400))
        killer.join()
    finally:
        serve.kill()
    assert len(acked) >= 200
    # The orphaned stage stops by itself (else it would go on recording beside the next one).
    deadline = time.monotonic() + 30
    while alive(second_stage) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(second_stage), "the stage outlived its serve"
    serve = Serve(tmp_path, env)
    try:
        serve.wait_for("ready")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            uids, per_recipient = stored(database)
            if set(acked.values()) <= uids:
                break
            time.sleep(0.2)
        missing = set(acked.values()) - uids
        assert not missing, f"{len(missing)} of {len(acked)} acknowledged messages lost"
        doubled = {r: c for r, c in per_recipient.items() if c > 1}
        assert not doubled, f"findings recorded twice: {doubled}"
    finally:
        serve.proc.send_signal(signal.SIGTERM)
        try:
            serve.proc.wait(timeout=30)
        finally:
            serve.kill()
