"""The importer as an operator runs it: ``returnpath import`` in a real process, a real
database (SQLite file, or the real PostgreSQL), mailboxes the tests fill."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from returnpath.store.db import Store
from tests.importer.dovecot import dovecot  # noqa: F401 (a fixture)
from tests.messages import dsn

DOMAIN = "bounces.example.com"
TABLES = ("message", "event", "suppression", "outbox", "addressstate", "suppressionaudit")


def bounce(n: int) -> bytes:
    """A DSN for recipient ``n``, with its own Message-ID, as a mailbox keeps it."""
    return dsn(f"user{n}@example.org", message_id=f"<dsn-{n}@mx.example.net>")


def write_mbox(path: Path, messages: Iterable[bytes]) -> Path:
    """mboxrd: a From_ line per message, body lines starting with From escaped."""
    with open(path, "wb") as out:
        for raw in messages:
            raw = raw.replace(b"\r\n", b"\n")
            out.write(b"From MAILER-DAEMON Mon Nov 23 10:00:01 2026\n")
            for line in raw.splitlines(keepends=True):
                stripped = line.lstrip(b">")
                out.write(b">" + line if stripped.startswith(b"From ") else line)
            out.write(b"\n" if raw.endswith(b"\n") else b"\n\n")
    return path


def write_maildir(path: Path, messages: Iterable[bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    for n, raw in enumerate(messages):
        sub = "cur" if n % 2 else "new"  # read alike
        flags = ":2,S" if sub == "cur" else ""
        (path / sub / f"{1790000000 + n}.M{n}P1.test{flags}").write_bytes(raw)
    return path


@dataclass
class Database:
    url: str

    def counts(self) -> dict[str, int]:
        async def count() -> dict[str, int]:
            store = Store(self.url)
            try:
                async with store.engine.connect() as conn:
                    return {
                        t: (await conn.execute(sa.text(f"SELECT count(*) FROM {t}"))).scalar_one()
                        for t in TABLES
                    }
            finally:
                await store.close()

        return asyncio.run(count())

    def query(self, sql: str) -> list[Any]:
        async def run() -> list[Any]:
            store = Store(self.url)
            try:
                async with store.engine.connect() as conn:
                    return list((await conn.execute(sa.text(sql))).all())
            finally:
                await store.close()

        return asyncio.run(run())


def _create(url: str) -> None:
    async def create() -> None:
        store = Store(url)
        try:
            await store.create_schema()
        finally:
            await store.close()

    asyncio.run(create())


@pytest.fixture
def db(tmp_path: Path) -> Database:
    url = f"sqlite+aiosqlite:///{tmp_path / 'returnpath.db'}"
    _create(url)
    return Database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Both backends: SQLite always, PostgreSQL when reachable (required in CI)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'returnpath.db'}"
        _create(url)
        yield Database(url)
        return
    import uuid

    import asyncpg

    from tests.services import PG_DSN, require_postgres

    require_postgres()
    name = f"rp_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        _create(f"{base}/{name}")
        yield Database(f"{base}/{name}")
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def environment(db: Database, spool: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
    return env | {
        "RETURNPATH_DATABASE_URL": db.url,
        "RETURNPATH_DOMAINS": DOMAIN,
        "RETURNPATH_SPOOL_DIR": str(spool),
        "RETURNPATH_LOG_FORMAT": "json",
        "RETURNPATH_LOG_LEVEL": "warning",
        **extra,
    }


RETURNPATH_IMPORT = [sys.executable, "-m", "returnpath", "import"]


@dataclass
class Importing:
    db: Database
    spool: Path

    def env(self, **extra: str) -> dict[str, str]:
        return environment(self.db, self.spool, **extra)

    def run(self, *args: str, code: int = 0, **extra: str) -> dict[str, Any]:
        """``returnpath import --json ARGS`` in this process (a new one costs seconds of
        imports here); its summary. Signals and kills use ``popen``."""
        done = _invoke(["import", "--json", *args], self.env(**extra))
        assert done.exit_code == code, f"{done.stderr}{done.stdout}{done.exception!r}"
        summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return summary

    def fails(self, *args: str, **extra: str) -> str:
        """What a refused command says on standard error."""
        done = _invoke(["import", *args], self.env(**extra))
        assert done.exit_code in (1, 2), done.stdout
        return str(done.stderr).strip().splitlines()[-1]  # after the "database: ..." line

    def popen(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*RETURNPATH_IMPORT, "--json", *args],
            env=self.env(**extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def importing(db: Database, tmp_path: Path) -> Importing:
    return Importing(db, tmp_path / "spool")


def findings(summary: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(f["kind"], f["reason"]): f["count"] for f in summary["findings"]}


def _invoke(args: list[str], env: dict[str, str]) -> Any:
    """The command in this process, its logging put back afterwards.

    The command configures structlog and the root logger to write to the standard
    error it sees, which CliRunner replaces with a buffer and closes afterwards; left
    so, every later test's log line would go to a closed file (and fail that test).
    """
    import logging

    import structlog
    from typer.testing import CliRunner

    from returnpath.cli import app

    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return CliRunner().invoke(app, args, env=env)
    finally:
        structlog.configure(**saved)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
