"""Engine and session set-up for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL``: we answer ``250`` only after
a commit, so the commit must survive a power cut, not just a process crash.
SQLite allows one writer at a time; ``Store.write_lock`` serialises writers
in-process instead of letting them spin on ``SQLITE_BUSY``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from returnpath.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from returnpath.store.cache import TtlCache
from returnpath.store.checks import SuppressionChecks
from returnpath.store.checks_postgres import PostgresChecks
from returnpath.store.checks_sqlite import SqliteChecks


def make_engine(url: str, busy_timeout: float = 30.0) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": busy_timeout})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_checks(url: sa.URL, busy_timeout: float = 30.0) -> SuppressionChecks:
    """The pre-send check's backend for this database, chosen once (see store.checks)."""
    if url.get_backend_name() == "postgresql":
        return PostgresChecks(
            url.set(drivername="postgresql").render_as_string(hide_password=False)
        )
    path = sqlite_file(url)
    if path is None:
        # Each of the check's own connections would open its own, empty database.
        raise ValueError(f"SQLite needs a database file, not {url.database!r}")
    return SqliteChecks(path, busy_timeout=busy_timeout)


def sqlite_file(url: sa.URL) -> str | None:
    """The database file of a SQLite URL (None: in memory, or a URI)."""
    name = url.database
    return name if name and name != ":memory:" and not name.startswith("file:") else None


MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Store:
    """The database handle every part shares: engine, sessions, the writer lock."""

    def __init__(self, url: str, *, busy_timeout: float = 30.0) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self.engine = make_engine(url, busy_timeout)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # Short-lived cache of per-tenant settings (policy, signing keys); see store.tenants.
        self.cache: TtlCache[tuple[str, int], Any] = TtlCache(ttl=2.0)
        # The pre-send check's own read path: its connections open on first use.
        self.checks = make_checks(self.engine.url, busy_timeout)

    async def create_schema(self) -> None:
        """Bring the schema to the newest migration (idempotent; safe with several replicas)."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                # Replicas starting together must not race each other's DDL.
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(727368)"))
            await conn.run_sync(_upgrade)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, committed on exit, rolled back on error."""
        lock = self._write_lock
        if lock is not None:
            await lock.acquire()
        try:
            async with self.sessions() as session, session.begin():
                yield session
        finally:
            if lock is not None:
                lock.release()

    @contextlib.asynccontextmanager
    async def write_core(self) -> AsyncIterator[AsyncConnection]:
        """Like ``write`` but a bare connection: the hot path needs no ORM session."""
        lock = self._write_lock
        if lock is not None:
            await lock.acquire()
        try:
            async with self.engine.begin() as conn:
                yield conn
        finally:
            if lock is not None:
                lock.release()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.checks.close()
        await self.engine.dispose()
