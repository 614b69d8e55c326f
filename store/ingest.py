"""Recording one accepted message: raw bytes, events, suppressions, outbox — one transaction.

This is where a row is written. The SMTP listener answers ``250`` only after
``record`` returned, so whatever it says was accepted is on disk.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from parsers.model import Finding, Kind, Report
from store import metrics
from store.addresses import try_normalise
from store.db import Store
from store.event_body import event_body, routing_key
from store.models import (
    AddressState,
    Event,
    Message,
    Outbox,
    Suppression,
    SuppressionAudit,
    new_uid,
    utcnow,
)
from store.policy import (
    Effect,
    Policy,
    effect_of,
    soft_suppression_until,
    soft_window_start,
    suppression_stream,
    trusted,
)
from store.tenants import TenantContext, TenantRef, load_context
from store.verification import Attribution, attribute


@dataclass(frozen=True, slots=True)
class Received:
    """What the listener knows about a message besides its bytes."""

    tenant: TenantRef
    raw: bytes
    peer: str | None
    mail_from: str | None
    rcpt_tos: tuple[str, ...]
    received_at: datetime = field(default_factory=utcnow)


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


async def record(
    store: Store,
    received: Received,
    report: Report,
    *,
    publish: bool,
) -> Recorded:
    key = dedup_key(received, report)
    try:
        async with store.write() as session:
            existing = await session.execute(
                select(col(Message.uid)).where(
                    col(Message.tenant_id) == received.tenant.id, col(Message.dedup_key) == key
                )
            )
            uid = existing.scalar_one_or_none()
            if uid is not None:
                return Recorded(uid, True, (), ())
            context = await load_context(session, received.tenant.id)
            result = await _record_new(session, received, report, key, publish, context)
        # Counted only once committed: metrics never show what a rollback undid.
        for kind, verified in result.findings:
            metrics.FINDINGS.labels(kind, str(verified).lower()).inc()
        metrics.SUPPRESSIONS.inc(len(result.suppressed))
        return result
    except IntegrityError:
        # A concurrent delivery of the same message won the race: it is stored.
        async with store.read() as session:
            uid = (
                await session.execute(
                    select(col(Message.uid)).where(
                        col(Message.tenant_id) == received.tenant.id, col(Message.dedup_key) == key
                    )
                )
            ).scalar_one()
        return Recorded(uid, True, (), ())


async def _record_new(
    session: AsyncSession,
    received: Received,
    report: Report,
    key: str,
    publish: bool,
    context: TenantContext,
) -> Recorded:
    now = received.received_at
    policy = context.policy
    message = Message(
        uid=new_uid(),
        tenant_id=received.tenant.id,
        dedup_key=key,
        received_at=now,
        peer=received.peer,
        mail_from=received.mail_from,
        rcpt_tos=json.dumps(list(received.rcpt_tos)),
        size=len(received.raw),
        header_message_id=(report.message_id or None) and report.message_id[:998],
        family=report.family,
        parse_error=report.error,
        raw=received.raw,
    )
    session.add(message)
    await session.flush()
    assert message.id is not None

    findings = report.findings or (
        Finding(kind=Kind.UNKNOWN, reason="undefined", family=report.family),
    )
    events: list[Event] = []
    suppressed: list[str] = []
    bounce_domain = received.rcpt_tos[0].rpartition("@")[2] if received.rcpt_tos else ""
    trust: list[bool] = []
    for finding in findings:
        who = attribute(finding, context.signing_keys, bounce_domain, now)
        event = _event(finding, who, received.tenant.id, message.id, now, policy)
        session.add(event)
        events.append(event)
        trust.append(trusted(policy, event.kind, event.verified, report.family, report.sender))
    await session.flush()

    for event, may_change in zip(events, trust, strict=True):
        if event.recipient and may_change and await _apply_policy(session, event, policy, now):
            suppressed.append(event.recipient)
        if publish:
            body = event_body(event, received.tenant.name, message.uid)
            session.add(
                Outbox(
                    event_uid=event.uid,
                    routing_key=routing_key(event.kind, event.reason),
                    body=json.dumps(body, separators=(",", ":")),
                    created_at=now,
                )
            )
    return Recorded(
        message.uid,
        False,
        tuple(e.uid for e in events),
        tuple(suppressed),
        tuple((e.kind, e.verified) for e in events),
    )


def _clip(value: str | None, n: int) -> str | None:
    return value[:n] if value else value


def _event(
    finding: Finding,
    who: Attribution,
    tenant_id: int,
    message_id: int,
    now: datetime,
    policy: Policy,
) -> Event:
    return Event(
        uid=new_uid(),
        tenant_id=tenant_id,
        message_id=message_id,
        created_at=now,
        recipient=try_normalise(
            finding.recipient or who.recipient, fold_local=policy.fold_local_case
        ),
        kind=finding.kind.value,
        reason=finding.reason or "undefined",
        status=_clip(finding.status, 32),
        smtp_code=_clip(finding.smtp_code, 8),
        diagnostic=_clip(finding.diagnostic, 4000),
        remote_mta=_clip(finding.remote_mta, 255),
        reporting_mta=_clip(finding.reporting_mta, 255),
        feedback_type=_clip(finding.feedback_type, 64),
        original_message_id=_clip(finding.original_message_id or who.message_id, 998),
        family=finding.family[:64],
        stream=_clip(who.stream, 64),
        verified=who.verified,
    )


async def _apply_policy(session: AsyncSession, event: Event, policy: Policy, now: datetime) -> bool:
    """Update suppressions and counters for one event; True if it suppressed the address."""
    assert event.recipient is not None
    effect = effect_of(event.kind, event.reason)
    if effect is Effect.RECORD:
        return False
    state = await session.get(AddressState, (event.tenant_id, event.recipient))
    if state is None:
        state = AddressState(tenant_id=event.tenant_id, address=event.recipient)
        session.add(state)
    state.last_event_at = now
    if effect is Effect.RESET:
        state.soft_bounces = 0
        state.soft_reset_at = now
        return False
    if effect is Effect.SUPPRESS:
        stream = suppression_stream(policy, event.kind, event.stream)
        return await _suppress(session, event, stream, None, now)
    # COUNT_SOFT
    state.soft_bounces += 1
    days = await _soft_bounce_days(session, event, policy, state.soft_reset_at, now)
    if len(days) >= policy.soft_bounce_threshold:
        until = soft_suppression_until(policy, event.reason, now)
        return await _suppress(session, event, "", until, now)
    return False


async def _soft_bounce_days(
    session: AsyncSession, event: Event, policy: Policy, reset_at: datetime | None, now: datetime
) -> set[str]:
    since = soft_window_start(policy, now)
    if reset_at is not None and reset_at > since:
        since = reset_at
    rows = await session.execute(
        select(col(Event.created_at), col(Event.reason)).where(
            col(Event.tenant_id) == event.tenant_id,
            col(Event.recipient) == event.recipient,
            col(Event.kind) == Kind.SOFT_BOUNCE.value,
            col(Event.created_at) >= since,
        )
    )
    return {
        created.date().isoformat()
        for created, reason in rows.all()
        if effect_of(Kind.SOFT_BOUNCE.value, reason) is Effect.COUNT_SOFT
    }


async def _suppress(
    session: AsyncSession, event: Event, stream: str, expires_at: datetime | None, now: datetime
) -> bool:
    assert event.recipient is not None and event.id is not None
    current = (
        await session.execute(
            select(Suppression).where(
                col(Suppression.tenant_id) == event.tenant_id,
                col(Suppression.address) == event.recipient,
                col(Suppression.stream) == stream,
            )
        )
    ).scalar_one_or_none()
    if current is not None:
        still_active = current.expires_at is None or current.expires_at > now
        upgrade = expires_at is None and current.expires_at is not None
        if still_active and not upgrade:
            return False
        current.kind, current.reason, current.event_id = event.kind, event.reason, event.id
        current.expires_at, current.created_at, current.source = expires_at, now, "bounce"
        current.verified = event.verified
    else:
        session.add(
            Suppression(
                tenant_id=event.tenant_id,
                address=event.recipient,
                stream=stream,
                kind=event.kind,
                reason=event.reason,
                source="bounce",
                event_id=event.id,
                verified=event.verified,
                created_at=now,
                expires_at=expires_at,
            )
        )
    session.add(
        SuppressionAudit(
            tenant_id=event.tenant_id,
            address=event.recipient,
            stream=stream,
            action="add",
            actor="bounce",
            kind=event.kind,
            reason=event.reason,
            at=now,
        )
    )
    return True
