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

import asyncpg
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


def make_engine(url: str, busy_timeout: float = 30.0) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": busy_timeout})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


CHECK_POOL_SIZE = 8  # concurrent pre-send check statements per process


class _CheckConnection(asyncpg.Connection):
    def get_reset_query(self) -> str:
        # Only single SELECTs run on the check pool, leaving no session state: skip
        # the reset round trip asyncpg makes on every release (as costly as the lookup).
        return ""


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
        self._check_pool: Any = None  # asyncpg.Pool for store.checks, made on first use
        self._check_pool_lock = asyncio.Lock()
        self._sqlite_readers: asyncio.Queue[Any] | None = None  # aiosqlite, for store.checks
        self._sqlite_opened: list[Any] = []

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

    async def check_pool(self) -> Any:
        """PostgreSQL only: the asyncpg pool of the pre-send check (see store.checks).

        Apart from the engine's pool because its sessions plan differently
        (generic plans); asyncpg's pool replaces broken connections itself.
        """
        if self._check_pool is None:
            async with self._check_pool_lock:
                if self._check_pool is None:
                    dsn = self.engine.url.set(drivername="postgresql").render_as_string(
                        hide_password=False
                    )
                    self._check_pool = await asyncpg.create_pool(
                        dsn,
                        # Opened together: a connection made while requests wait costs them
                        # its handshake (tens of ms in the open-loop p99).
                        min_size=CHECK_POOL_SIZE // 2,
                        max_size=CHECK_POOL_SIZE,
                        connection_class=_CheckConnection,
                        # UTC: the bulk check's answers are written by the server (store.checks)
                        server_settings={
                            "plan_cache_mode": "force_generic_plan",
                            "TimeZone": "UTC",
                        },
                    )
        return self._check_pool

    @property
    def sqlite_file(self) -> str | None:
        """The database file, when this is a SQLite store on a file (not in memory)."""
        name = self.engine.url.database if self.is_sqlite else None
        return name if name and name != ":memory:" and not name.startswith("file:") else None

    @contextlib.asynccontextmanager
    async def sqlite_reader(self) -> AsyncIterator[Any]:
        """SQLite only: a read-only aiosqlite connection of the pre-send check (store.checks).

        Up to ``CHECK_POOL_SIZE`` of them, opened on demand and kept: in WAL mode
        readers never wait for the writer, and each has its own thread.
        """
        import aiosqlite

        if self._sqlite_readers is None:
            self._sqlite_readers = asyncio.Queue()
        readers = self._sqlite_readers
        if readers.empty() and len(self._sqlite_opened) < CHECK_POOL_SIZE:
            conn = await aiosqlite.connect(self.sqlite_file or "", timeout=self.busy_timeout)
            await conn.execute("PRAGMA query_only = ON")
            self._sqlite_opened.append(conn)
            readers.put_nowait(conn)
        conn = await readers.get()
        try:
            yield conn
        finally:
            readers.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._sqlite_opened:
            await conn.close()
        self._sqlite_opened.clear()
        self._sqlite_readers = None
        if self._check_pool is not None:
            await self._check_pool.close()
            self._check_pool = None
        await self.engine.dispose()
