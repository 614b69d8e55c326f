"""Counts per day, kind and reason; rates against what the sender says it sent.

The thresholds are the ones mailbox providers publish: Gmail and Yahoo ask
bulk senders to stay under a 0.3 % spam-complaint rate; a hard-bounce rate
over 2 % is the usual sign of a stale list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from returnpath.parsers.vocabulary import SENDER_SIDE_REASONS, info
from returnpath.store.db import Store
from returnpath.store.models import Event, SentCount

COMPLAINT_THRESHOLD = 0.003
HARD_BOUNCE_THRESHOLD = 0.02


@dataclass(frozen=True, slots=True)
class Count:
    day: str
    kind: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class Alert:
    reason: str
    explanation: str
    count: int
    last_seen: datetime
    remote_mta: str | None
    diagnostic: str | None


def _day(column: Any) -> sa.ColumnElement[str]:
    # date() exists on both SQLite and PostgreSQL; cast keeps the result a string.
    return sa.cast(sa.func.date(column), sa.String)


async def event_counts(
    store: Store, tenant_id: int, since: datetime, until: datetime, stream: str | None
) -> list[Count]:
    day = _day(col(Event.created_at)).label("day")
    q = (
        select(day, col(Event.kind), col(Event.reason), sa.func.count())
        .where(
            col(Event.tenant_id) == tenant_id,
            col(Event.created_at) >= since,
            col(Event.created_at) < until,
        )
        .group_by(day, col(Event.kind), col(Event.reason))
        .order_by(day)
    )
    if stream is not None:
        q = q.where(col(Event.stream) == stream)
    async with store.read() as session:
        return [Count(str(d)[:10], k, r, int(n)) for d, k, r, n in (await session.execute(q)).all()]


async def sent_counts(
    store: Store, tenant_id: int, since: date, until: date, stream: str | None
) -> dict[str, int]:
    q = select(col(SentCount.day), sa.func.sum(col(SentCount.count))).where(
        col(SentCount.tenant_id) == tenant_id,
        col(SentCount.day) >= since.isoformat(),
        col(SentCount.day) <= until.isoformat(),
    )
    if stream is not None:
        q = q.where(col(SentCount.stream) == stream)
    q = q.group_by(col(SentCount.day))
    async with store.read() as session:
        return {d: int(n or 0) for d, n in (await session.execute(q)).all()}


async def record_sent(store: Store, tenant_id: int, entries: list[tuple[str, str, int]]) -> None:
    """Set (not add) the sent count per day and stream: reporting twice is harmless."""
    async with store.write() as session:
        for day, stream, count in entries:
            row = await session.get(SentCount, (tenant_id, day, stream))
            if row is None:
                session.add(SentCount(tenant_id=tenant_id, day=day, stream=stream, count=count))
            else:
                row.count = count


async def sender_side_alerts(
    store: Store, tenant_id: int, since: datetime, until: datetime
) -> list[Alert]:
    """Sender-side failures grouped by reason, with the latest remote host and text."""
    base = (
        col(Event.tenant_id) == tenant_id,
        col(Event.created_at) >= since,
        col(Event.created_at) < until,
        col(Event.reason).in_(sorted(SENDER_SIDE_REASONS)),
        col(Event.kind).in_(["hard_bounce", "soft_bounce", "delayed"]),
    )
    async with store.read() as session:
        groups = (
            await session.execute(
                select(col(Event.reason), sa.func.count(), sa.func.max(col(Event.id)))
                .where(*base)
                .group_by(col(Event.reason))
            )
        ).all()
        alerts = []
        for reason, count, last_id in groups:
            last = await session.get(Event, last_id)
            assert last is not None
            alerts.append(
                Alert(
                    reason,
                    info(reason).description,
                    int(count),
                    last.created_at,
                    last.remote_mta,
                    last.diagnostic,
                )
            )
    return sorted(alerts, key=lambda a: -a.count)
