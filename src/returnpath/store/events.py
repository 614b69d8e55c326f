"""The event feed: every finding ever recorded, in commit order, by cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from returnpath.store.db import Store
from returnpath.store.models import Event, Message


@dataclass(frozen=True, slots=True)
class EventFilter:
    kind: str | None = None
    reason: str | None = None
    recipient: str | None = None
    since: datetime | None = None
    effect: str | None = None


async def feed_page(
    store: Store, tenant_id: int, flt: EventFilter, after_id: int, limit: int
) -> list[tuple[Event, str]]:
    q = (
        select(Event, col(Message.uid))
        .join(Message, col(Event.message_id) == col(Message.id))
        .where(col(Event.tenant_id) == tenant_id, col(Event.id) > after_id)
    )
    if flt.kind:
        q = q.where(col(Event.kind) == flt.kind)
    if flt.reason:
        q = q.where(col(Event.reason) == flt.reason)
    if flt.recipient:
        q = q.where(col(Event.recipient) == flt.recipient)
    if flt.since:
        q = q.where(col(Event.created_at) >= flt.since)
    if flt.effect:
        q = q.where(col(Event.effect) == flt.effect)
    q = q.order_by(col(Event.id)).limit(limit)
    async with store.read() as session:
        return [(e, uid) for e, uid in (await session.execute(q)).all()]


async def get_event(store: Store, tenant_id: int, uid: str) -> tuple[Event, str] | None:
    q = (
        select(Event, col(Message.uid))
        .join(Message, col(Event.message_id) == col(Message.id))
        .where(col(Event.tenant_id) == tenant_id, col(Event.uid) == uid)
    )
    async with store.read() as session:
        row = (await session.execute(q)).first()
    return (row[0], row[1]) if row else None


async def get_raw(
    store: Store, tenant_id: int, message_uid: str
) -> tuple[bytes, datetime | None] | None:
    """The raw bytes and when they were purged (then the bytes are empty), or None."""
    q = select(col(Message.raw), col(Message.raw_purged_at)).where(
        col(Message.tenant_id) == tenant_id, col(Message.uid) == message_uid
    )
    async with store.read() as session:
        row = (await session.execute(q)).first()
    return (row[0], row[1]) if row else None
