"""Raw-message retention: the bytes of old messages are dropped, their history stays.

A raw bounce holds personal data that is not ours to keep for ever: the quoted
original (headers, often the body) of mail to a third party. The verdicts do not need
it once recorded; an operator needs it for weeks (to see why an address was
suppressed, to re-read it with better rules). So after ``RETURNPATH_RAW_RETENTION_DAYS``
the bytes are replaced by nothing and ``raw_purged_at`` says when; the message row, its
events, suppressions and audit stay.

The purge runs in small transactions (``BATCH`` rows each), oldest first through a
partial index that holds only rows not yet purged, and gives the event loop back
between them: on SQLite it shares the single write lock with the stage, which must
never wait more than one short transaction for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlmodel import col

from returnpath.store import metrics
from returnpath.store.db import Store
from returnpath.store.models import Message, utcnow

log = structlog.get_logger("returnpath.retention")

#: rows per transaction: about 10 ms of write lock on SQLite for 4 KB messages
BATCH = 500


def cutoff(days: int, now: datetime | None = None) -> datetime:
    """Messages received before this moment have outlived a retention of ``days``."""
    return (now or utcnow()) - timedelta(days=days)


def _kept_before(before: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(col(Message.raw_purged_at).is_(None), col(Message.received_at) < before)


async def count_purgeable(store: Store, before: datetime) -> int:
    """How many messages a purge up to ``before`` would empty (the dry run)."""
    q = sa.select(sa.func.count()).select_from(Message).where(_kept_before(before))
    async with store.read() as session:
        return int((await session.execute(q)).scalar_one())


async def purge_raw(store: Store, before: datetime, *, batch: int = BATCH) -> int:
    """Drop the raw bytes of every message received before ``before``; returns how many.

    Idempotent and resumable: each batch commits on its own, and a purged row is
    never read again (the index leaves it out).
    """
    total = 0
    while True:
        done = await _purge_batch(store, before, batch)
        total += done
        if done:
            metrics.RAW_PURGED.inc(done)
        if done < batch:
            return total
        await asyncio.sleep(0)  # the stage and the API get the lock between batches


async def _purge_batch(store: Store, before: datetime, batch: int) -> int:
    oldest = (
        sa.select(col(Message.id))
        .where(_kept_before(before))
        .order_by(col(Message.received_at), col(Message.id))
        .limit(batch)
    )
    async with store.write_core() as conn:
        ids = list((await conn.execute(oldest)).scalars())
        if ids:
            await conn.execute(
                sa.update(Message)
                .where(col(Message.id).in_(ids))
                .values(raw=b"", raw_purged_at=utcnow())
            )
    return len(ids)


async def purge_periodically(
    store: Store, days: int, interval: float, stopping: asyncio.Event
) -> None:
    """``serve``'s scheduled purge: once soon after start, then every ``interval`` seconds.

    A failure (the database away) is logged and tried again at the next interval:
    retention is never urgent enough to disturb the accept path.
    """
    while not stopping.is_set():
        try:
            purged = await purge_raw(store, cutoff(days))
        except Exception as exc:  # the next pass retries; nothing is half done (per batch)
            log.warning("raw_purge_failed", error=repr(exc), retry_in=interval)
        else:
            if purged:
                log.info("raw_purged", messages=purged, retention_days=days)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval)
