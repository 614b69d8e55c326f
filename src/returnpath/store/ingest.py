"""Recording one accepted message: raw bytes, events, suppressions, outbox — one transaction.

This is where a row is written. The SMTP listener answers ``250`` only after
``record`` returned, so whatever it says was accepted is on disk.

Mechanism only: for each finding that names an address, this module reads
what the store knows of the address (``_history``), asks the policy once
(``policy.decide``) and writes what it decided (``_apply``). Batching several
messages into one commit is ``group_commit``'s.

Written with SQLAlchemy Core and statements built once at import: this runs
for every message, and the ORM's unit of work and per-call statement
construction cost more CPU than the SQL itself (measured: ~9 ms → see
bench/results/smtp_throughput.txt for the figures after).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from returnpath.parsers.addresses import try_normalise
from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.vocabulary import Reason
from returnpath.store import metrics
from returnpath.store.db import Store
from returnpath.store.dkim import signers_of
from returnpath.store.event_body import event_body, routing_key
from returnpath.store.models import (
    AddressState,
    Event,
    Message,
    Outbox,
    Suppression,
    SuppressionAudit,
    new_uid,
    utcnow,
)
from returnpath.store.policy import NO_HISTORY, Decision, Effect, History, Policy, Seen, decide
from returnpath.store.tenants import TenantContext, TenantRef, cached_context
from returnpath.store.verification import Attribution, attribute


@dataclass(frozen=True, slots=True)
class Received:
    """What the listener knows about a message besides its bytes."""

    tenant: TenantRef
    raw: bytes
    peer: str | None
    mail_from: str | None
    rcpt_tos: tuple[str, ...]
    received_at: datetime = field(default_factory=utcnow)
    # Given when the listener already promised a uid in its 250 (the spool assigns it).
    uid: str | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    message_uid: str
    duplicate: bool
    event_uids: tuple[str, ...]
    suppressed: tuple[str, ...]
    findings: tuple[tuple[str, bool], ...] = ()  # (kind, verified) per event


def dedup_key(received: Received, report: Report) -> str:
    """Same message delivered twice → same key.

    A retrying MTA resends the same bytes; a relay on the way may add a
    Received header, so the report's own Message-ID (with the envelope
    recipients) is preferred when the message has one.
    """
    h = hashlib.sha256()
    if report.message_id:
        h.update(b"mid\0" + report.message_id.strip().encode("utf-8", "replace"))
        h.update(b"\0" + "\0".join(sorted(r.lower() for r in received.rcpt_tos)).encode())
    else:
        h.update(b"raw\0" + received.raw)
    return h.hexdigest()


# ---------------------------------------------------------------- statements, built once

MESSAGES: sa.Table = Message.__table__  # type: ignore[attr-defined]
EVENTS: sa.Table = Event.__table__  # type: ignore[attr-defined]
SUPPRESSIONS: sa.Table = Suppression.__table__  # type: ignore[attr-defined]
AUDIT: sa.Table = SuppressionAudit.__table__  # type: ignore[attr-defined]
OUTBOX: sa.Table = Outbox.__table__  # type: ignore[attr-defined]
STATES: sa.Table = AddressState.__table__  # type: ignore[attr-defined]
P = sa.bindparam

FIND_MESSAGE = sa.select(MESSAGES.c.uid).where(
    MESSAGES.c.tenant_id == P("tenant_id"), MESSAGES.c.dedup_key == P("dedup_key")
)
INSERT_EVENTS = sa.insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True)
INSERT_OUTBOX = sa.insert(OUTBOX)
INSERT_AUDIT = sa.insert(AUDIT)
SOFT_RESET_AT = sa.select(STATES.c.soft_reset_at).where(
    STATES.c.tenant_id == P("tenant_id"), STATES.c.address == P("address")
)
SOFT_BOUNCES = sa.select(EVENTS.c.created_at, EVENTS.c.reason).where(
    EVENTS.c.tenant_id == P("tenant_id"),
    EVENTS.c.recipient == P("address"),
    EVENTS.c.kind == Kind.SOFT_BOUNCE.value,
    EVENTS.c.created_at >= P("since"),
)


def _insert(dialect: str, table: sa.Table) -> Any:
    """INSERT with ON CONFLICT (both backends have it, through different classes)."""
    return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)


def _upsert_state(dialect: str, values: dict[str, Any], on_conflict: dict[str, Any]) -> Any:
    return (
        _insert(dialect, STATES)
        .values(**values)
        .on_conflict_do_update(index_elements=["tenant_id", "address"], set_=on_conflict)
    )


def _insert_message(dialect: str) -> Any:
    """Insert unless the same message is already stored: no row back means a duplicate
    (also when a concurrent delivery of it committed first)."""
    return (
        _insert(dialect, MESSAGES)
        .on_conflict_do_nothing(index_elements=["tenant_id", "dedup_key"])
        .returning(MESSAGES.c.id)
    )


def _upsert_suppression(dialect: str, now: datetime) -> Any:
    """Suppress unless an active suppression already stands. A permanent one replaces a
    temporary one; an expired one is renewed. A row back means the list changed."""
    insert = _insert(dialect, SUPPRESSIONS)
    new = insert.excluded
    changed = ("kind", "reason", "event_id", "expires_at", "created_at", "source", "verified")
    return insert.on_conflict_do_update(
        index_elements=["tenant_id", "address", "stream"],
        set_={name: new[name] for name in changed},
        where=sa.or_(
            SUPPRESSIONS.c.expires_at <= now,
            sa.and_(SUPPRESSIONS.c.expires_at.is_not(None), new.expires_at.is_(None)),
        ),
    ).returning(SUPPRESSIONS.c.id)


# ---------------------------------------------------------------- the transaction


async def record(store: Store, received: Received, report: Report, *, publish: bool) -> Recorded:
    """Record one message in its own transaction."""
    [result] = await record_many(store, [(received, report)], publish=publish)
    return result


async def record_many(
    store: Store, items: Sequence[tuple[Received, Report]], *, publish: bool
) -> list[Recorded]:
    """Record several messages in one transaction: one commit (one fsync) for all.

    All or nothing: if the transaction fails, every caller gets the exception
    (and its SMTP client a 451). ``group_commit.GroupCommit`` retries a failed group
    one message at a time, so one bad message cannot hold the others back.
    """
    dialect = store.engine.dialect.name
    keys = [dedup_key(received, report) for received, report in items]
    contexts = [await cached_context(store, received.tenant.id) for received, _ in items]
    # DKIM (DNS) before the transaction, never holding the writer: only listed FBLs' complaints.
    signers = await signers_of(
        [(r.raw, p, c.policy) for (r, p), c in zip(items, contexts, strict=True)]
    )
    results: list[Recorded | str] = []
    async with store.write_core() as conn:
        for (received, report), key, context, dkim_domains in zip(
            items, keys, contexts, signers, strict=True
        ):
            recorded = await _record_new(
                conn, received, report, key, publish, context, dialect, dkim_domains
            )
            if recorded is None:  # already stored (maybe earlier in this very group)
                params = {"tenant_id": received.tenant.id, "dedup_key": key}
                results.append((await conn.execute(FIND_MESSAGE, params)).scalar_one())
            else:
                results.append(recorded)
    out = [Recorded(r, True, (), ()) if isinstance(r, str) else r for r in results]
    # Counted only once committed: metrics never show what a rollback undid.
    for result in out:
        for kind, verified in result.findings:
            metrics.FINDINGS.labels(kind, str(verified).lower()).inc()
        metrics.SUPPRESSIONS.inc(len(result.suppressed))
    return out


async def _record_new(
    session: AsyncConnection,
    received: Received,
    report: Report,
    key: str,
    publish: bool,
    context: TenantContext,
    dialect: str,
    dkim_domains: frozenset[str] = frozenset(),
) -> Recorded | None:
    now = received.received_at
    policy = context.policy
    message_uid = received.uid or new_uid()
    message_id = (
        await session.execute(
            _insert_message(dialect),
            {
                "uid": message_uid,
                "tenant_id": received.tenant.id,
                "dedup_key": key,
                "received_at": now,
                "peer": received.peer,
                "mail_from": received.mail_from,
                "rcpt_tos": json.dumps(list(received.rcpt_tos)),
                "size": len(received.raw),
                "header_message_id": (report.message_id or None) and report.message_id[:998],
                "family": report.family,
                "parse_error": report.error,
                "raw": received.raw,
            },
        )
    ).scalar_one_or_none()
    if message_id is None:
        return None

    findings = report.findings or (
        Finding(kind=Kind.UNKNOWN, reason=Reason.UNDEFINED, family=report.family),
    )
    bounce_domain = received.rcpt_tos[0].rpartition("@")[2] if received.rcpt_tos else ""
    events = [
        _event_row(
            f,
            attribute(f, context.signing_keys, bounce_domain, now),
            received.tenant.id,
            message_id,
            now,
            policy,
        )
        for f in findings
    ]
    ids = (await session.execute(INSERT_EVENTS, events)).scalars().all()
    for event, event_id in zip(events, ids, strict=True):
        event["id"] = event_id

    suppressed: list[str] = []
    for event in events:
        if not event["recipient"]:
            continue  # nobody to suppress or count
        seen = Seen(
            kind=event["kind"],
            reason=event["reason"],
            at=now,
            verified=event["verified"],
            stream=event["stream"],
            family=report.family,
            sender=report.sender,
            dkim_domains=dkim_domains,
        )
        history = await _history(session, seen, event, policy)
        if await _apply(session, event, decide(seen, history, policy), now, dialect):
            suppressed.append(event["recipient"])
    if publish:
        await session.execute(
            INSERT_OUTBOX,
            [
                {
                    "event_uid": e["uid"],
                    "routing_key": routing_key(e["kind"], e["reason"]),
                    "body": json.dumps(
                        event_body(e, received.tenant.name, message_uid), separators=(",", ":")
                    ),
                    "created_at": now,
                    "attempts": 0,
                }
                for e in events
            ],
        )
    return Recorded(
        message_uid,
        False,
        tuple(e["uid"] for e in events),
        tuple(suppressed),
        tuple((e["kind"], e["verified"]) for e in events),
    )


def _clip(value: str | None, n: int) -> str | None:
    return value[:n] if value else value


def _event_row(
    finding: Finding,
    who: Attribution,
    tenant_id: int,
    message_id: int,
    now: datetime,
    policy: Policy,
) -> dict[str, Any]:
    return {
        "uid": new_uid(),
        "tenant_id": tenant_id,
        "message_id": message_id,
        "created_at": now,
        "recipient": try_normalise(
            who.recipient if who.verified else (finding.recipient or who.recipient),
            fold_local=policy.fold_local_case,
        ),
        "kind": finding.kind.value,
        "reason": (finding.reason or Reason.UNDEFINED.value)[:64],
        "status": _clip(finding.status, 32),
        "smtp_code": _clip(finding.smtp_code, 8),
        "diagnostic": _clip(finding.diagnostic, 4000),
        "remote_mta": _clip(finding.remote_mta, 255),
        "reporting_mta": _clip(finding.reporting_mta, 255),
        "feedback_type": _clip(finding.feedback_type, 64),
        "original_message_id": _clip(finding.original_message_id or who.message_id, 998),
        "family": finding.family[:64],
        "stream": _clip(who.stream, 64),
        "verified": who.verified,
    }


async def _history(
    session: AsyncConnection, seen: Seen, event: Mapping[str, Any], policy: Policy
) -> History:
    """What the store knows of the address that ``decide`` needs: only a soft bounce
    looks back (its count of days), so only a soft bounce costs these reads."""
    if seen.kind != Kind.SOFT_BOUNCE:
        return NO_HISTORY
    key = {"tenant_id": event["tenant_id"], "address": event["recipient"]}
    reset_at = (await session.execute(SOFT_RESET_AT, key)).scalar()
    since = policy.soft_window_start(seen.at)
    rows = (await session.execute(SOFT_BOUNCES, {**key, "since": since})).all()
    return History(soft_bounces=[(at, reason) for at, reason in rows], soft_reset_at=reset_at)


async def _apply(
    session: AsyncConnection,
    event: Mapping[str, Any],
    decision: Decision,
    now: datetime,
    dialect: str,
) -> bool:
    """Write what the policy decided for one event; True if it suppressed the address."""
    if decision.effect is Effect.RECORD:
        return False
    address, tenant_id = event["recipient"], event["tenant_id"]
    if decision.effect is Effect.RESET:
        await session.execute(
            _upsert_state(
                dialect,
                {
                    "tenant_id": tenant_id,
                    "address": address,
                    "soft_bounces": 0,
                    "soft_reset_at": now,
                    "last_event_at": now,
                },
                {"soft_bounces": 0, "soft_reset_at": now, "last_event_at": now},
            )
        )
    elif decision.effect is Effect.COUNT_SOFT:
        await session.execute(
            _upsert_state(
                dialect,
                {
                    "tenant_id": tenant_id,
                    "address": address,
                    "soft_bounces": 1,
                    "last_event_at": now,
                },
                {"soft_bounces": STATES.c.soft_bounces + 1, "last_event_at": now},
            )
        )
    if not decision.suppress:
        return False
    return await _suppress(session, event, decision.stream, decision.until, now, dialect)


async def _suppress(
    session: AsyncConnection,
    event: Mapping[str, Any],
    stream: str,
    expires_at: datetime | None,
    now: datetime,
    dialect: str,
) -> bool:
    key = {"tenant_id": event["tenant_id"], "address": event["recipient"], "stream": stream}
    row = {
        **key,
        "kind": event["kind"],
        "reason": event["reason"],
        "event_id": event["id"],
        "expires_at": expires_at,
        "created_at": now,
        "source": "bounce",
        "verified": event["verified"],
        "note": None,
    }
    if (await session.execute(_upsert_suppression(dialect, now), row)).first() is None:
        return False  # an active suppression already stands
    await session.execute(
        INSERT_AUDIT,
        {
            **key,
            "action": "add",
            "actor": "bounce",
            "kind": event["kind"],
            "reason": event["reason"],
            "at": now,
        },
    )
    return True
