"""The pre-send check: "may I still mail these addresses?", the query every send waits for.

This is the one read path that sits in front of every message the sending side
sends, so it skips the ORM and speaks to the driver:

- PostgreSQL: its own small asyncpg pool (``Store.check_pool``) whose sessions
  use ``plan_cache_mode = force_generic_plan``. With a custom plan PostgreSQL
  re-plans every call and, for a 10,000-element array, estimates thousands of
  matches and picks a parallel sequential scan of the whole table (110–320 ms
  on a million rows, measured); the generic plan is always the unique index,
  which is right for a point lookup whatever the array's size, and is planned
  once. A large check is cut into chunks that run on several connections at
  once, so both cores probe the index (10,000 addresses: ~80 ms in one
  statement, ~35 ms in four; bench/api_latency.py).
- SQLite: a few read-only aiosqlite connections of its own (``Store.sqlite_reader``;
  WAL readers never wait for the writer), the addresses passed as one JSON
  array; slices of a large check run on several of them at once. An in-memory
  database (tests, experiments) goes through SQLAlchemy Core instead.

Rows come back as ``Hit`` tuples with aware UTC datetimes on both backends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from store.db import Store
from store.models import Event, Suppression, utcnow

SUPPRESSION: sa.Table = Suppression.__table__  # type: ignore[attr-defined]
EVENT: sa.Table = Event.__table__  # type: ignore[attr-defined]

PG_CHUNK = 2500  # addresses per statement on PostgreSQL; chunks run concurrently
SQLITE_CHUNK = 5000  # under SQLITE_MAX_VARIABLE_NUMBER (32766) with room to spare


class Hit(NamedTuple):
    """One active suppression of an asked address (a stream of '' applies to every stream)."""

    address: str
    stream: str
    kind: str
    reason: str
    source: str
    verified: bool
    created_at: datetime
    expires_at: datetime | None
    note: str | None
    event: str | None  # public id of the event that caused it


_COLUMNS = "s.address, s.stream, s.kind, s.reason, s.source, s.verified, s.created_at, s.expires_at, s.note, e.uid"


def _pg_check(addresses: str, with_stream: bool) -> str:
    # The event's uid is joined in: a GET answers in one round trip.
    sql = (
        f"SELECT {_COLUMNS} FROM suppression s LEFT JOIN event e ON e.id = s.event_id"
        f" WHERE s.tenant_id = $1 AND s.address = ANY({addresses})"
        " AND (s.expires_at IS NULL OR s.expires_at > $3)"
    )
    return sql + " AND s.stream = ANY($4::varchar[])" if with_stream else sql


# The addresses travel as one text split by the server: asyncpg encodes a
# 2,500-element array in ~2.3 ms, a joined string in ~0.4 ms (measured). An
# address with a line break in it (a quoted local part) goes as an array.
PG_CHECK = {
    (joined, stream): _pg_check(
        "string_to_array($2::text, E'\\n')" if joined else "$2::varchar[]", stream
    )
    for joined in (True, False)
    for stream in (True, False)
}


def _sqlite_statement(with_stream: bool) -> sa.Select[Any]:
    s, e = SUPPRESSION, EVENT
    q = (
        sa.select(
            s.c.address,
            s.c.stream,
            s.c.kind,
            s.c.reason,
            s.c.source,
            s.c.verified,
            s.c.created_at,
            s.c.expires_at,
            s.c.note,
            e.c.uid,
        )
        .select_from(s.outerjoin(e, e.c.id == s.c.event_id))
        .where(
            s.c.tenant_id == sa.bindparam("tenant_id"),
            s.c.address.in_(sa.bindparam("addresses", expanding=True)),
            sa.or_(s.c.expires_at.is_(None), s.c.expires_at > sa.bindparam("now")),
        )
    )
    if with_stream:
        q = q.where(s.c.stream.in_(sa.bindparam("streams", expanding=True)))
    return q


_SQLITE = {True: _sqlite_statement(True), False: _sqlite_statement(False)}


async def active(
    store: Store,
    tenant_id: int,
    addresses: Sequence[str],
    stream: str | None,
    now: datetime | None = None,
) -> dict[str, list[Hit]]:
    """Active suppressions per asked address (normalised addresses; absent key: mailable).

    With a ``stream``, suppressions of that stream and of every stream ('') count;
    without, all of them.
    """
    found: dict[str, list[Hit]] = {}
    for row in await active_rows(store, tenant_id, addresses, stream, now):
        hit = Hit._make(row)
        found.setdefault(hit.address, []).append(hit)
    return found


async def first_active(
    store: Store,
    tenant_id: int,
    addresses: Sequence[str],
    stream: str | None,
    now: datetime | None = None,
) -> dict[str, Sequence[Any]]:
    """The one suppression to report per address (as ``first`` picks it), as a plain
    row in ``Hit``'s column order: a bulk check matches thousands, and a named tuple
    per row cost more than the lookup."""
    best: dict[str, Sequence[Any]] = {}
    for row in await active_rows(store, tenant_id, addresses, stream, now):
        seen = best.get(row[0])
        if seen is None or _rank(row) < _rank(seen):
            best[row[0]] = row
    return best


def _rank(row: Sequence[Any]) -> tuple[bool, datetime]:
    return (row[EXPIRES_AT] is not None, row[CREATED_AT])


# Positions in a row of ``active_rows`` (the order of ``Hit``).
ADDRESS, STREAM, KIND, REASON = 0, 1, 2, 3
CREATED_AT, EXPIRES_AT = 6, 7


async def active_rows(
    store: Store,
    tenant_id: int,
    addresses: Sequence[str],
    stream: str | None,
    now: datetime | None = None,
) -> list[Any]:
    """The active suppressions of these addresses as driver rows, in ``Hit``'s column order."""
    unique = list(dict.fromkeys(addresses))
    if not unique:
        return []
    now = now or utcnow()
    streams = None if stream is None else ["", stream]
    if not store.is_sqlite:
        return await _pg_rows(store, tenant_id, unique, streams, now)
    if store.sqlite_file is not None:
        return await _sqlite_file_rows(store, tenant_id, unique, streams, now)
    return await _sqlite_rows(store, tenant_id, unique, streams, now)


async def _pg_rows(
    store: Store, tenant_id: int, unique: list[str], streams: list[str] | None, now: datetime
) -> list[Any]:
    pool = await store.check_pool()
    extra = () if streams is None else (streams,)

    async def fetch(chunk: list[str]) -> list[Any]:
        joined = "\n".join(chunk)
        if joined.count("\n") == len(chunk) - 1:
            return list(
                await pool.fetch(PG_CHECK[True, bool(extra)], tenant_id, joined, now, *extra)
            )
        return list(await pool.fetch(PG_CHECK[False, bool(extra)], tenant_id, chunk, now, *extra))

    if len(unique) <= PG_CHUNK:
        return await fetch(unique)
    parts = await asyncio.gather(
        *(fetch(unique[i : i + PG_CHUNK]) for i in range(0, len(unique), PG_CHUNK))
    )
    return [row for part in parts for row in part]


async def _sqlite_rows(
    store: Store, tenant_id: int, unique: list[str], streams: list[str] | None, now: datetime
) -> list[Any]:
    statement = _SQLITE[streams is not None]
    params: dict[str, Any] = {"tenant_id": tenant_id, "now": now}
    if streams is not None:
        params["streams"] = streams
    rows: list[Any] = []
    async with store.engine.connect() as conn:
        for i in range(0, len(unique), SQLITE_CHUNK):
            params["addresses"] = unique[i : i + SQLITE_CHUNK]
            rows.extend((await conn.execute(statement, params)).all())
    return rows


# The addresses travel as one JSON array (json_each), not as thousands of parameters.
_SQLITE_CHECK = (
    f"SELECT {_COLUMNS} FROM suppression s LEFT JOIN event e ON e.id = s.event_id"
    " WHERE s.tenant_id = ? AND s.address IN (SELECT value FROM json_each(?))"
    " AND (s.expires_at IS NULL OR s.expires_at > ?)"
)
SQLITE_CHECK = {False: _SQLITE_CHECK, True: _SQLITE_CHECK + " AND s.stream IN (?, ?)"}


async def _sqlite_file_rows(
    store: Store, tenant_id: int, unique: list[str], streams: list[str] | None, now: datetime
) -> list[Any]:
    """Straight through aiosqlite: SQLAlchemy's connection, statement and row layers cost
    more than SQLite's index lookup. Values are converted as the ORM columns would be."""
    # Stored as SQLAlchemy writes DateTime on SQLite: naive UTC, microseconds always.
    params: list[Any] = [tenant_id, "", now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")]
    if streams is not None:
        params.extend(streams)
    sql = SQLITE_CHECK[streams is not None]

    async def fetch(chunk: list[str]) -> list[Any]:
        chunk_params = [*params]
        chunk_params[1] = orjson.dumps(chunk).decode()
        async with store.sqlite_reader() as conn, conn.execute(sql, chunk_params) as cursor:
            return [_sqlite_row(r) for r in await cursor.fetchall()]

    parts = await asyncio.gather(
        *(fetch(unique[i : i + PG_CHUNK]) for i in range(0, len(unique), PG_CHUNK))
    )
    return [row for part in parts for row in part]


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    address, stream, kind, reason, source, verified, created, expires, note, uid = row
    return (
        address,
        stream,
        kind,
        reason,
        source,
        bool(verified),
        datetime.fromisoformat(created).replace(tzinfo=UTC),
        datetime.fromisoformat(expires).replace(tzinfo=UTC) if expires else None,
        note,
        uid,
    )


def first(hits: list[Hit]) -> Hit:
    """The suppression to report when several streams stop an address: permanent first, then oldest."""
    if len(hits) == 1:
        return hits[0]
    return min(hits, key=_rank)
