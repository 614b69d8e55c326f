"""Reading and changing a tenant's policy (cached briefly: every API call reads it)."""

from __future__ import annotations

from returnpath.store.db import Store
from returnpath.store.errors import NotFound
from returnpath.store.models import Tenant
from returnpath.store.policy import Policy
from returnpath.store.tenants import cached_context, forget_context


async def get(store: Store, tenant_id: int) -> Policy:
    """The tenant's policy, from the same short-lived cache the SMTP side reads."""
    return (await cached_context(store, tenant_id)).policy


async def put(store: Store, tenant_id: int, policy: Policy) -> Policy:
    async with store.write() as session:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound("no such tenant")
        # Only what differs from the defaults is stored, so improved defaults reach everyone.
        tenant.policy = policy.model_dump_json(exclude_defaults=True)
    forget_context(store, tenant_id)
    return policy
