"""Suppression queries and manual changes: what the API asks of the store.

Active means: not expired. Expired rows stay until the next bounce reuses
them (their history lives in events and the audit table anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from returnpath.store.checks import Hit
from returnpath.store.db import Store
from returnpath.store.models import AddressState, Event, Suppression, SuppressionAudit, utcnow


@dataclass(frozen=True, slots=True)
class ListFilter:
    kind: str | None = None
    reason: str | None = None
    stream: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    verified: bool | None = None


def _active(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(col(Suppression.expires_at).is_(None), col(Suppression.expires_at) > now)


async def list_page(
    store: Store, tenant_id: int, flt: ListFilter, after_id: int, limit: int
) -> list[Suppression]:
    now = utcnow()
    q = select(Suppression).where(
        col(Suppression.tenant_id) == tenant_id, col(Suppression.id) > after_id, _active(now)
    )
    if flt.kind:
        q = q.where(col(Suppression.kind) == flt.kind)
    if flt.reason:
        q = q.where(col(Suppression.reason) == flt.reason)
    if flt.stream is not None:
        q = q.where(col(Suppression.stream) == flt.stream)
    if flt.since:
        q = q.where(col(Suppression.created_at) >= flt.since)
    if flt.until:
        q = q.where(col(Suppression.created_at) < flt.until)
    if flt.verified is not None:
        q = q.where(col(Suppression.verified) == flt.verified)
    q = q.order_by(col(Suppression.id)).limit(limit)
    async with store.read() as session:
        return list((await session.execute(q)).scalars().all())


async def get_active(store: Store, tenant_id: int, address: str, stream: str | None) -> list[Hit]:
    """The active suppressions that stop mail to ``address`` in ``stream``.

    A suppression with stream '' applies to every stream.
    """
    return (await store.checks.active(tenant_id, [address], stream)).get(address, [])


async def put(
    store: Store,
    tenant_id: int,
    address: str,
    *,
    kind: str,
    reason: str,
    stream: str,
    expires_at: datetime | None,
    note: str | None,
    actor: str,
    source: str = "manual",
) -> tuple[Suppression, bool]:
    """Add or replace a manual suppression; returns (row, created)."""
    now = utcnow()
    async with store.write() as session:
        row = await _get_row(session, tenant_id, address, stream)
        created = row is None
        if row is None:
            row = Suppression(
                tenant_id=tenant_id,
                address=address,
                stream=stream,
                kind=kind,
                reason=reason,
                created_at=now,
            )
            session.add(row)
        row.kind, row.reason, row.source = kind, reason, source
        row.expires_at, row.note, row.event_id, row.verified = expires_at, note, None, True
        row.created_at = now
        session.add(
            SuppressionAudit(
                tenant_id=tenant_id,
                address=address,
                stream=stream,
                action="add",
                actor=actor,
                kind=kind,
                reason=note or reason,
                at=now,
            )
        )
        await session.flush()
        return row, created


async def remove(
    store: Store, tenant_id: int, address: str, stream: str, *, actor: str, reason: str | None
) -> bool:
    """Lift a suppression. Audited; events stay; the soft-bounce count restarts."""
    now = utcnow()
    async with store.write() as session:
        row = await _get_row(session, tenant_id, address, stream)
        if row is None or not (row.expires_at is None or row.expires_at > now):
            return False
        await session.delete(row)
        session.add(
            SuppressionAudit(
                tenant_id=tenant_id,
                address=address,
                stream=stream,
                action="remove",
                actor=actor,
                kind=row.kind,
                reason=reason,
                at=now,
            )
        )
        state = await session.get(AddressState, (tenant_id, address))
        if state is not None:
            state.soft_bounces, state.soft_reset_at = 0, now
        return True


async def _get_row(
    session: AsyncSession, tenant_id: int, address: str, stream: str
) -> Suppression | None:
    return (
        await session.execute(
            select(Suppression).where(
                col(Suppression.tenant_id) == tenant_id,
                col(Suppression.address) == address,
                col(Suppression.stream) == stream,
            )
        )
    ).scalar_one_or_none()


async def event_uids(store: Store, ids: Sequence[int | None]) -> dict[int, str]:
    """Public ids of the events behind suppressions (one query per page)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    async with store.read() as session:
        rows = await session.execute(
            select(col(Event.id), col(Event.uid)).where(col(Event.id).in_(wanted))
        )
        return {i: u for i, u in rows.all() if i is not None}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    what: str  # "event" | "add" | "remove"
    kind: str | None
    reason: str | None
    actor: str | None
    stream: str
    event: str | None
    decided_by: str | None = None
    evidence: str | None = None
    effect: str | None = None
    effect_reason: str | None = None
    effect_detail: str | None = None


async def history(
    store: Store, tenant_id: int, address: str, limit: int = 200
) -> list[HistoryEntry]:
    """Everything that happened to an address, newest first: why it is (or was) suppressed."""
    async with store.read() as session:
        audits = (
            await session.execute(
                select(SuppressionAudit)
                .where(
                    col(SuppressionAudit.tenant_id) == tenant_id,
                    col(SuppressionAudit.address) == address,
                )
                .order_by(col(SuppressionAudit.id).desc())
                .limit(limit)
            )
        ).scalars()
        events = (
            await session.execute(
                select(Event)
                .where(col(Event.tenant_id) == tenant_id, col(Event.recipient) == address)
                .order_by(col(Event.id).desc())
                .limit(limit)
            )
        ).scalars()
        entries = [
            HistoryEntry(a.at, a.action, a.kind, a.reason, a.actor, a.stream, None) for a in audits
        ] + [
            HistoryEntry(
                e.created_at,
                "event",
                e.kind,
                e.reason,
                None,
                e.stream or "",
                e.uid,
                e.decided_by,
                e.evidence,
                e.effect,
                e.effect_reason,
                e.effect_detail,
            )
            for e in events
        ]
    return sorted(entries, key=lambda h: (h.at, h.what != "event"), reverse=True)[:limit]
