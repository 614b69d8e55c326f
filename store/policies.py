"""Reading and changing a tenant's policy (cached briefly: every API call reads it)."""

from __future__ import annotations

import time

from store.db import Store
from store.errors import NotFound
from store.models import Tenant
from store.policy import Policy
from store.tenants import forget_context

_TTL = 2.0


async def get(store: Store, tenant_id: int) -> Policy:
    hit = store.cache.get(("policy", tenant_id))
    if hit is not None and time.monotonic() - hit[0] < _TTL:
        cached: Policy = hit[1]
        return cached
    async with store.read() as session:
        tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    policy = Policy.model_validate_json(tenant.policy or "{}")
    store.cache[("policy", tenant_id)] = (time.monotonic(), policy)
    return policy


async def put(store: Store, tenant_id: int, policy: Policy) -> Policy:
    async with store.write() as session:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound("no such tenant")
        # Only what differs from the defaults is stored, so improved defaults reach everyone.
        tenant.policy = policy.model_dump_json(exclude_defaults=True)
    forget_context(store, tenant_id)
    return policy
