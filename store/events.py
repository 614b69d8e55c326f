"""The event feed: every finding ever recorded, in commit order, by cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from store.db import Store
from store.models import Event, Message


@dataclass(frozen=True, slots=True)
class EventFilter:
    kind: str | None = None
    reason: str | None = None
    recipient: str | None = None
    since: datetime | None = None


async def feed_page(
    store: Store, tenant_id: int, flt: EventFilter, after_id: int, limit: int
) -> list[tuple[Event, str]]:
    q = (
        sa.select(Event, Message.uid)
        .join(Message, Event.message_id == Message.id)  # type: ignore[arg-type]
        .where(Event.tenant_id == tenant_id, Event.id > after_id)  # type: ignore[operator]
    )
    if flt.kind:
        q = q.where(Event.kind == flt.kind)
    if flt.reason:
        q = q.where(Event.reason == flt.reason)
    if flt.recipient:
        q = q.where(Event.recipient == flt.recipient)
    if flt.since:
        q = q.where(Event.created_at >= flt.since)  # type: ignore[operator]
    q = q.order_by(Event.id).limit(limit)  # type: ignore[arg-type]
    async with store.read() as session:
        return [(e, uid) for e, uid in (await session.execute(q)).all()]


async def get_event(store: Store, tenant_id: int, uid: str) -> tuple[Event, str] | None:
    q = (
        sa.select(Event, Message.uid)
        .join(Message, Event.message_id == Message.id)  # type: ignore[arg-type]
        .where(Event.tenant_id == tenant_id, Event.uid == uid)
    )
    async with store.read() as session:
        row = (await session.execute(q)).first()
    return (row[0], row[1]) if row else None


async def get_raw(store: Store, tenant_id: int, message_uid: str) -> bytes | None:
    q = sa.select(Message.raw).where(Message.tenant_id == tenant_id, Message.uid == message_uid)
    async with store.read() as session:
        return (await session.execute(q)).scalar_one_or_none()
