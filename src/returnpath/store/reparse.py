"""Re-reading stored messages with the current parsers: what would change (the dry run).

After a parser upgrade, or when a family was misread for a week, the operator's
first question is "what would the new rules say about what we already
recorded?". Every accepted message is kept raw (until its retention ends), so
the answer is exact: each message is parsed again, its findings attributed as
``store.ingest`` attributes them (return-path tokens verified as of the
message's arrival, addresses normalised under the tenant's policy), and the
verdicts compared, recipient by recipient, with the events recorded for it.

Read-only: nothing is written. Applying a re-parse (superseding events,
lifting and adding suppressions) is not built yet.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from returnpath.parsers import parse
from returnpath.parsers.addresses import try_normalise
from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.vocabulary import Reason
from returnpath.store.db import Store
from returnpath.store.models import Event, Message
from returnpath.store.tenants import TenantContext, cached_context
from returnpath.store.verification import attribute

#: messages read, parsed and compared per round trip (about 2 MB of 4 KB bounces)
BATCH = 500
SAMPLE = 20
NOTHING = "-"  # the verdict side where a recipient has no finding


@dataclass(frozen=True, slots=True)
class ReparseFilter:
    tenant_id: int
    since: datetime | None = None  # received at or after
    until: datetime | None = None  # received before
    family: str | None = None  # as recorded (the family the old parsers named)


@dataclass(frozen=True, slots=True)
class Change:
    message: str
    recipient: str | None
    before: str  # kind.reason, or "-"
    after: str
    decided_by: str | None


@dataclass(slots=True)
class ReparseReport:
    messages: int = 0  # read and parsed again
    purged: int = 0  # matched, but their raw bytes are gone (retention): not re-read
    unchanged: int = 0  # verdicts (one per recipient) the same as recorded
    changed: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    sample: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "purged": self.purged,
            "unchanged": self.unchanged,
            "changed": self.changed,
            "transitions": [
                {"before": b, "after": a, "count": n}
                for (b, a), n in self.transitions.most_common()
            ],
            "sample": [
                {
                    "message": c.message,
                    "recipient": c.recipient,
                    "before": c.before,
                    "after": c.after,
                    "decided_by": c.decided_by,
                }
                for c in self.sample
            ],
        }


def _matching(flt: ReparseFilter) -> list[sa.ColumnElement[bool]]:
    where = [col(Message.tenant_id) == flt.tenant_id]
    if flt.since is not None:
        where.append(col(Message.received_at) >= flt.since)
    if flt.until is not None:
        where.append(col(Message.received_at) < flt.until)
    if flt.family is not None:
        where.append(col(Message.family) == flt.family)
    return where


async def count(store: Store, flt: ReparseFilter) -> int:
    """How many messages the filter takes (for progress and ETA)."""
    q = sa.select(sa.func.count()).select_from(Message).where(*_matching(flt))
    async with store.read() as session:
        return int((await session.execute(q)).scalar_one())


@dataclass(frozen=True, slots=True)
class _Stored:
    id: int
    uid: str
    raw: bytes
    rcpt_tos: tuple[str, ...]
    received_at: datetime
    purged: bool


async def dry_run(
    store: Store,
    flt: ReparseFilter,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> ReparseReport:
    """Compare, message by message in arrival order, the recorded verdicts with what the
    current parsers say. ``progress`` is called with the count of messages done."""
    context = await cached_context(store, flt.tenant_id)
    report = ReparseReport()
    after, done = 0, 0
    while True:
        stored, recorded = await _read(store, flt, after, batch)
        if not stored:
            return report
        kept = [m for m in stored if not m.purged]
        reports = await asyncio.to_thread(_parse_all, kept)
        for m, parsed in zip(kept, reports, strict=True):
            _compare(m, _verdicts(m, parsed, context), recorded.get(m.id, []), report)
        report.messages += len(kept)
        report.purged += len(stored) - len(kept)
        after, done = stored[-1].id, done + len(stored)
        if progress is not None:
            progress(done)


def _parse_all(messages: list[_Stored]) -> list[Report]:
    """One batch, in a worker thread: the event loop is not held for its length."""
    return [parse(m.raw, m.rcpt_tos[0] if m.rcpt_tos else None) for m in messages]


async def _read(
    store: Store, flt: ReparseFilter, after: int, batch: int
) -> tuple[list[_Stored], dict[int, list[tuple[str | None, str]]]]:
    q = (
        sa.select(
            col(Message.id),
            col(Message.uid),
            col(Message.raw),
            col(Message.rcpt_tos),
            col(Message.received_at),
            col(Message.raw_purged_at),
        )
        .where(*_matching(flt), col(Message.id) > after)
        .order_by(col(Message.id))
        .limit(batch)
    )
    async with store.read() as session:
        stored = [
            _Stored(
                int(i or 0), uid, bytes(raw), tuple(json.loads(rcpt or "[]")), at, p is not None
            )
            for i, uid, raw, rcpt, at, p in (await session.execute(q)).all()
        ]
        if not stored:
            return [], {}
        events = await session.execute(
            sa.select(
                col(Event.message_id), col(Event.recipient), col(Event.kind), col(Event.reason)
            )
            .where(col(Event.message_id).in_([m.id for m in stored]))
            .order_by(col(Event.id))
        )
        recorded: dict[int, list[tuple[str | None, str]]] = {}
        for message_id, recipient, kind, reason in events.all():
            recorded.setdefault(message_id, []).append((recipient, f"{kind}.{reason}"))
    return stored, recorded


def _verdicts(
    m: _Stored, parsed: Report, context: TenantContext
) -> list[tuple[str | None, str, str | None]]:
    """(recipient, kind.reason, decided_by) per finding, as store.ingest would record them."""
    findings = parsed.findings or (
        Finding(kind=Kind.UNKNOWN, reason=Reason.UNDEFINED, family=parsed.family),
    )
    domain = m.rcpt_tos[0].rpartition("@")[2] if m.rcpt_tos else ""
    out = []
    for f in findings:
        who = attribute(f, context.signing_keys, domain, m.received_at)
        recipient = try_normalise(
            who.recipient if who.verified else (f.recipient or who.recipient),
            fold_local=context.policy.fold_local_case,
        )
        reason = (f.reason or Reason.UNDEFINED.value)[:64]
        out.append((recipient, f"{f.kind.value}.{reason}", f.decided_by))
    return out


def _compare(
    m: _Stored,
    now: Sequence[tuple[str | None, str, str | None]],
    before: Sequence[tuple[str | None, str]],
    report: ReparseReport,
) -> None:
    """Recipient by recipient (in the order found); a recipient named twice is compared
    in order of appearance."""
    old: dict[str | None, list[str]] = {}
    for recipient, verdict in before:
        old.setdefault(recipient, []).append(verdict)
    for recipient, verdict, decided_by in now:
        was = old.get(recipient, [])
        previous = was.pop(0) if was else NOTHING
        _count(m, recipient, previous, verdict, decided_by, report)
    for recipient, left in old.items():
        for previous in left:
            _count(m, recipient, previous, NOTHING, None, report)


def _count(
    m: _Stored,
    recipient: str | None,
    before: str,
    after: str,
    decided_by: str | None,
    report: ReparseReport,
) -> None:
    if before == after:
        report.unchanged += 1
        return
    report.changed += 1
    report.transitions[(before, after)] += 1
    if len(report.sample) < SAMPLE:
        report.sample.append(Change(m.uid, recipient, before, after, decided_by))
