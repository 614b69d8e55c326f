"""The pre-send check on SQLite: aiosqlite, read-only connections of its own.

Straight through aiosqlite: SQLAlchemy's connection, statement and row layers
cost more than SQLite's index lookup. Up to ``READERS`` connections, opened
on demand and kept: in WAL mode readers never wait for the writer, and each
has its own thread. The addresses go as one JSON array (``json_each``).
Values are converted as the ORM columns would be: SQLAlchemy writes a
DateTime on SQLite as naive UTC text with six digits of microseconds.

Slices of 2,500: each statement also costs a thread hop, so smaller slices
are slower here (p50 of 10,000 addresses: 43 ms against 52 ms in slices of
1,250).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import orjson

from returnpath.store.checks import (
    EVENT_JOIN,
    FULL_COLUMNS,
    Fetch,
    Shape,
    SlicedChecks,
    Special,
    answer_columns,
)

READERS = 8  # concurrent check statements per process


def _stamp(column: str) -> str:
    return f"replace(replace({column}, ' ', 'T'), '.000000', '')"


def _quote(column: str) -> str:
    return f"json_quote({column})"


@functools.cache
def _sql(shape: Shape, *, with_stream: bool) -> str:
    """``"answer"``: one row per suppressed address, of the suppression ``first``
    picks (permanent before expiring, then the oldest: the row of the group's min())."""
    if shape == "answer":
        columns = (
            f"s.address, {answer_columns(_stamp, _quote)},"
            " min((s.expires_at IS NOT NULL) || s.created_at)"
        )
        event = ""
    else:
        columns, event = FULL_COLUMNS, EVENT_JOIN
    sql = (
        f"SELECT {columns} FROM suppression s{event}"
        " WHERE s.tenant_id = ? AND s.address IN (SELECT value FROM json_each(?))"
        " AND (s.expires_at IS NULL OR s.expires_at > ?)"
    )
    if with_stream:
        sql += " AND s.stream IN (?, ?)"
    return sql + " GROUP BY s.address" if shape == "answer" else sql


def _utc(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def _full(row: Any) -> tuple[Any, ...]:  # a plain tuple (no row_factory)
    address, stream, kind, reason, source, verified, created, expires, note, uid = row
    return (
        address,
        stream,
        kind,
        reason,
        source,
        bool(verified),
        _utc(created),
        _utc(expires),
        note,
        uid,
    )


def _as_is(row: Any) -> tuple[Any, ...]:
    return row  # type: ignore[no-any-return]  # aiosqlite rows are untyped


_CONVERT: dict[Shape, Callable[[Any], tuple[Any, ...]]] = {
    "full": _full,
    "answer": _as_is,
}


class SqliteChecks(SlicedChecks):
    """``SuppressionChecks`` on a SQLite file."""

    slice_size = 2500

    def __init__(self, path: str, *, busy_timeout: float = 30.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._idle: asyncio.Queue[aiosqlite.Connection] | None = None  # made in the loop
        self._opened: list[aiosqlite.Connection] = []

    async def close(self) -> None:
        for conn in self._opened:
            await conn.close()
        self._opened.clear()
        self._idle = None

    def _fetch(self, tenant_id: int, stream: str | None, now: datetime, shape: Shape) -> Fetch:
        # Stored as SQLAlchemy writes DateTime on SQLite: naive UTC, microseconds always.
        stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        streams = () if stream is None else ("", stream)
        sql = _sql(shape, with_stream=bool(streams))
        convert = _CONVERT[shape]

        async def fetch(chunk: list[str]) -> list[Any]:
            params = [tenant_id, orjson.dumps(chunk).decode(), stamp, *streams]
            async with self._reader() as conn, conn.execute(sql, params) as cursor:
                return [convert(r) for r in await cursor.fetchall()]

        return fetch

    async def _special(self, tenant_id: int) -> Special:
        # each EXISTS reads a partial index that holds exactly those rows (same WHERE)
        sql = (
            "SELECT EXISTS (SELECT 1 FROM suppression WHERE tenant_id = ? AND address LIKE '@%'),"
            " EXISTS (SELECT 1 FROM suppression WHERE tenant_id = ? AND address LIKE 'sha256:%')"
        )
        async with self._reader() as conn, conn.execute(sql, (tenant_id, tenant_id)) as cursor:
            row = await cursor.fetchone()
        return Special(bool(row and row[0]), bool(row and row[1]))

    @contextlib.asynccontextmanager
    async def _reader(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._idle is None:
            self._idle = asyncio.Queue()
        idle = self._idle
        if idle.empty() and len(self._opened) < READERS:
            conn = await aiosqlite.connect(self.path, timeout=self.busy_timeout)
            await conn.execute("PRAGMA query_only = ON")
            self._opened.append(conn)
            idle.put_nowait(conn)
        conn = await idle.get()
        try:
            yield conn
        finally:
            idle.put_nowait(conn)
