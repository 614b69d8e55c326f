"""The pre-send check: "may I still mail these addresses?", the query every send waits for.

This is the one read path that sits in front of every message the sending side
sends, so it skips the ORM and speaks to the driver:

- PostgreSQL: its own small asyncpg pool (``Store.check_pool``) whose sessions
  use ``plan_cache_mode = force_generic_plan``. With a custom plan PostgreSQL
  re-plans every call and, for a 10,000-element array, estimates thousands of
  matches and picks a parallel sequential scan of the whole table (110–320 ms
  on a million rows, measured); the generic plan is always the unique index,
  which is right for a point lookup whatever the array's size, and is planned
  once. It joins the asked addresses to the table through a hash index on the
  address (migration 0002): a hash probe costs about a third less than a
  descent of the text B-tree (4 × 2,500 addresses: 22 ms against 33 ms). The
  addresses travel as one text split by the server: asyncpg encodes
  a 2,500-element array in ~2.3 ms, a joined string in ~0.4 ms (an address
  with a line break in it, a quoted local part, goes as an array).
- SQLite: a few read-only aiosqlite connections of its own (``Store.sqlite_reader``;
  WAL readers never wait for the writer), the addresses passed as one JSON
  array. An in-memory database (tests, experiments) goes through SQLAlchemy
  Core instead.

A large check is cut into slices (``slice_size``) that run on several
connections at once, so both cores probe the index (10,000 addresses on
PostgreSQL: ~80 ms in one statement, ~35 ms in four; bench/api_latency.py).
On PostgreSQL slices of 1,250 (eight, the check pool's size, for 10,000
addresses) have the same median as slices of 2,500 but no tail: over 150
calls of 10,000, the slowest took 46–51 ms against 92–109 ms. On SQLite,
where each statement also costs a thread hop, 2,500 stay faster (p50 43
against 52 ms).

Two row shapes: ``Hit`` (every column and the event's public id, for a GET)
and a brief plain row (what a bulk answer shows, without the event join;
positions ``ADDRESS`` … ``EXPIRES_AT``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

import asyncpg
import orjson
import sqlalchemy as sa

from returnpath.store.db import Store
from returnpath.store.models import Event, Suppression, utcnow

SUPPRESSION: sa.Table = Suppression.__table__  # type: ignore[attr-defined]
EVENT: sa.Table = Event.__table__  # type: ignore[attr-defined]

SLICE = 2500  # addresses per statement (SQLite); the slices of one check run concurrently
PG_SLICE = 1250  # the same on PostgreSQL


def slice_size(store: Store) -> int:
    """Addresses per statement of a large check on this store."""
    return SLICE if store.is_sqlite else PG_SLICE


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


_FULL = "s.address, s.stream, s.kind, s.reason, s.source, s.verified, s.created_at, s.expires_at, s.note, e.uid"
_BRIEF = "s.address, s.stream, s.kind, s.reason, s.created_at, s.expires_at"
# What a check's rows hold: every column and the event's id (a GET), the brief
# columns (ranked here: SQLite in memory), or (address, answer members) (a bulk check).
Shape = Literal["full", "brief", "answer"]
# Positions in a brief row (plain tuples: a bulk check matches thousands of rows).
ADDRESS, STREAM, KIND, REASON, CREATED_AT, EXPIRES_AT = range(6)


# The members ``answer_members`` writes, written by the database instead: orjson's
# RFC 3339 form of a UTC time, microseconds only when there are any. PostgreSQL
# formats a timestamptz (the check pool's sessions are in UTC); SQLite holds the
# text SQLAlchemy wrote, naive UTC with six digits of microseconds.
_STAMP = {
    "postgresql": "replace(to_char({0}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')",
    "sqlite": "replace(replace({0}, ' ', 'T'), '.000000', '')",
}
_QUOTE = {"postgresql": "to_json({0})::text", "sqlite": "json_quote({0})"}


def _answer_columns(dialect: str) -> str:
    stamp, quote = _STAMP[dialect].format, _QUOTE[dialect].format
    return (
        f"""'"kind":' || {quote("s.kind")} || ',"reason":' || {quote("s.reason")}"""
        f""" || ',"stream":' || CASE WHEN s.stream = '' THEN 'null' ELSE {quote("s.stream")} END"""
        f""" || ',"since":"' || {stamp("s.created_at")} || '+00:00"'"""
        """ || ',"until":' || CASE WHEN s.expires_at IS NULL THEN 'null'"""
        f""" ELSE '"' || {stamp("s.expires_at")} || '+00:00"' END"""
    )


@functools.cache
def _sql(dialect: str, *, shape: Shape, with_stream: bool, joined: bool = True) -> str:
    """The check's statement. ``"answer"``: one row per suppressed address, (address,
    answer members), of the suppression ``first`` picks: permanent before expiring,
    then the oldest (PostgreSQL: DISTINCT ON; SQLite: the row of the group's min())."""
    answer = shape == "answer"
    columns = _FULL if shape == "full" else _BRIEF
    event = " LEFT JOIN event e ON e.id = s.event_id" if shape == "full" else ""
    if dialect == "postgresql":
        if answer:
            columns = f"DISTINCT ON (s.address) s.address, {_answer_columns(dialect)}"
        # A join on the asked addresses: one probe of the hash index per address.
        asked = "string_to_array($2::text, E'\\n')" if joined else "$2::varchar[]"
        sql = (
            f"SELECT {columns} FROM unnest({asked}) AS q(a)"
            f" JOIN suppression s ON s.address = q.a{event}"
            " WHERE s.tenant_id = $1 AND (s.expires_at IS NULL OR s.expires_at > $3)"
        )
        if with_stream:
            sql += " AND s.stream = ANY($4::varchar[])"
        if answer:
            sql += " ORDER BY s.address, s.expires_at IS NOT NULL, s.created_at"
        return sql
    if answer:
        columns = (
            f"s.address, {_answer_columns(dialect)},"
            " min((s.expires_at IS NOT NULL) || s.created_at)"
        )
    sql = (
        f"SELECT {columns} FROM suppression s{event}"
        " WHERE s.tenant_id = ? AND s.address IN (SELECT value FROM json_each(?))"
        " AND (s.expires_at IS NULL OR s.expires_at > ?)"
    )
    if with_stream:
        sql += " AND s.stream IN (?, ?)"
    return sql + " GROUP BY s.address" if answer else sql


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
    for row in await _rows(store, tenant_id, addresses, stream, now, "full"):
        hit = Hit._make(row)
        found.setdefault(hit.address, []).append(hit)
    return found


async def answers(
    store: Store,
    tenant_id: int,
    addresses: Sequence[str],
    stream: str | None,
    now: datetime | None = None,
) -> dict[str, str]:
    """What a bulk check says of each suppressed address: the JSON members after
    ``"suppressed":true,`` (kind, reason, stream, since, until) of the one
    suppression ``first`` would pick. An absent key: mailable.

    The database picks that row and writes those members (``_answer_columns``):
    a bulk check of 10,000 addresses matches thousands of rows, and decoding
    their timestamps into datetimes, ranking them and encoding them again cost
    this process more than the lookup cost the database. An in-memory SQLite
    database (SQLAlchemy Core rows) is answered here by ``answer_members``; a
    test holds every database's text to it.
    """
    if not store.is_sqlite or store.sqlite_file is not None:
        rows = await _rows(store, tenant_id, addresses, stream, now, "answer")
        return {row[0]: row[1] for row in rows}
    best: dict[str, Sequence[Any]] = {}
    for row in await _rows(store, tenant_id, addresses, stream, now, "brief"):
        seen = best.get(row[ADDRESS])
        if seen is None or _rank(row[EXPIRES_AT], row[CREATED_AT]) < _rank(
            seen[EXPIRES_AT], seen[CREATED_AT]
        ):
            best[row[ADDRESS]] = row
    return {address: answer_members(row) for address, row in best.items()}


def answer_members(row: Sequence[Any]) -> str:
    """The members of a suppressed address's bulk answer, from a brief row."""
    return orjson.dumps(
        {
            "kind": row[KIND],
            "reason": row[REASON],
            "stream": row[STREAM] or None,
            "since": row[CREATED_AT],
            "until": row[EXPIRES_AT],
        }
    ).decode()[1:-1]


def first(hits: list[Hit]) -> Hit:
    """The suppression to report when several streams stop an address: permanent first, then oldest."""
    if len(hits) == 1:
        return hits[0]
    return min(hits, key=lambda h: _rank(h.expires_at, h.created_at))


def _rank(expires_at: datetime | None, created_at: datetime) -> tuple[bool, datetime]:
    return (expires_at is not None, created_at)


async def _rows(
    store: Store,
    tenant_id: int,
    addresses: Sequence[str],
    stream: str | None,
    now: datetime | None,
    shape: Shape,
) -> list[Any]:
    unique = list(dict.fromkeys(addresses))
    if not unique:
        return []
    now = now or utcnow()
    streams = None if stream is None else ["", stream]
    if not store.is_sqlite:
        fetch = _pg_fetch(await store.check_pool(), tenant_id, streams, now, shape)
    elif store.sqlite_file is not None:
        fetch = _sqlite_fetch(store, tenant_id, streams, now, shape)
    else:  # in memory: one shared connection, so one slice after the other
        fetch = _core_fetch(store, tenant_id, streams, now, shape == "brief")
        return [
            row for i in range(0, len(unique), SLICE) for row in await fetch(unique[i : i + SLICE])
        ]
    size = slice_size(store)
    if len(unique) <= size:
        return await fetch(unique)
    parts = await asyncio.gather(
        *(fetch(unique[i : i + size]) for i in range(0, len(unique), size))
    )
    return [row for part in parts for row in part]


Fetch = Callable[[list[str]], Awaitable[list[Any]]]
_CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.AdminShutdownError,
    # An idle connection that received the server's "terminating connection" notice
    # fails its next query this way (seen when PostgreSQL drops every backend).
    asyncpg.InternalClientError,
    OSError,
)


def _pg_fetch(
    pool: Any,
    tenant_id: int,
    streams: list[str] | None,
    now: datetime,
    shape: Shape,
) -> Fetch:
    extra = () if streams is None else (streams,)

    async def fetch(chunk: list[str]) -> list[Any]:
        joined = "\n".join(chunk)
        one_text = joined.count("\n") == len(chunk) - 1
        sql = _sql("postgresql", shape=shape, with_stream=bool(extra), joined=one_text)
        asked: str | list[str] = joined if one_text else chunk
        try:
            return await pool.fetch(sql, tenant_id, asked, now, *extra)
        except _CONNECTION_LOST:
            # The server restarted or dropped us: every pooled connection is suspect.
            # Replace them all and ask once more (a SELECT is safe to repeat); a
            # second failure means the database is down, and the caller says so.
            await pool.expire_connections()
            return await pool.fetch(sql, tenant_id, asked, now, *extra)

    return fetch


def _sqlite_fetch(
    store: Store,
    tenant_id: int,
    streams: list[str] | None,
    now: datetime,
    shape: Shape,
) -> Fetch:
    """Straight through aiosqlite: SQLAlchemy's connection, statement and row layers cost
    more than SQLite's index lookup. Values are converted as the ORM columns would be."""
    # Stored as SQLAlchemy writes DateTime on SQLite: naive UTC, microseconds always.
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    sql = _sql("sqlite", shape=shape, with_stream=streams is not None)
    convert = _CONVERT[shape]

    async def fetch(chunk: list[str]) -> list[Any]:
        params = [tenant_id, orjson.dumps(chunk).decode(), stamp, *(streams or ())]
        async with store.sqlite_reader() as conn, conn.execute(sql, params) as cursor:
            return [convert(r) for r in await cursor.fetchall()]

    return fetch


def _as_is(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return row


def _utc(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def _sqlite_full(row: tuple[Any, ...]) -> tuple[Any, ...]:
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


def _sqlite_brief(row: tuple[Any, ...]) -> tuple[Any, ...]:
    address, stream, kind, reason, created, expires = row
    return (address, stream, kind, reason, _utc(created), _utc(expires))


_CONVERT: dict[Shape, Callable[[tuple[Any, ...]], tuple[Any, ...]]] = {
    "full": _sqlite_full,
    "brief": _sqlite_brief,
    "answer": _as_is,
}


def _core_statement(brief: bool, with_stream: bool) -> sa.Select[Any]:
    s, e = SUPPRESSION, EVENT
    columns = [s.c.address, s.c.stream, s.c.kind, s.c.reason]
    if not brief:
        columns += [s.c.source, s.c.verified]
    columns += [s.c.created_at, s.c.expires_at]
    if not brief:
        columns += [s.c.note, e.c.uid]
    q = (
        sa.select(*columns)
        .select_from(s if brief else s.outerjoin(e, e.c.id == s.c.event_id))
        .where(
            s.c.tenant_id == sa.bindparam("tenant_id"),
            s.c.address.in_(sa.bindparam("addresses", expanding=True)),
            sa.or_(s.c.expires_at.is_(None), s.c.expires_at > sa.bindparam("now")),
        )
    )
    if with_stream:
        q = q.where(s.c.stream.in_(sa.bindparam("streams", expanding=True)))
    return q


_CORE = {(b, w): _core_statement(b, w) for b in (True, False) for w in (True, False)}


def _core_fetch(
    store: Store, tenant_id: int, streams: list[str] | None, now: datetime, brief: bool
) -> Fetch:
    """SQLite in memory: only the engine's own connection sees that database."""
    statement = _CORE[brief, streams is not None]
    base: dict[str, Any] = {"tenant_id": tenant_id, "now": now}
    if streams is not None:
        base["streams"] = streams

    async def fetch(chunk: list[str]) -> list[Any]:
        async with store.engine.connect() as conn:
            result = await conn.execute(statement, {**base, "addresses": chunk})
            return [tuple(r) for r in result.all()]

    return fetch
