"""/v1/policy: the caller's tenant's suppression policy (documented defaults)."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

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


MERGE_PATCH = "application/merge-patch+json"


@router.patch(
    "",
    response_model=Policy,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                MERGE_PATCH: {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def patch_policy(request: Request, store: StoreDep, who: Writer) -> Policy:
    """Change only the fields sent: a JSON merge patch (RFC 7396,
    ``application/merge-patch+json``); ``null`` restores a field's default, and
    ``{"long_hold_days": {"suspend": null}}`` removes one key of a map."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in (MERGE_PATCH, "application/json"):
        raise HTTPException(415, f"send the changes as {MERGE_PATCH} (RFC 7396)")
    try:
        changes = json.loads(await request.body())
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "the body is not JSON"}]
        ) from None
    if not isinstance(changes, dict):
        raise RequestValidationError(
            [{"type": "dict_type", "loc": ("body",), "msg": "a merge patch is a JSON object"}]
        )
    try:
        return await policies.patch(store, who.tenant_id, changes)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from exc


@router.get("/sender-side-reasons", response_model=dict[str, str])
async def sender_side_reasons(_: Reader) -> dict[str, str]:
    """Reasons that are the sender's fault: they never count towards suppression."""
    return SENDER_SIDE_DESCRIPTIONS
