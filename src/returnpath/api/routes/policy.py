"""/v1/policy: the caller's tenant's suppression policy (documented defaults)."""

from __future__ import annotations

from fastapi import APIRouter

from returnpath.api.deps import PolicyDep, Reader, StoreDep, Writer
from returnpath.store import policies
from returnpath.store.policy import SENDER_SIDE_DESCRIPTIONS, Policy

router = APIRouter(prefix="/v1/policy", tags=["policy"])


@router.get("", response_model=Policy)
async def get_policy(policy: PolicyDep, _: Reader) -> Policy:
    return policy


@router.put("", response_model=Policy)
async def put_policy(body: Policy, store: StoreDep, who: Writer) -> Policy:
    """Replace the policy; fields left out take their defaults."""
    return await policies.put(store, who.tenant_id, body)


@router.get("/sender-side-reasons", response_model=dict[str, str])
async def sender_side_reasons(_: Reader) -> dict[str, str]:
    """Reasons that are the sender's fault: they never count towards suppression."""
    return SENDER_SIDE_DESCRIPTIONS
