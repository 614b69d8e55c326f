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

DEFAULT_TIMEOUT = 5.0


def make_engine(
    url: str, busy_timeout: float = 30.0, timeout: float = DEFAULT_TIMEOUT
) -> AsyncEngine:
    """The engine, with every wait on the database bounded by ``timeout``.

    A stalled PostgreSQL (connections open, nothing answered) used to hold a
    request, and the SMTP reply waiting on its commit, for the whole stall: no
    wait had a bound. asyncpg's ``timeout`` bounds a connection's handshake and its
    ``command_timeout`` each statement, on the client side, where a network stall
    is seen (a server-side ``statement_timeout`` never fires when no byte arrives);
    ``pool_timeout`` bounds the wait for a pooled connection when all are stuck.
    """
    if url.startswith("sqlite"):
        # (No pool_timeout: an in-memory database has a StaticPool, which takes none;
        # a write's checkout is within its transaction's bound anyway.)
        engine = create_async_engine(url, connect_args={"timeout": min(busy_timeout, timeout)})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_timeout=timeout,
        connect_args={"timeout": timeout, "command_timeout": timeout},
    )


def make_checks(
    url: sa.URL, busy_timeout: float = 30.0, timeout: float = DEFAULT_TIMEOUT
) -> SuppressionChecks:
    """The pre-send check's backend for this database, chosen once (see store.checks)."""
    if url.get_backend_name() == "postgresql":
        return PostgresChecks(
            url.set(drivername="postgresql").render_as_string(hide_password=False),
            timeout=timeout,
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
    """The database handle every part shares: engine, sessions, the writer lock.

    Every wait on it is bounded by ``timeout`` (settings.db_timeout): a write
    transaction as a whole, from waiting for the writer lock to its commit, and on
    PostgreSQL each connect, pool checkout and statement. Past the bound the
    caller gets ``TimeoutError`` (or SQLAlchemy's error for a refused connection):
    the SMTP client a 451, the API client a 503, soon enough to matter to either.
    """

    def __init__(
        self, url: str, *, busy_timeout: float = 30.0, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self.timeout = timeout
        self.engine = make_engine(url, busy_timeout, timeout)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # The largest id the tables' keys hold (the event feed's cursor is one): 64-bit on
        # both (SQLite's INTEGER; BIGINT on PostgreSQL since migration 0003).
        self.max_row_id = 2**63 - 1
        # How long one SQLite statement may wait for another process's lock.
        self._sqlite_wait = min(busy_timeout, timeout)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # Short-lived cache of per-tenant settings (policy, signing keys); see store.tenants.
        self.cache: TtlCache[tuple[str, int], Any] = TtlCache(ttl=2.0)
        # The pre-send check's own read path: its connections open on first use.
        self.checks = make_checks(self.engine.url, busy_timeout, timeout)

    async def create_schema(self) -> None:
        """Bring the schema to the newest migration (idempotent; safe with several replicas).

        On an engine of its own without the statement bound: a migration of a large
        table may rightly run for minutes, and it runs before anything is accepted.
        """
        engine = make_engine(self.url, self.busy_timeout, timeout=max(self.timeout, 3600.0))
        try:
            async with engine.begin() as conn:
                if not self.is_sqlite:
                    # Replicas starting together must not race each other's DDL.
                    await conn.execute(sa.text("SELECT pg_advisory_xact_lock(727368)"))
                await conn.run_sync(_upgrade)
        finally:
            await engine.dispose()

    @contextlib.asynccontextmanager
    async def _bounded(self) -> AsyncIterator[float]:
        """One bound for one write transaction, the writer lock's wait included: on
        SQLite a writer queued behind others once waited for each of them in turn,
        and then a full busy timeout of its own. Yields the deadline (loop time)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        async with asyncio.timeout_at(deadline):
            lock = self._write_lock
            if lock is None:
                yield deadline
                return
            await lock.acquire()
            try:
                yield deadline
            finally:
                lock.release()

    async def _sqlite_budget(self, conn: AsyncConnection, deadline: float) -> None:
        """Let SQLite's busy wait end by the transaction's deadline.

        A statement's busy wait runs in aiosqlite's thread, out of reach of a
        cancellation: only SQLite's own timeout ends it. When the writer lock took
        part of the budget, the connection gets what is left (one PRAGMA, no I/O);
        when it took nothing, the connection's timeout already fits.
        """
        left = deadline - asyncio.get_running_loop().time()
        wait = self._sqlite_wait if left >= self._sqlite_wait - 0.01 else max(0.001, left)
        if conn.info.get("busy_wait", self._sqlite_wait) != wait:
            await conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            conn.info["busy_wait"] = wait

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, committed on exit, rolled back on error."""
        async with self._bounded() as deadline, self.sessions() as session, session.begin():
            if self.is_sqlite:
                await self._sqlite_budget(await session.connection(), deadline)
            yield session

    @contextlib.asynccontextmanager
    async def write_core(self) -> AsyncIterator[AsyncConnection]:
        """Like ``write`` but a bare connection: the hot path needs no ORM session."""
        async with self._bounded() as deadline, self.engine.begin() as conn:
            if self.is_sqlite:
                await self._sqlite_budget(conn, deadline)
            yield conn

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def ping(self, within: float | None = None) -> str | None:
        """Why the database is not ready, or None when it answers within ``within``
        seconds (default: the store's bound)."""
        bound = self.timeout if within is None else within
        try:
            async with asyncio.timeout(bound), self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except TimeoutError:
            return f"the database did not answer within {bound:g} s"
        except Exception as exc:
            return f"the database is unreachable: {type(exc).__name__}"
        return None

    async def close(self) -> None:
        await self.checks.close()
        await self.engine.dispose()
