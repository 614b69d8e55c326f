"""Recording accepted messages: raw bytes, events, suppressions, outbox — one transaction per group.

This is where a row is written. The SMTP listener answers ``250`` only after
``record`` returned, so whatever it says was accepted is on disk.

Mechanism only: for each finding that names an address, this module gathers
what the store knows of the address (``History``), asks the policy once
(``policy.decide``) and writes what it decided. Several messages share one
transaction (``record_many``; grouping them is the stage's, ``returnpath.stage``).

The work is done per group, not per message, because per-message statements were
the cost (about 5 ms of CPU per message through SQLAlchemy Core and the async
adapter, 4+ statements each; bench/ingest_batch.py): a group is a fixed handful of
statements whatever its size (one SELECT for the duplicates, one multi-row INSERT
each for messages, events, address states, suppressions, audits and outbox, two
SELECTs for the soft-bounce histories), built once per dialect, run as plain
synchronous SQLAlchemy in one ``run_sync`` hop. The policy is decided in Python in
between, message by message in arrival order, with the state the earlier messages
of the group left (their soft bounces, their resets), so a group gives exactly
what recording its messages one by one gives. It is decided before the events are
inserted, so each event row (and its outbox body) is written once, already saying
what the policy did with it and why (``effect``, ``effect_reason``, ``effect_detail``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from returnpath.parsers.addresses import try_normalise
from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.vocabulary import Reason
from returnpath.store import metrics
from returnpath.store.allowlist import allowlisted
from returnpath.store.db import Store
from returnpath.store.dkim import signers_of
from returnpath.store.event_body import event_body, routing_key
from returnpath.store.models import (
    DECIDED_BY_CHARS,
    EFFECT_DETAIL_CHARS,
    EVIDENCE_CHARS,
    AddressState,
    Event,
    Message,
    Outbox,
    Suppression,
    SuppressionAudit,
    new_uid,
    utcnow,
)
from returnpath.store.policy import (
    ALLOWLISTED_WORDS,
    CAP_REACHED_WORDS,
    NO_HISTORY,
    NO_RECIPIENT_WORDS,
    Decision,
    Effect,
    History,
    Outcome,
    Policy,
    Seen,
    Why,
    decide,
)
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
    effects: tuple[str, ...] = ()  # "effect:effect_reason" per event, as the log line says them


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

# Bound lists are cut to this length: SQLite allows 32,766 variables per statement, and
# a forged report may name thousands of addresses.
IN_CHUNK = 500

FIND_MESSAGES = sa.select(MESSAGES.c.tenant_id, MESSAGES.c.dedup_key, MESSAGES.c.uid).where(
    MESSAGES.c.tenant_id.in_(P("tenant_ids", expanding=True)),
    MESSAGES.c.dedup_key.in_(P("keys", expanding=True)),
)
# Rows come back matched by uid (unique, ours), not by position: no reliance on the
# order a multi-row INSERT ... RETURNING answers in.
INSERT_EVENTS = sa.insert(EVENTS).returning(EVENTS.c.uid, EVENTS.c.id)
INSERT_OUTBOX = sa.insert(OUTBOX)
INSERT_AUDIT = sa.insert(AUDIT)
RESET_ATS = sa.select(STATES.c.tenant_id, STATES.c.address, STATES.c.soft_reset_at).where(
    STATES.c.tenant_id.in_(P("tenant_ids", expanding=True)),
    STATES.c.address.in_(P("addresses", expanding=True)),
)
SOFT_BOUNCES = sa.select(
    EVENTS.c.tenant_id, EVENTS.c.recipient, EVENTS.c.created_at, EVENTS.c.reason
).where(
    EVENTS.c.tenant_id.in_(P("tenant_ids", expanding=True)),
    EVENTS.c.recipient.in_(P("addresses", expanding=True)),
    EVENTS.c.kind == Kind.SOFT_BOUNCE.value,
    EVENTS.c.created_at >= P("since"),
)


def _insert(dialect: str, table: sa.Table) -> Any:
    """INSERT with ON CONFLICT (both backends have it, through different classes)."""
    return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)


@dataclass(frozen=True, slots=True)
class _Upserts:
    """The dialect's ON CONFLICT statements. Built once per dialect: building one (its
    ``excluded`` alias above all) cost more than running it."""

    message: Any
    state: Any
    suppression: Any


@functools.cache
def _upserts(dialect: str) -> _Upserts:
    # Insert unless the same message is already stored: no row back means a duplicate
    # (a concurrent delivery of it committed first).
    message = (
        _insert(dialect, MESSAGES)
        .on_conflict_do_nothing(index_elements=["tenant_id", "dedup_key"])
        .returning(MESSAGES.c.uid, MESSAGES.c.id)
    )
    # One row per address and group carries the group's net change (_StateChange): a
    # reset in it (soft_reset_at given) restarts the count at the soft bounces after it.
    state_insert = _insert(dialect, STATES)
    state_new = state_insert.excluded
    state = state_insert.on_conflict_do_update(
        index_elements=["tenant_id", "address"],
        set_={
            "soft_bounces": sa.case(
                (state_new.soft_reset_at.is_(None), STATES.c.soft_bounces + state_new.soft_bounces),
                else_=state_new.soft_bounces,
            ),
            "soft_reset_at": sa.func.coalesce(state_new.soft_reset_at, STATES.c.soft_reset_at),
            "last_event_at": state_new.last_event_at,
        },
    )
    # Suppress unless an active suppression already stands. A permanent one replaces a
    # temporary one; an expired one is renewed. A row back means the list changed. The
    # new row's created_at is the message's time: "expired" is judged at that time.
    suppression_insert = _insert(dialect, SUPPRESSIONS)
    new = suppression_insert.excluded
    changed = ("kind", "reason", "event_id", "expires_at", "created_at", "source", "verified")
    suppression = suppression_insert.on_conflict_do_update(
        index_elements=["tenant_id", "address", "stream"],
        set_={name: new[name] for name in changed},
        where=sa.or_(
            SUPPRESSIONS.c.expires_at <= new.created_at,
            sa.and_(SUPPRESSIONS.c.expires_at.is_not(None), new.expires_at.is_(None)),
        ),
    ).returning(SUPPRESSIONS.c.tenant_id, SUPPRESSIONS.c.address, SUPPRESSIONS.c.stream)
    return _Upserts(message, state, suppression)


# ---------------------------------------------------------------- the transaction


async def record(store: Store, received: Received, report: Report, *, publish: bool) -> Recorded:
    """Record one message in its own transaction."""
    [result] = await record_many(store, [(received, report)], publish=publish)
    return result


async def record_many(
    store: Store, items: Sequence[tuple[Received, Report]], *, publish: bool
) -> list[Recorded]:
    """Record several messages in one transaction: one commit (one fsync) for all.

    The same rows and answers as recording them one by one in this order (a message
    twice in the group: the second is a duplicate of the first). All or nothing: if
    the transaction fails, the caller gets the exception; the stage decides whether
    retrying them one by one helps (``store.errors.about_the_data``).
    """
    if not items:
        return []
    contexts: dict[int, TenantContext] = {}
    for received, _ in items:
        if received.tenant.id not in contexts:
            contexts[received.tenant.id] = await cached_context(store, received.tenant.id)
    # DKIM (DNS) before the transaction, never holding the writer: only the complaints
    # of listed feedback loops pay for it (store.dkim).
    signers = await signers_of(
        [(received.raw, report, contexts[received.tenant.id].policy) for received, report in items]
    )
    group = _Group(
        items=items,
        keys=[dedup_key(received, report) for received, report in items],
        contexts=contexts,
        signers=signers,
        publish=publish,
        upserts=_upserts(store.engine.dialect.name),
    )
    async with store.write_core() as conn:
        await conn.run_sync(group.run)
    # Counted and told only once committed: nothing here shows what a rollback undid.
    for result in group.results:
        for kind, verified in result.findings:
            metrics.FINDINGS.labels(kind, str(verified).lower()).inc()
        metrics.SUPPRESSIONS.inc(len(result.suppressed))
    for message in group.new:
        if message.refused:
            # A logger per call (rare): one cached at import would keep the first
            # configuration's output for good (cache_logger_on_first_use).
            structlog.get_logger("returnpath.store").warning(
                "unverified_cap_reached",
                message=message.uid,
                tenant=message.received.tenant.name,
                cap=message.context.policy.unverified_suppressions_per_message,
                left_unsuppressed=message.refused,
            )
    return group.results


@dataclass(slots=True)
class _New:
    """A message of the group not stored before: what it wrote and decided."""

    position: int  # in the group
    received: Received
    report: Report
    key: str
    uid: str
    context: TenantContext
    id: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    refused: int = 0  # addresses the unverified cap left alone


@dataclass(slots=True)
class _StateChange:
    """An address's soft-bounce counter after the group, as one upsert row: the soft
    bounces counted since the group's last reset of it (all of them if none), that
    reset's time, and the time of the group's last change."""

    soft_bounces: int = 0
    reset_at: datetime | None = None
    last_event_at: datetime | None = None


@dataclass(slots=True)
class _Suppress:
    """A suppression the policy asked for; its row is built once the event has its id."""

    message: _New
    event: dict[str, Any]
    decision: Decision
    at: datetime
    row: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str, str]:
        return self.event["tenant_id"], self.event["recipient"], self.decision.stream


@dataclass(slots=True)
class _Group:
    """One transaction's work, run synchronously inside ``AsyncConnection.run_sync``."""

    items: Sequence[tuple[Received, Report]]
    keys: list[str]
    contexts: Mapping[int, TenantContext]
    signers: Sequence[frozenset[str]]  # per item: domains with a valid DKIM signature
    publish: bool
    upserts: _Upserts
    new: list[_New] = field(default_factory=list)
    results: list[Recorded] = field(default_factory=list)

    def run(self, conn: Connection) -> None:
        self.new, self.results = [], []
        uid_of = self._store_messages(conn)
        if self.new:
            self._build_events()
            suppress = self._decide(conn)
            self._store_events(conn)
            self._suppress(conn, suppress)
            if self.publish:
                self._outbox(conn)
        stored = {m.position: m for m in self.new}
        for position, ((received, _), key) in enumerate(zip(self.items, self.keys, strict=True)):
            m = stored.get(position)
            if m is None:
                self.results.append(Recorded(uid_of[received.tenant.id, key], True, (), ()))
                continue
            self.results.append(
                Recorded(
                    m.uid,
                    False,
                    tuple(e["uid"] for e in m.events),
                    tuple(m.suppressed),
                    tuple((e["kind"], e["verified"]) for e in m.events),
                    tuple(f"{e['effect']}:{e['effect_reason']}" for e in m.events),
                )
            )

    def _store_messages(self, conn: Connection) -> dict[tuple[int, str], str]:
        """Insert the group's new messages; the uid each dedup key stands for.

        No look-up first: the insert skips what is already stored (no row back), and
        only then are the uids of those duplicates read, in one query.
        """
        uid_of: dict[tuple[int, str], str] = {}
        candidates: list[_New] = []
        for position, ((received, report), key) in enumerate(
            zip(self.items, self.keys, strict=True)
        ):
            if (received.tenant.id, key) in uid_of:
                continue  # earlier in this very group
            uid = received.uid or new_uid()
            uid_of[received.tenant.id, key] = uid
            context = self.contexts[received.tenant.id]
            candidates.append(_New(position, received, report, key, uid, context))
        rows = [_message_row(m) for m in candidates]
        ids: dict[str, int] = dict(conn.execute(self.upserts.message, rows).all())
        stored_before: list[_New] = []
        for m in candidates:
            m.id = ids.get(m.uid)
            (stored_before if m.id is None else self.new).append(m)
        if stored_before:
            found: set[tuple[int, str]] = set()
            tenant_ids = sorted({m.received.tenant.id for m in stored_before})
            for keys in _chunks(sorted({m.key for m in stored_before})):
                params = {"tenant_ids": tenant_ids, "keys": keys}
                for tenant_id, key, uid in conn.execute(FIND_MESSAGES, params):
                    uid_of[tenant_id, key] = uid
                    found.add((tenant_id, key))
            for m in stored_before:
                if (m.received.tenant.id, m.key) not in found:
                    # Refused as a duplicate, yet gone (deleted meanwhile): try again later.
                    raise RuntimeError(f"message {m.key} neither inserted nor found")
        return uid_of

    def _build_events(self) -> None:
        """The event rows, without their ids: the policy decides on them before they are
        inserted, so each row is written once, with its effect."""
        for m in self.new:
            assert m.id is not None
            received, report = m.received, m.report
            findings = report.findings or (
                Finding(kind=Kind.UNKNOWN, reason=Reason.UNDEFINED, family=report.family),
            )
            bounce_domain = received.rcpt_tos[0].rpartition("@")[2] if received.rcpt_tos else ""
            now = received.received_at
            m.events = [
                _event_row(
                    f,
                    attribute(f, m.context.signing_keys, bounce_domain, now),
                    received.tenant.id,
                    m.id,
                    now,
                    m.context.policy,
                )
                for f in findings
            ]

    def _store_events(self, conn: Connection) -> None:
        rows = [e for m in self.new for e in m.events]
        ids: dict[str, int] = dict(conn.execute(INSERT_EVENTS, rows).all())
        for event in rows:
            event["id"] = ids[event["uid"]]

    def _decide(self, conn: Connection) -> list[_Suppress]:
        """Ask the policy about every event, in arrival order; write each one's effect
        into its row and the soft-bounce counters; the suppressions it asked for, in the
        same order (their event ids are filled in once the events are inserted)."""
        soft = _SoftHistories(conn, self.new)
        states: dict[tuple[int, str], _StateChange] = {}
        suppress: list[_Suppress] = []
        for position, m in enumerate(self.new):
            policy, now = m.context.policy, m.received.received_at
            acted: set[str] = set()  # addresses this message changed without proof
            refused: set[str] = set()
            for event in m.events:
                address = event["recipient"]
                if not address:
                    _set_effect(event, Outcome.RECORDED, Why.NO_RECIPIENT, NO_RECIPIENT_WORDS)
                    continue  # nobody to suppress or count
                if allowlisted(m.context.allowlist, address):
                    _set_effect(event, Outcome.RECORDED, Why.ALLOWLISTED, ALLOWLISTED_WORDS)
                    continue  # recorded, never acted on (store.allowlist)
                seen = _seen(event, m.report, now, self.signers[m.position])
                key = (event["tenant_id"], address)
                history = (
                    soft.history(key, position, policy.soft_window_start(now))
                    if seen.kind == Kind.SOFT_BOUNCE
                    else NO_HISTORY
                )
                decision = decide(seen, history, policy)
                if (
                    not seen.verified
                    and (decision.suppress or decision.effect is Effect.COUNT_SOFT)
                    and address not in acted
                ):
                    # One forged report must not empty a list: past the cap, recorded only.
                    if len(acted) >= policy.unverified_suppressions_per_message:
                        refused.add(address)
                        _set_effect(
                            event, Outcome.RECORDED, Why.UNVERIFIED_CAP_REACHED, CAP_REACHED_WORDS
                        )
                        continue
                    acted.add(address)
                _set_effect(event, decision.outcome, decision.code, decision.why)
                if decision.effect is Effect.RESET:
                    change = states.setdefault(key, _StateChange())
                    change.soft_bounces, change.reset_at, change.last_event_at = 0, now, now
                    soft.reset(key, now)
                elif decision.effect is Effect.COUNT_SOFT:
                    change = states.setdefault(key, _StateChange())
                    change.soft_bounces += 1
                    change.last_event_at = now
                if decision.suppress:
                    suppress.append(_Suppress(m, event, decision, now))
            m.refused = len(refused)
        if states:
            conn.execute(
                self.upserts.state,
                [
                    {
                        "tenant_id": tenant_id,
                        "address": address,
                        "soft_bounces": change.soft_bounces,
                        "soft_reset_at": change.reset_at,
                        "last_event_at": change.last_event_at,
                    }
                    for (tenant_id, address), change in states.items()
                ],
            )
        return suppress

    def _suppress(self, conn: Connection, wanted: list[_Suppress]) -> None:
        """Upsert the suppressions; the database says which ones changed the list.

        One multi-row upsert may not name a row twice (PostgreSQL refuses it, and the
        second must see the first's outcome), so the n-th request for an address goes
        in the n-th statement: one statement unless the group names an address twice.
        """
        for request in wanted:
            request.row = _suppression_row(request.event, request.decision, request.at)
        rounds: list[list[_Suppress]] = []
        seen: defaultdict[tuple[int, str, str], int] = defaultdict(int)
        for request in wanted:
            n = seen[request.key]
            seen[request.key] = n + 1
            if n == len(rounds):
                rounds.append([])
            rounds[n].append(request)
        changed: set[int] = set()
        for batch in rounds:
            rows = conn.execute(self.upserts.suppression, [r.row for r in batch]).all()
            returned = {(t, a, s) for t, a, s in rows}
            changed.update(id(r) for r in batch if r.key in returned)
        audits = []
        for request in wanted:  # in arrival order, as one by one would have written them
            if id(request) not in changed:
                continue  # an active suppression already stood
            row = request.row
            request.message.suppressed.append(row["address"])
            audits.append(
                {
                    "tenant_id": row["tenant_id"],
                    "address": row["address"],
                    "stream": row["stream"],
                    "action": "add",
                    "actor": "bounce",
                    "kind": row["kind"],
                    "reason": row["reason"],
                    "at": row["created_at"],
                }
            )
        if audits:
            conn.execute(INSERT_AUDIT, audits)

    def _outbox(self, conn: Connection) -> None:
        conn.execute(
            INSERT_OUTBOX,
            [
                {
                    "event_uid": e["uid"],
                    "routing_key": routing_key(e["kind"], e["reason"]),
                    "body": json.dumps(
                        event_body(e, m.received.tenant.name, m.uid), separators=(",", ":")
                    ),
                    "created_at": m.received.received_at,
                    "attempts": 0,
                }
                for m in self.new
                for e in m.events
            ],
        )


class _SoftHistories:
    """The soft bounces and last resets of the group's soft-bounced addresses, read in
    two queries, and served to each message as it would have found them recorded one
    by one: the group's own soft bounces up to and including that message's (not yet
    inserted: they are added here), and the resets of the messages before it."""

    def __init__(self, conn: Connection, new: list[_New]) -> None:
        # (position in the group of the message that recorded it, or -1 when stored
        # before the group; time; reason)
        self.bounces: defaultdict[tuple[int, str], list[tuple[int, datetime, str]]]
        self.bounces = defaultdict(list)
        self.reset_at: dict[tuple[int, str], datetime | None] = {}
        soft = [
            (position, m, e)
            for position, m in enumerate(new)
            for e in m.events
            if e["recipient"] and e["kind"] == Kind.SOFT_BOUNCE.value
        ]
        if not soft:
            return
        tenant_ids = sorted({e["tenant_id"] for _, _, e in soft})
        since = min(m.context.policy.soft_window_start(m.received.received_at) for _, m, _ in soft)
        for addresses in _chunks(sorted({e["recipient"] for _, _, e in soft})):
            params = {"tenant_ids": tenant_ids, "addresses": addresses}
            for tenant_id, address, reset_at in conn.execute(RESET_ATS, params):
                self.reset_at[tenant_id, address] = reset_at
            for tenant_id, address, at, reason in conn.execute(
                SOFT_BOUNCES, {**params, "since": since}
            ):
                self.bounces[tenant_id, address].append((-1, at, reason))
        for position, _, e in soft:
            key = (e["tenant_id"], e["recipient"])
            self.bounces[key].append((position, e["created_at"], e["reason"]))

    def history(self, key: tuple[int, str], position: int, since: datetime) -> History:
        return History(
            soft_bounces=[
                (at, reason)
                for recorded_by, at, reason in self.bounces.get(key, ())
                if at >= since and recorded_by <= position
            ],
            soft_reset_at=self.reset_at.get(key),
        )

    def reset(self, key: tuple[int, str], at: datetime) -> None:
        self.reset_at[key] = at


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def _seen(
    event: Mapping[str, Any], report: Report, now: datetime, dkim_domains: frozenset[str]
) -> Seen:
    """The event as ``decide`` judges it: the one place a ``Seen`` is built."""
    return Seen(
        kind=event["kind"],
        reason=event["reason"],
        at=now,
        verified=event["verified"],
        stream=event["stream"],
        family=report.family,
        sender=report.sender,
        dkim_domains=dkim_domains,
    )


def _message_row(m: _New) -> dict[str, Any]:
    received, report = m.received, m.report
    return {
        "uid": m.uid,
        "tenant_id": received.tenant.id,
        "dedup_key": m.key,
        "received_at": received.received_at,
        "peer": received.peer,
        "mail_from": received.mail_from,
        "rcpt_tos": json.dumps(list(received.rcpt_tos)),
        "size": len(received.raw),
        "header_message_id": (report.message_id or None) and report.message_id[:998],
        "family": report.family,
        "parse_error": report.error,
        "raw": received.raw,
    }


def _suppression_row(event: Mapping[str, Any], decision: Decision, now: datetime) -> dict[str, Any]:
    return {
        "tenant_id": event["tenant_id"],
        "address": event["recipient"],
        "stream": decision.stream,
        "kind": event["kind"],
        "reason": event["reason"],
        "event_id": event["id"],
        "expires_at": decision.until,
        "created_at": now,
        "source": "bounce",
        "verified": event["verified"],
        "note": None,
    }


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
        "decided_by": _clip(finding.decided_by, DECIDED_BY_CHARS),
        "evidence": _clip(finding.evidence, EVIDENCE_CHARS),
        # set by _Group._decide before the row is inserted
        "effect": None,
        "effect_reason": None,
        "effect_detail": None,
    }


def _set_effect(event: dict[str, Any], outcome: Outcome, code: Why, words: str) -> None:
    event["effect"] = outcome.value
    event["effect_reason"] = code.value
    event["effect_detail"] = words[:EFFECT_DETAIL_CHARS]
