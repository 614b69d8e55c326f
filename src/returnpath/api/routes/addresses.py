"""/v1/addresses/{address}: erasing an address on request (GDPR art. 17)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from returnpath.api.deps import PolicyDep, StoreDep, Writer
from returnpath.parsers.addresses import InvalidAddress, normalise_address
from returnpath.store import erase

router = APIRouter(prefix="/v1/addresses", tags=["addresses"])


class ErasedPublic(BaseModel):
    key: str = Field(description="the hash its suppressions are kept under (still never mailed)")
    suppressions: int = Field(description="suppressions kept under the hash")
    events: int = Field(description="events whose recipient, diagnostic and evidence were removed")
    messages: int = Field(description="raw messages emptied")
    audits: int = Field(description="audit entries whose address and note were removed")


@router.delete("/{address}", response_model=ErasedPublic)
async def erase_address(
    address: str, store: StoreDep, who: Writer, policy: PolicyDep
) -> ErasedPublic:
    """Erase an address: its raw messages, its events' personal fields, its audit notes,
    its state and allowlist entry go; its suppressions stay under a hash of the address,
    so the checks still refuse it. 404 when nothing was recorded for it."""
    try:
        key = normalise_address(address, fold_local=policy.fold_local_case)
    except InvalidAddress as exc:
        raise HTTPException(422, str(exc)) from exc
    done = await erase.erase(store, who.tenant_id, key)
    if not done.anything:
        raise HTTPException(404, "nothing recorded for this address")
    return ErasedPublic(
        key=done.key,
        suppressions=done.suppressions,
        events=done.events,
        messages=done.messages,
        audits=done.audits,
    )
