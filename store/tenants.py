"""Tenants and their bounce domains.

The SMTP listener asks ``DomainDirectory.tenant_for`` on every RCPT. The map is
small, so it is held in memory and reloaded when older than a couple of
seconds, or at once on a miss: a tenant created from the CLI while ``serve``
runs is accepted without a restart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlmodel import col, select

from store.db import Store
from store.models import Domain, Tenant, utcnow

DEFAULT_TENANT = "default"


@dataclass(frozen=True, slots=True)
class TenantRef:
    id: int
    name: str


def normalise_domain(domain: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


async def ensure_tenant(store: Store, name: str, domains: list[str]) -> TenantRef:
    """Create the tenant if missing and give it these domains (idempotent)."""
    async with store.write() as session:
        tenant = (
            await session.execute(select(Tenant).where(col(Tenant.name) == name))
        ).scalar_one_or_none()
        if tenant is None:
            tenant = Tenant(name=name, created_at=utcnow())
            session.add(tenant)
            await session.flush()
        assert tenant.id is not None
        for domain in {normalise_domain(d) for d in domains if d.strip()}:
            owner = await session.get(Domain, domain)
            if owner is None:
                session.add(Domain(domain=domain, tenant_id=tenant.id))
            elif owner.tenant_id != tenant.id:
                raise ValueError(f"domain {domain} already belongs to another tenant")
        return TenantRef(tenant.id, tenant.name)


class DomainDirectory:
    def __init__(self, store: Store, ttl: float = 2.0) -> None:
        self._store = store
        self._ttl = ttl
        self._map: dict[str, TenantRef] = {}
        self._loaded_at = -1e9

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
        domain = normalise_domain(domain)
        age = time.monotonic() - self._loaded_at
        if age > self._ttl or (domain not in self._map and age > 0.2):
            await self.reload()
        return self._map.get(domain)
