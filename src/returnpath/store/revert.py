"""Reverting an incident: lift, in bulk, the suppressions a filter names.

The operator's worst day: a provider refused everything for three hours (a
blocklisting, an outage) and part of it was read as dead mailboxes. Lifting
them one by one is not an answer; lifting them all with one unfiltered
statement is not either. So a revert names what it lifts (when the suppression
was made, its kind, reason, source, stream, and the remote MTA or provider of
the bounce behind it), is previewed first (a count and a sample), and applies
in batches, each one transaction: the suppression goes, an audit entry with the
operator's note says why (the address history shows it), and the soft-bounce
count restarts, exactly as lifting one address does (``suppressions.remove``).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from returnpath.store.db import Store
from returnpath.store.models import AddressState, Event, Suppression, SuppressionAudit, utcnow

#: rows per transaction when applying: short enough that the stage's writes on SQLite
#: wait at most one batch for the lock
BATCH = 1000
SAMPLE = 20
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class RevertFilter:
    """What to lift; every field given narrows it (none given is refused: see ``check``)."""

    since: datetime | None = None  # suppressed at or after
    until: datetime | None = None  # suppressed before
    kind: str | None = None
    reason: str | None = None
    #: a host, or a domain matching every host under it (``outlook.com`` takes
    #: ``mx1.eur.outlook.com``): the remote MTA named by the bounce behind the suppression
    remote_mta: str | None = None
    source: str | None = None  # bounce | manual | import
    stream: str | None = None  # '' is the suppressions of every stream

    def check(self) -> None:
        """Refuse what would lift too much by mistake, or match nothing by construction."""
        if all(getattr(self, name) is None for name in self.__slots__):
            raise ValueError(
                "a revert needs a filter (since, until, kind, reason, remote_mta, source or"
                " stream): lifting every suppression is not an incident's repair"
            )
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be before until")
        if self.remote_mta is not None and not _HOST.match(self.remote_mta.lower()):
            raise ValueError("remote_mta must be a host or domain name (letters, digits, . and -)")


@dataclass(frozen=True, slots=True)
class Lifted:
    address: str
    stream: str
    kind: str
    reason: str
    source: str
    created_at: datetime
    remote_mta: str | None


@dataclass(frozen=True, slots=True)
class RevertResult:
    dry_run: bool
    count: int
    sample: list[Lifted]


#: id, address, stream, kind, reason, source, created_at, remote_mta
_Row = tuple[int | None, str, str, str, str, str, datetime, str | None]
_Query = sa.Select[*_Row]


def _matching(tenant_id: int, flt: RevertFilter, now: datetime) -> _Query:
    s, e = Suppression, Event
    q = (
        sa.select(
            col(s.id),
            col(s.address),
            col(s.stream),
            col(s.kind),
            col(s.reason),
            col(s.source),
            col(s.created_at),
            col(e.remote_mta),
        )
        .select_from(s)
        .outerjoin(e, col(e.id) == col(s.event_id))
        .where(
            col(s.tenant_id) == tenant_id,
            sa.or_(col(s.expires_at).is_(None), col(s.expires_at) > now),
        )
    )
    if flt.since is not None:
        q = q.where(col(s.created_at) >= flt.since)
    if flt.until is not None:
        q = q.where(col(s.created_at) < flt.until)
    for column, value in (
        (s.kind, flt.kind),
        (s.reason, flt.reason),
        (s.source, flt.source),
        (s.stream, flt.stream),
    ):
        if value is not None:
            q = q.where(col(column) == value)
    if flt.remote_mta is not None:
        host = flt.remote_mta.lower().strip(".")
        mta = sa.func.lower(col(e.remote_mta))
        # _HOST allows no LIKE wildcard but '_' is not a host character either; escape anyway
        suffix = "%." + host.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(sa.or_(mta == host, mta.like(suffix, escape="\\")))
    return q


def _lifted(row: sa.Row[*_Row]) -> Lifted:
    _, address, stream, kind, reason, source, created_at, remote_mta = row
    return Lifted(address, stream, kind, reason, source, created_at, remote_mta)


async def revert(
    store: Store,
    tenant_id: int,
    flt: RevertFilter,
    *,
    note: str,
    actor: str,
    dry_run: bool = True,
    batch: int = BATCH,
) -> RevertResult:
    """Preview (``dry_run``) or lift the active suppressions ``flt`` matches."""
    flt.check()
    now = utcnow()
    matching = _matching(tenant_id, flt, now)
    if dry_run:
        counted = sa.select(sa.func.count()).select_from(matching.subquery())
        async with store.read() as session:
            count = int((await session.execute(counted)).scalar_one())
            rows = (
                await session.execute(matching.order_by(col(Suppression.id)).limit(SAMPLE))
            ).all()
        return RevertResult(True, count, [_lifted(r) for r in rows])
    count, sample, after = 0, list[Lifted](), 0
    while True:
        # by id from where the last batch ended: the rows it deleted stay in the index as
        # dead entries until a vacuum, and starting over would walk them all again
        page = matching.where(col(Suppression.id) > after)
        done, after = await _lift_batch(store, tenant_id, page, batch, note=note, actor=actor)
        count += len(done)
        sample.extend(done[: SAMPLE - len(sample)])
        if len(done) < batch:
            return RevertResult(False, count, sample)
        await asyncio.sleep(0)  # the stage and the API get the lock between batches


async def _lift_batch(
    store: Store,
    tenant_id: int,
    matching: _Query,
    batch: int,
    *,
    note: str,
    actor: str,
) -> tuple[list[Lifted], int]:
    """One transaction: lift the next ``batch`` matches; returns them and the last id."""
    now = utcnow()
    async with store.write_core() as conn:
        rows = (await conn.execute(matching.order_by(col(Suppression.id)).limit(batch))).all()
        if not rows:
            return [], 0
        lifted = [_lifted(r) for r in rows]
        await conn.execute(
            sa.delete(Suppression).where(col(Suppression.id).in_([r[0] for r in rows]))
        )
        await conn.execute(
            sa.insert(SuppressionAudit),
            [
                {
                    "tenant_id": tenant_id,
                    "address": one.address,
                    "stream": one.stream,
                    "action": "remove",
                    "actor": actor,
                    "kind": one.kind,
                    "reason": note,
                    "at": now,
                }
                for one in lifted
            ],
        )
        await conn.execute(
            sa.update(AddressState)
            .where(
                col(AddressState.tenant_id) == tenant_id,
                col(AddressState.address).in_(sorted({one.address for one in lifted})),
            )
            .values(soft_bounces=0, soft_reset_at=now)
        )
    return lifted, int(rows[-1][0] or 0)
