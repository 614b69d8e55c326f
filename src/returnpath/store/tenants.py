"""Tenants and their bounce domains.

The SMTP listener asks ``DomainDirectory.tenant_for`` on every RCPT. The map is
small, so it is held in memory and reloaded when older than a couple of
seconds, or at once on a miss: a tenant created from the CLI while ``serve``
runs is accepted without a restart.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, delete, select

from returnpath.parsers.addresses import normalise_domain, try_normalise_domain
from returnpath.store.db import Store
from returnpath.store.errors import Conflict, NotFound
from returnpath.store.models import AllowlistEntry, Domain, SigningKey, Tenant, utcnow
from returnpath.store.policy import Policy
from returnpath.store.signing_keys import ensure_key

DEFAULT_TENANT = "default"

# RFC 1035 2.3.1 (letters, digits, hyphens; RFC 1123 allows a leading digit): each
# label 1-63 octets, the whole name at most 253, as an A-label after IDNA 2008
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


def bounce_domain(domain: str, what: str = "a bounce domain") -> str:
    """A bounce domain as stored and looked up (lower case, IDNA 2008 A-labels), or
    ValueError saying what is wrong: an address, a space, a label no DNS name has.
    Also the key of the other domains a user names (``what`` says which in errors)."""
    text = domain.strip()
    if not text:
        raise ValueError(f"{what} is empty")
    if "@" in text:
        raise ValueError(f"{domain!r} is an address, not a domain: give only what follows the @")
    key = normalise_domain(text)  # InvalidAddress (a ValueError) where IDNA 2008 refuses
    labels = key.split(".")
    if len(key) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(
            f"{domain!r} is not a host name (letters, digits and hyphens in dot-separated labels)"
        )
    return key


@dataclass(frozen=True, slots=True)
class TenantRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class TenantContext:
    """What recording a message needs to know about its tenant."""

    policy: Policy
    signing_keys: dict[int, tuple[bytes, datetime | None]]  # key id -> (secret, retire_at)
    #: addresses and @domains never suppressed (store.allowlist)
    allowlist: frozenset[str] = frozenset()


async def cached_context(store: Store, tenant_id: int) -> TenantContext:
    """The tenant's policy and keys, re-read every two seconds (every message and check
    needs them; see store.cache)."""

    async def load() -> TenantContext:
        async with store.read() as session:
            return await load_context(session, tenant_id)

    context: TenantContext = await store.cache.get(("context", tenant_id), load)
    return context


def forget_context(store: Store, tenant_id: int) -> None:
    """Called after a change in this process (policy, key rotation): effective at once."""
    store.cache.forget(("context", tenant_id))


async def load_context(session: AsyncSession, tenant_id: int) -> TenantContext:
    tenant = await session.get(Tenant, tenant_id)
    policy = Policy.model_validate_json(tenant.policy) if tenant and tenant.policy else Policy()
    rows = (
        await session.execute(select(SigningKey).where(col(SigningKey.tenant_id) == tenant_id))
    ).scalars()
    keys = {k.key_id: (k.secret, k.retire_at) for k in rows}
    allowed = (
        await session.execute(
            select(col(AllowlistEntry.entry)).where(col(AllowlistEntry.tenant_id) == tenant_id)
        )
    ).scalars()
    return TenantContext(policy, keys, frozenset(allowed))


async def ensure_tenant(
    store: Store, name: str, domains: list[str], *, only: bool = False
) -> TenantRef:
    """Create the tenant if missing and give it these domains (idempotent).

    A domain is kept as ``parsers.addresses`` writes it (lower case, IDNA 2008
    A-labels), the form the listener looks up; one that is not a host name
    raises ValueError (``bounce_domain``), as no mail can arrive for it. With
    ``only``, the tenant's other domains are removed: ``RETURNPATH_DOMAINS`` is
    the whole list of the default tenant's domains, so a domain taken out of it
    is no longer accepted.
    """
    wanted = {bounce_domain(d) for d in domains if d.strip()}
    async with store.write() as session:
        tenant = (
            await session.execute(select(Tenant).where(col(Tenant.name) == name))
        ).scalar_one_or_none()
        if tenant is None:
            tenant = Tenant(name=name, created_at=utcnow())
            session.add(tenant)
            await session.flush()
        assert tenant.id is not None
        await ensure_key(session, tenant.id)
        for domain in wanted:
            await _claim(session, tenant.id, domain)
        if only:
            await session.execute(
                delete(Domain).where(
                    col(Domain.tenant_id) == tenant.id, col(Domain.domain).not_in(wanted)
                )
            )
        return TenantRef(tenant.id, tenant.name)


async def add_domain(store: Store, name: str, domain: str) -> str:
    """Give a tenant one more bounce domain (idempotent); NotFound, Conflict, ValueError."""
    key = bounce_domain(domain)
    async with store.write() as session:
        tenant = await _tenant_named(session, name)
        assert tenant.id is not None
        await _claim(session, tenant.id, key)
    return key


async def remove_domain(store: Store, name: str, domain: str) -> str:
    """Stop accepting mail for one of a tenant's domains (within the listener's
    directory reload, two seconds). What was recorded for it stays."""
    key = bounce_domain(domain)
    async with store.write() as session:
        tenant = await _tenant_named(session, name)
        owner = await session.get(Domain, key)
        if owner is None or owner.tenant_id != tenant.id:
            raise NotFound(f"tenant {name!r} has no domain {key}")
        await session.delete(owner)
    return key


async def _claim(session: AsyncSession, tenant_id: int, domain: str) -> None:
    """Give ``domain`` (already a ``bounce_domain`` key) to the tenant; idempotent,
    Conflict when another tenant has it."""
    owner = await session.get(Domain, domain)
    if owner is None:
        session.add(Domain(domain=domain, tenant_id=tenant_id))
    elif owner.tenant_id != tenant_id:
        raise Conflict(f"domain {domain} already belongs to another tenant")


async def _tenant_named(session: AsyncSession, name: str) -> Tenant:
    tenant = await _find_tenant(session, name)
    if tenant is None:
        raise NotFound(f"no tenant {name!r}")
    return tenant


async def _find_tenant(session: AsyncSession, name: str) -> Tenant | None:
    return (
        await session.execute(select(Tenant).where(col(Tenant.name) == name))
    ).scalar_one_or_none()


async def create_tenant(store: Store, name: str, domains: list[str]) -> TenantRef:
    """A new tenant with its bounce domains; 409-worthy if the name or a domain is taken."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("a tenant name is 1 to 100 characters")
    async with store.read() as session:
        exists = (await session.execute(select(Tenant.id).where(col(Tenant.name) == name))).first()
    if exists is not None:
        raise Conflict(f"tenant {name!r} already exists")
    return await ensure_tenant(store, name, domains)


async def list_tenants(store: Store) -> list[tuple[Tenant, list[str]]]:
    async with store.read() as session:
        tenants = list((await session.execute(select(Tenant).order_by(col(Tenant.id)))).scalars())
        domains = (await session.execute(select(Domain))).scalars().all()
    by_tenant: dict[int, list[str]] = {}
    for d in domains:
        by_tenant.setdefault(d.tenant_id, []).append(d.domain)
    return [(t, sorted(by_tenant.get(t.id or 0, []))) for t in tenants]


async def get_tenant(store: Store, name: str) -> Tenant | None:
    async with store.read() as session:
        return await _find_tenant(session, name)


class DomainDirectory:
    def __init__(self, store: Store, ttl: float = 2.0) -> None:
        self._store = store
        self._ttl = ttl
        self._map: dict[str, TenantRef] = {}
        self._loaded_at = -1e9
        self._reloading = asyncio.Lock()

    async def reload(self) -> None:
        async with self._store.read() as session:
            rows = (
                await session.execute(
                    select(col(Domain.domain), col(Tenant.id), col(Tenant.name)).join(
                        Tenant, col(Domain.tenant_id) == col(Tenant.id)
                    )
                )
            ).all()
        self._map = {d: TenantRef(tid, name) for d, tid, name in rows if tid is not None}
        self._loaded_at = time.monotonic()

    async def tenant_for(self, domain: str) -> TenantRef | None:
        """The tenant owning a bounce domain; None for no tenant's (or no domain at all)."""
        key = try_normalise_domain(domain)
        if key is None:  # IDNA 2008 refuses it: nobody's bounce domain
            return None
        if self._stale(key):
            # One reload at a time: the sessions that queued behind it find the map fresh
            # (a burst of RCPTs must not become a burst of queries; see store.cache).
            async with self._reloading:
                if self._stale(key):
                    await self.reload()
        return self._map.get(key)

    def _stale(self, domain: str) -> bool:
        age = time.monotonic() - self._loaded_at
        return age > self._ttl or (domain not in self._map and age > 0.2)
