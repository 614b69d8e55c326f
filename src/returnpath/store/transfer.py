"""Bulk import and export of suppressions: a whole list in, a whole list out.

Import is idempotent: each batch reads the rows it touches once, inserts the
new ones, updates the changed ones and leaves identical ones alone, so the
same file imported twice reports ``unchanged`` the second time. Export pages
by primary key, so memory stays constant whatever the list's size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from returnpath.store.db import Store
from returnpath.store.models import Suppression, SuppressionAudit, utcnow


@dataclass(frozen=True, slots=True)
class ImportRow:
    address: str
    reason: str = "imported"
    stream: str = ""
    expires_at: datetime | None = None


@dataclass(slots=True)
class ImportCounts:
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)

    def reject(self, line: int, error: str) -> None:
        self.received += 1
        self.invalid += 1
        if len(self.errors) < 50:
            self.errors.append({"line": line, "error": error})


async def refresh_statistics(store: Store) -> None:
    """ANALYZE the suppression table while a large import grows it (PostgreSQL).

    Measured: importing a million rows into a fresh table, the planner kept the
    statistics of an empty table and read each batch's existing rows with a
    sequential scan — seconds per batch, quadratic overall. Refreshing the
    statistics at exponentially spaced batches keeps the index in use for a
    handful of cheap ANALYZEs. SQLite always uses the index.
    """
    if store.is_sqlite:
        return
    async with store.engine.connect() as conn:
        await conn.execute(sa.text("ANALYZE suppression"))
        await conn.commit()


async def import_batch(
    store: Store, tenant_id: int, rows: Sequence[ImportRow], counts: ImportCounts, actor: str
) -> None:
    # The last row for an (address, stream) pair wins within a batch, as in a file read top to bottom.
    unique = {(r.address, r.stream): r for r in rows}
    counts.received += len(rows)
    counts.unchanged += len(rows) - len(unique)
    now = utcnow()
    async with store.write() as session:
        existing = {
            (s.address, s.stream): s
            for s in (
                await session.execute(
                    select(Suppression).where(
                        col(Suppression.tenant_id) == tenant_id,
                        col(Suppression.address).in_({a for a, _ in unique}),
                    )
                )
            ).scalars()
        }
        new: list[dict[str, object]] = []
        audit: list[dict[str, object]] = []
        for key, row in unique.items():
            current = existing.get(key)
            if current is None:
                new.append(
                    {
                        "tenant_id": tenant_id,
                        "address": row.address,
                        "stream": row.stream,
                        "kind": "manual",
                        "reason": row.reason,
                        "source": "import",
                        "verified": True,
                        "created_at": now,
                        "expires_at": row.expires_at,
                    }
                )
            elif (current.reason, current.expires_at, current.source) == (
                row.reason,
                row.expires_at,
                "import",
            ):
                counts.unchanged += 1
                continue
            else:
                current.reason, current.expires_at, current.source = (
                    row.reason,
                    row.expires_at,
                    "import",
                )
                current.kind = "manual"
                counts.updated += 1
            audit.append(
                {
                    "tenant_id": tenant_id,
                    "address": row.address,
                    "stream": row.stream,
                    "action": "add",
                    "actor": actor,
                    "kind": "manual",
                    "reason": f"import: {row.reason}",
                    "at": now,
                }
            )
        if new:
            await session.execute(sa.insert(Suppression), new)
            counts.created += len(new)
        if audit:
            await session.execute(sa.insert(SuppressionAudit), audit)


EXPORT_COLUMNS = (
    col(Suppression.id),
    col(Suppression.address),
    col(Suppression.stream),
    col(Suppression.kind),
    col(Suppression.reason),
    col(Suppression.source),
    col(Suppression.verified),
    col(Suppression.created_at),
    col(Suppression.expires_at),
)


async def export_pages(store: Store, tenant_id: int, page: int = 5000) -> AsyncIterator[list[Any]]:
    """The active list in pages of plain rows (no ORM objects: this is the hot path of an export)."""
    now = utcnow()
    after = 0
    while True:
        async with store.read() as session:
            rows = list(
                (
                    await session.execute(
                        sa.select(*EXPORT_COLUMNS)
                        .where(
                            col(Suppression.tenant_id) == tenant_id,
                            col(Suppression.id) > after,
                            sa.or_(
                                col(Suppression.expires_at).is_(None),
                                col(Suppression.expires_at) > now,
                            ),
                        )
                        .order_by(col(Suppression.id))
                        .limit(page)
                    )
                ).all()
            )
        if rows:
            yield rows
        if len(rows) < page:
            return
        after = rows[-1][0] or after
