"""Reading and changing a tenant's policy (cached briefly: every API call reads it)."""

from __future__ import annotations

import json
from typing import Any

from returnpath.store.db import Store
from returnpath.store.errors import NotFound
from returnpath.store.models import Tenant
from returnpath.store.policy import Policy
from returnpath.store.tenants import cached_context, forget_context


async def get(store: Store, tenant_id: int) -> Policy:
    """The tenant's policy, from the same short-lived cache the SMTP side reads."""
    return (await cached_context(store, tenant_id)).policy


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge member by member, ``null`` removes
    a member, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


async def patch(store: Store, tenant_id: int, changes: dict[str, Any]) -> Policy:
    """Change only the fields ``changes`` names (a merge patch; ``null`` restores a
    field's default), read and written in one transaction, the tenant's row locked
    on PostgreSQL (SQLite has one writer), so that two patches of different fields
    at once both hold. Raises pydantic's ``ValidationError``."""
    async with store.write() as session:
        tenant = await session.get(Tenant, tenant_id, with_for_update=True)
        if tenant is None:
            raise NotFound("no such tenant")
        stored = json.loads(tenant.policy) if tenant.policy else {}
        # the whole current policy, defaults included: a patch of one key of a map
        # keeps the map's other keys, default or not
        current = Policy.model_validate(stored).model_dump(mode="json")
        policy = Policy.model_validate(merge_patch(current, changes))
        tenant.policy = policy.model_dump_json(exclude_defaults=True)
    forget_context(store, tenant_id)
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
