"""Erasing an address (GDPR art. 17): its personal data goes, its suppression stays.

A person asks to be forgotten; the sender must also never mail them again, or the
next campaign undoes the request. So the address's suppressions are kept under a
hash of the address (``checks.erased_key``: the checks probe it, so the address is
still refused), and everything that holds the address itself or what was said about
it is removed or emptied: the raw messages of its events (they quote the mail to
it), the events' recipient (replaced by the hash), diagnostic, evidence and
original Message-ID, the audit trail's address and notes, its soft-bounce state,
its allowlist entry, and the outbox's copies (sent ones deleted, pending ones
rewritten). One transaction: an erasure is whole or not at all.

Events stay as rows (counts and rates stay true); the address cannot be found from
them any more, only tested: someone who knows the address can compute its hash,
which is what the check needs and why this is called pseudonymous, not anonymous.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from returnpath.store import metrics
from returnpath.store.checks import erased_key
from returnpath.store.db import Store
from returnpath.store.models import (
    AddressState,
    AllowlistEntry,
    Event,
    Message,
    Outbox,
    Suppression,
    SuppressionAudit,
    utcnow,
)

#: event fields that hold what was said about the address
_EMPTIED = {"diagnostic": None, "evidence": None, "original_message_id": None}


@dataclass(frozen=True, slots=True)
class Erased:
    key: str  # what the address's rows are known by now
    suppressions: int
    events: int
    messages: int  # raw messages emptied
    audits: int

    @property
    def anything(self) -> bool:
        return bool(self.suppressions or self.events or self.audits)


async def erase(store: Store, tenant_id: int, address: str) -> Erased:
    """Erase ``address`` (normalised) from the tenant's records, keeping it suppressed."""
    key = erased_key(address)
    now = utcnow()
    async with store.write_core() as conn:
        suppressions = 0
        rows = (
            await conn.execute(
                sa.select(col(Suppression.id), col(Suppression.stream)).where(
                    col(Suppression.tenant_id) == tenant_id, col(Suppression.address) == address
                )
            )
        ).all()
        for row_id, stream in rows:
            taken = (
                await conn.execute(
                    sa.select(col(Suppression.id)).where(
                        col(Suppression.tenant_id) == tenant_id,
                        col(Suppression.address) == key,
                        col(Suppression.stream) == stream,
                    )
                )
            ).first()
            if taken is not None:  # erased before, suppressed again since: one row is enough
                await conn.execute(sa.delete(Suppression).where(col(Suppression.id) == row_id))
            else:
                await conn.execute(
                    sa.update(Suppression)
                    .where(col(Suppression.id) == row_id)
                    .values(address=key, note=None)
                )
            suppressions += 1
        events = (
            await conn.execute(
                sa.select(col(Event.id), col(Event.uid), col(Event.message_id)).where(
                    col(Event.tenant_id) == tenant_id, col(Event.recipient) == address
                )
            )
        ).all()
        event_ids = [e[0] for e in events]
        event_uids = [e[1] for e in events]
        message_ids = sorted({e[2] for e in events})
        if event_ids:
            await conn.execute(
                sa.update(Event)
                .where(col(Event.id).in_(event_ids))
                .values(recipient=key, **_EMPTIED)
            )
        messages = 0
        if message_ids:
            done = await conn.execute(
                sa.update(Message)
                .where(col(Message.id).in_(message_ids))
                .values(raw=b"", raw_purged_at=now, rcpt_tos="[]", mail_from=None)
            )
            messages = done.rowcount or 0
        audits = (
            await conn.execute(
                sa.update(SuppressionAudit)
                .where(
                    col(SuppressionAudit.tenant_id) == tenant_id,
                    col(SuppressionAudit.address) == address,
                )
                .values(address=key, reason=None)
            )
        ).rowcount or 0
        await conn.execute(
            sa.delete(AddressState).where(
                col(AddressState.tenant_id) == tenant_id, col(AddressState.address) == address
            )
        )
        await conn.execute(
            sa.delete(AllowlistEntry).where(
                col(AllowlistEntry.tenant_id) == tenant_id, col(AllowlistEntry.entry) == address
            )
        )
        if event_uids:
            await _outbox(conn, event_uids, key)
    store.checks.special_changed(tenant_id)
    result = Erased(key, suppressions, len(event_ids), messages, audits)
    if result.anything:
        metrics.ERASED.inc()
    return result


async def _outbox(conn: AsyncConnection, uids: list[str], key: str) -> None:
    """Sent copies go; pending ones are published without the address."""
    await conn.execute(
        sa.delete(Outbox).where(col(Outbox.event_uid).in_(uids), col(Outbox.sent_at).is_not(None))
    )
    pending = (
        await conn.execute(
            sa.select(col(Outbox.id), col(Outbox.body)).where(col(Outbox.event_uid).in_(uids))
        )
    ).all()
    for row_id, body in pending:
        document = json.loads(body)
        document.update(recipient=key, **_EMPTIED)
        await conn.execute(
            sa.update(Outbox).where(col(Outbox.id) == row_id).values(body=json.dumps(document))
        )
