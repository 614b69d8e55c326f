"""The allowlist: addresses and whole domains the policy never suppresses.

An operator's answer to "this customer must get our mail whatever the bounces
say" (a seed list, a VIP, a partner's domain whose gateway answers oddly):
findings about an allowlisted address are still recorded (the history stays
true), but the policy does not act on them (``store.ingest`` asks
``allowlisted`` before it suppresses). Allowlisting lifts the suppressions the
entry covers, audited, so the checks need not look at the allowlist at all and
keep their speed.

The entries of a tenant are few (hundreds, at most tens of thousands) and read
with its policy (``tenants.TenantContext.allowlist``, refreshed every two
seconds): deciding costs a set lookup, not a statement.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select

from returnpath.parsers.addresses import InvalidAddress, normalise_address
from returnpath.store.db import Store
from returnpath.store.models import (
    AddressState,
    AllowlistEntry,
    Suppression,
    SuppressionAudit,
    utcnow,
)
from returnpath.store.tenants import bounce_domain, forget_context


def entry_key(entry: str, *, fold_local: bool) -> str:
    """``@domain`` (IDNA A-labels, a host name) or a normalised address; ValueError else."""
    text = entry.strip()
    if text.startswith("@"):
        return "@" + bounce_domain(text[1:], "the domain of @domain")
    try:
        return normalise_address(text, fold_local=fold_local)
    except InvalidAddress as exc:
        raise ValueError(f"not an address or @domain: {entry!r}") from exc


def allowlisted(entries: frozenset[str], address: str) -> bool:
    """Is ``address`` (normalised) on the list, itself or by its domain?"""
    if not entries:
        return False
    return address in entries or "@" + address.rpartition("@")[2] in entries


@dataclass(frozen=True, slots=True)
class Put:
    entry: AllowlistEntry
    created: bool
    lifted: int  # suppressions the entry lifted


def _covered(tenant_id: int, key: str) -> sa.ColumnElement[bool]:
    address: sa.ColumnElement[bool]
    if key.startswith("@"):
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        # every address at the domain, and nothing at a subdomain ('@a.example' does not
        # take 'x@b.a.example': the '@' is part of the pattern)
        address = col(Suppression.address).like("%" + escaped, escape="\\")
    else:
        address = col(Suppression.address) == key
    return sa.and_(col(Suppression.tenant_id) == tenant_id, address)


async def put(store: Store, tenant_id: int, key: str, *, note: str | None, actor: str) -> Put:
    """Add or update an entry and lift what it covers (audited as allowlisted)."""
    now = utcnow()
    async with store.write() as session:
        row = await session.get(AllowlistEntry, (tenant_id, key))
        created = row is None
        if row is None:
            row = AllowlistEntry(tenant_id=tenant_id, entry=key, actor=actor, created_at=now)
        row.note, row.actor = note, actor
        session.add(row)
        lifted = (
            await session.execute(select(Suppression).where(_covered(tenant_id, key)))
        ).scalars()
        count = 0
        for suppression in lifted:
            count += 1
            await session.delete(suppression)
            session.add(
                SuppressionAudit(
                    tenant_id=tenant_id,
                    address=suppression.address,
                    stream=suppression.stream,
                    action="remove",
                    actor=actor,
                    kind=suppression.kind,
                    reason=f"allowlisted {key}" + (f": {note}" if note else ""),
                    at=now,
                )
            )
            state = await session.get(AddressState, (tenant_id, suppression.address))
            if state is not None:
                state.soft_bounces, state.soft_reset_at = 0, now
        await session.flush()
        result = Put(row, created, count)
    forget_context(store, tenant_id)
    return result


async def remove(store: Store, tenant_id: int, key: str) -> bool:
    async with store.write() as session:
        row = await session.get(AllowlistEntry, (tenant_id, key))
        if row is None:
            return False
        await session.delete(row)
    forget_context(store, tenant_id)
    return True


async def get(store: Store, tenant_id: int, key: str) -> AllowlistEntry | None:
    async with store.read() as session:
        return await session.get(AllowlistEntry, (tenant_id, key))


async def page(store: Store, tenant_id: int, after: str, limit: int) -> list[AllowlistEntry]:
    """Entries in key order after ``after`` (the cursor is the last entry itself)."""
    q = (
        select(AllowlistEntry)
        .where(col(AllowlistEntry.tenant_id) == tenant_id, col(AllowlistEntry.entry) > after)
        .order_by(col(AllowlistEntry.entry))
        .limit(limit)
    )
    async with store.read() as session:
        return list((await session.execute(q)).scalars())
