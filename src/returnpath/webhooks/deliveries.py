"""The delivery rows: fan-out from the event table, claims, outcomes, replay, the attempts list.

Source of the fan-out: the ``event`` table, written in the same transaction as
the outbox rows (store.ingest) and read with the same body (event_body), so a
webhook carries byte for byte what RabbitMQ carries. The outbox itself is
written only when a broker is configured, and its rows are the relay's to mark;
the event table exists always and is never updated or deleted, which lets the
fan-out keep a cursor of its own.

A cursor over ids alone would lose events on PostgreSQL: ids are taken at
insert, commits land in another order, so id 11 may be visible while id 10 is
still in flight. The cursor therefore advances only over ids without a gap
below them; a gap older than ``GAP_WAIT`` (longer than any write transaction
may last: store.db bounds them) is a rolled-back insert and is passed.
Rows above a gap are fanned out at once and again on the next passes until
the cursor passes them; the unique (endpoint, event) makes that harmless.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from returnpath.store.db import Store
from returnpath.store.event_body import FIELDS, event_body
from returnpath.store.models import (
    Event,
    Message,
    Tenant,
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)

EVENTS: sa.Table = Event.__table__  # type: ignore[attr-defined]
MESSAGES: sa.Table = Message.__table__  # type: ignore[attr-defined]
TENANTS: sa.Table = Tenant.__table__  # type: ignore[attr-defined]
ENDPOINTS: sa.Table = WebhookEndpoint.__table__  # type: ignore[attr-defined]
DELIVERIES: sa.Table = WebhookDelivery.__table__  # type: ignore[attr-defined]
ATTEMPTS: sa.Table = WebhookAttempt.__table__  # type: ignore[attr-defined]
CURSORS: sa.Table = WebhookCursor.__table__  # type: ignore[attr-defined]

CURSOR = "fanout"
FANOUT_BATCH = 1000
#: seconds a gap in the event ids may be an uncommitted transaction
GAP_WAIT = 120.0
#: an endpoint failing this long is disabled
DISABLE_AFTER = timedelta(days=3)


def _insert(store: Store, table: sa.Table) -> Any:
    return sqlite.insert(table) if store.is_sqlite else postgresql.insert(table)


_PENDING_COLUMNS = [
    "endpoint_id",
    "event_id",
    "event_uid",
    "state",
    "attempts",
    "created_at",
    "next_at",
]


def _pending_rows(endpoint_id: Any, now: datetime) -> Any:
    """SELECT of new pending delivery rows (in ``_PENDING_COLUMNS`` order) from events."""
    return sa.select(
        endpoint_id,
        EVENTS.c.id,
        EVENTS.c.uid,
        sa.literal("pending"),
        sa.literal(0),
        sa.literal(now, DELIVERIES.c.created_at.type),
        sa.literal(now, DELIVERIES.c.next_at.type),
    )


def _kind_matches(kinds: Any, kind: Any) -> Any:
    """The endpoint's filter (space-separated kinds, '' for all) accepts the event's kind."""
    return sa.or_(kinds == "", (" " + kinds + " ").like("% " + kind + " %"))


class Fanout:
    """Turns committed events into pending deliveries, one per matching enabled endpoint."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._gaps: dict[int, float] = {}  # first id of a gap -> when it was first seen

    async def run_once(self) -> int:
        """One pass; returns how many events it read (a full batch: call again at once)."""
        if not await self._anything_new():
            return 0  # idle: no writer-lock turn (on SQLite the stage's commits share it)
        now = utcnow()
        async with self.store.write_core() as conn:
            cursor = (
                await conn.execute(sa.select(CURSORS.c.event_id).where(CURSORS.c.name == CURSOR))
            ).scalar_one_or_none()
            if cursor is None:
                # First start: events from before webhooks existed are not pushed (replay can).
                top = (await conn.execute(sa.select(sa.func.max(EVENTS.c.id)))).scalar() or 0
                await conn.execute(sa.insert(CURSORS).values(name=CURSOR, event_id=top))
                return 0
            ids = list(
                (
                    await conn.execute(
                        sa.select(EVENTS.c.id)
                        .where(EVENTS.c.id > cursor)
                        .order_by(EVENTS.c.id)
                        .limit(FANOUT_BATCH)
                    )
                ).scalars()
            )
            if not ids:
                return 0
            await conn.execute(self._fan_statement(cursor, ids[-1], now))
            advanced = self._advance(cursor, ids)
            if advanced != cursor:
                await conn.execute(
                    sa.update(CURSORS).where(CURSORS.c.name == CURSOR).values(event_id=advanced)
                )
        return len(ids)

    async def _anything_new(self) -> bool:
        cursor = sa.select(CURSORS.c.event_id).where(CURSORS.c.name == CURSOR).scalar_subquery()
        query = sa.select(EVENTS.c.id).where(EVENTS.c.id > sa.func.coalesce(cursor, -1)).limit(1)
        async with self.store.read() as session:
            return (await session.execute(query)).first() is not None

    def _fan_statement(self, after: int, upto: int, now: datetime) -> Any:
        joined = EVENTS.join(ENDPOINTS, ENDPOINTS.c.tenant_id == EVENTS.c.tenant_id)
        source = _pending_rows(ENDPOINTS.c.id, now).select_from(joined)
        source = source.where(
            EVENTS.c.id > after,
            EVENTS.c.id <= upto,
            ENDPOINTS.c.enabled.is_(True),
            _kind_matches(ENDPOINTS.c.kinds, EVENTS.c.kind),
        )
        return (
            _insert(self.store, DELIVERIES)
            .from_select(_PENDING_COLUMNS, source)
            .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        )

    def _advance(self, cursor: int, ids: Sequence[int]) -> int:
        """The new cursor: past every id without an unexplained gap below it."""
        clock = time.monotonic()
        expected = cursor + 1
        for event_id in ids:
            if event_id != expected:
                seen = self._gaps.setdefault(expected, clock)
                if clock - seen < GAP_WAIT:
                    break
                self._gaps.pop(expected, None)
            cursor = event_id
            expected = event_id + 1
        for start in [g for g in self._gaps if g <= cursor]:
            del self._gaps[start]
        return cursor


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    endpoint_id: str
    event_uid: str
    attempts: int
    first_failed_at: datetime | None
    body: bytes


async def claim(store: Store, endpoint_id: str, limit: int, lease: float) -> list[Claimed]:
    """Take up to ``limit`` due deliveries of one endpoint, hidden for ``lease`` seconds.

    The lease is what makes a crash harmless: a delivery whose try never
    reported back (the process was killed) is due again when it ends.
    """
    now = utcnow()
    due = (
        sa.select(DELIVERIES.c.id)
        .where(
            DELIVERIES.c.endpoint_id == endpoint_id,
            DELIVERIES.c.state == "pending",
            DELIVERIES.c.next_at <= now,
        )
        .order_by(DELIVERIES.c.next_at)
        .limit(limit)
    )
    if not store.is_sqlite:
        due = due.with_for_update(skip_locked=True)
    async with store.write_core() as conn:
        ids = list((await conn.execute(due)).scalars())
        if not ids:
            return []
        await conn.execute(
            sa.update(DELIVERIES)
            .where(DELIVERIES.c.id.in_(ids))
            .values(next_at=now + timedelta(seconds=lease))
        )
        rows = (await conn.execute(_with_bodies(DELIVERIES.c.id.in_(ids)))).all()
    return [
        Claimed(
            row.id,
            row.endpoint_id,
            row.event_uid,
            row.attempts,
            row.first_failed_at,
            _body(row._mapping),
        )
        for row in rows
    ]


def _with_bodies(condition: Any) -> Any:
    return (
        sa.select(
            DELIVERIES.c.id,
            DELIVERIES.c.endpoint_id,
            DELIVERIES.c.event_uid,
            DELIVERIES.c.attempts,
            DELIVERIES.c.first_failed_at,
            EVENTS.c.uid,
            EVENTS.c.created_at,
            *[EVENTS.c[name] for name in FIELDS],
            MESSAGES.c.uid.label("message_uid"),
            TENANTS.c.name.label("tenant_name"),
        )
        .select_from(
            DELIVERIES.join(EVENTS, EVENTS.c.id == DELIVERIES.c.event_id)
            .join(MESSAGES, MESSAGES.c.id == EVENTS.c.message_id)
            .join(TENANTS, TENANTS.c.id == EVENTS.c.tenant_id)
        )
        .where(condition)
        .order_by(DELIVERIES.c.next_at, DELIVERIES.c.id)
    )


def _body(row: Any) -> bytes:
    """Exactly the outbox's body for the event (store.ingest writes it the same way)."""
    document = event_body(row, row["tenant_name"], row["message_uid"])
    return json.dumps(document, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one try gave; ``ok`` ends the delivery, ``gone`` (410) disables the endpoint."""

    claimed: Claimed
    at: datetime
    outcome: str
    latency_ms: int
    response_code: int | None = None
    response_body: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "delivered"

    @property
    def gone(self) -> bool:
        return self.response_code == 410


@dataclass(frozen=True, slots=True)
class Next:
    """The delivery's state after a failed try: when again, or failed for good."""

    state: str
    next_at: datetime


async def record(
    store: Store, outcomes: Sequence[Outcome], next_of: dict[int, Next]
) -> list[tuple[str, str]]:
    """Write the tries of a batch in one transaction; returns (endpoint, why) disabled."""
    disabled: list[tuple[str, str]] = []
    async with store.write_core() as conn:
        await conn.execute(
            sa.insert(ATTEMPTS),
            [
                {
                    "delivery_id": o.claimed.delivery_id,
                    "endpoint_id": o.claimed.endpoint_id,
                    "at": o.at,
                    "outcome": o.outcome,
                    "latency_ms": o.latency_ms,
                    "response_code": o.response_code,
                    "response_body": o.response_body,
                    "error": o.error,
                }
                for o in outcomes
            ],
        )
        delivered = [o.claimed.delivery_id for o in outcomes if o.ok]
        if delivered:
            await conn.execute(
                sa.update(DELIVERIES)
                .where(DELIVERIES.c.id.in_(delivered))
                .values(state="delivered", attempts=DELIVERIES.c.attempts + 1)
            )
        for o in outcomes:
            if o.ok:
                continue
            after = next_of[o.claimed.delivery_id]
            await conn.execute(
                sa.update(DELIVERIES)
                .where(DELIVERIES.c.id == o.claimed.delivery_id)
                .values(
                    state=after.state,
                    next_at=after.next_at,
                    attempts=DELIVERIES.c.attempts + 1,
                    first_failed_at=sa.func.coalesce(DELIVERIES.c.first_failed_at, o.at),
                )
            )
        succeeded = {o.claimed.endpoint_id for o in outcomes if o.ok}
        if succeeded:
            await conn.execute(
                sa.update(ENDPOINTS)
                .where(ENDPOINTS.c.id.in_(succeeded), ENDPOINTS.c.failing_since.is_not(None))
                .values(failing_since=None)
            )
        failing = {o.claimed.endpoint_id: o for o in outcomes if not o.ok}
        for endpoint_id, o in failing.items():
            if endpoint_id in succeeded:
                continue
            why = "the endpoint answered 410 Gone" if o.gone else None
            since = (
                await conn.execute(
                    sa.select(ENDPOINTS.c.failing_since, ENDPOINTS.c.enabled).where(
                        ENDPOINTS.c.id == endpoint_id
                    )
                )
            ).first()
            if since is None or not since.enabled:
                continue
            if since.failing_since is None:
                values: dict[str, Any] = {"failing_since": o.at}
            else:
                values = {}
                if o.at - since.failing_since >= DISABLE_AFTER:
                    why = why or "failing for 3 days"
            if why:
                values.update(enabled=False, disabled_reason=why)
                disabled.append((endpoint_id, why))
            if values:
                await conn.execute(
                    sa.update(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id).values(**values)
                )
    return disabled


async def replay(
    store: Store,
    tenant_id: int,
    endpoint: WebhookEndpoint,
    since: datetime | None,
    until: datetime | None,
    kinds: Sequence[str] | None,
) -> int:
    """Queue the tenant's stored events again (same ids); returns how many."""
    now = utcnow()
    conditions = [
        EVENTS.c.tenant_id == tenant_id,
        _kind_matches(sa.literal(endpoint.kinds), EVENTS.c.kind),
    ]
    if since is not None:
        conditions.append(EVENTS.c.created_at >= since)
    if until is not None:
        conditions.append(EVENTS.c.created_at < until)
    if kinds:
        conditions.append(EVENTS.c.kind.in_(list(kinds)))
    source = _pending_rows(sa.literal(endpoint.id), now).where(*conditions)
    insert = _insert(store, DELIVERIES).from_select(_PENDING_COLUMNS, source)
    statement = insert.on_conflict_do_update(
        index_elements=["endpoint_id", "event_id"],
        set_={"state": "pending", "next_at": now, "first_failed_at": None},
    )
    async with store.write_core() as conn:
        result = await conn.execute(statement)
    return int(result.rowcount or 0)


async def attempts(
    store: Store, endpoint_id: str, limit: int, before: int | None
) -> list[dict[str, Any]]:
    """The newest tries first, each with its delivery's event id and state."""
    query = (
        sa.select(
            ATTEMPTS.c.id,
            ATTEMPTS.c.at,
            ATTEMPTS.c.outcome,
            ATTEMPTS.c.latency_ms,
            ATTEMPTS.c.response_code,
            ATTEMPTS.c.response_body,
            ATTEMPTS.c.error,
            DELIVERIES.c.event_uid,
            DELIVERIES.c.state,
            DELIVERIES.c.attempts,
            DELIVERIES.c.next_at,
        )
        .select_from(ATTEMPTS.join(DELIVERIES, DELIVERIES.c.id == ATTEMPTS.c.delivery_id))
        .where(ATTEMPTS.c.endpoint_id == endpoint_id)
        .order_by(ATTEMPTS.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(ATTEMPTS.c.id < before)
    async with store.read() as session:
        return [dict(row._mapping) for row in await session.execute(query)]


async def pending_count(store: Store, endpoint_id: str | None = None) -> int:
    query = (
        sa.select(sa.func.count()).select_from(DELIVERIES).where(DELIVERIES.c.state == "pending")
    )
    if endpoint_id is not None:
        query = query.where(DELIVERIES.c.endpoint_id == endpoint_id)
    async with store.read() as session:
        return int((await session.execute(query)).scalar() or 0)
