"""/v1/return-paths: signed VERP addresses, so that a bounce can prove it is genuine."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from returnpath.api.deps import Reader, StoreDep, Writer
from returnpath.parsers import signing
from returnpath.parsers.addresses import try_normalise_domain
from returnpath.parsers.signing import MAX_TOKEN_AGE
from returnpath.store import signing_keys, tenants
from returnpath.store.models import utcnow
from returnpath.store.verification import attribute_address

router = APIRouter(prefix="/v1/return-paths", tags=["return paths"])


class ReturnPathRequest(BaseModel):
    recipient: str = Field(min_length=3, max_length=320)
    message_id: str | None = Field(
        default=None, max_length=998, description="the Message-ID header you send"
    )
    stream: str | None = Field(default=None, max_length=16, pattern=r"^[A-Za-z0-9._-]+$")
    domain: str | None = Field(
        default=None, max_length=255, description="one of your bounce domains"
    )


class ReturnPath(BaseModel):
    return_path: str
    domain: str
    key_id: int
    valid_until: datetime


class VerifyRequest(BaseModel):
    return_path: str = Field(min_length=3, max_length=320)


class VerifyResult(BaseModel):
    verified: bool
    status: str
    recipient: str | None
    message_id: str | None
    stream: str | None


class Rotation(BaseModel):
    key_id: int
    previous_keys_retire_at: datetime


async def _domains(store: StoreDep, tenant: str) -> list[str]:
    for row, domains in await tenants.list_tenants(store):
        if row.name == tenant:
            return domains
    return []


@router.post("", response_model=ReturnPath, status_code=201)
async def make(body: ReturnPathRequest, store: StoreDep, who: Writer) -> ReturnPath:
    """A signed return path for one message (write keys: a token vouches for bounces)."""
    domains = await _domains(store, who.tenant)
    domain = try_normalise_domain(body.domain) if body.domain else (domains[0] if domains else None)
    if domain is None or domain not in domains:
        raise HTTPException(422, "domain is not one of this tenant's bounce domains")
    key = await signing_keys.current_key(store, who.tenant_id)
    try:
        address = signing.make_return_path(
            secret=key.secret,
            key_id=key.key_id,
            domain=domain,
            recipient=body.recipient,
            message_id=body.message_id,
            stream=body.stream,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return ReturnPath(
        return_path=address, domain=domain, key_id=key.key_id, valid_until=utcnow() + MAX_TOKEN_AGE
    )


@router.post("/verify", response_model=VerifyResult)
async def verify(body: VerifyRequest, store: StoreDep, who: Reader) -> VerifyResult:
    """What the listener would conclude from this return path (for debugging a sender)."""
    result = await attribute_address(store, who.tenant_id, body.return_path)
    return VerifyResult(
        verified=result.verified,
        status=result.status,
        recipient=result.recipient,
        message_id=result.message_id,
        stream=result.stream,
    )


@router.post("/rotate", response_model=Rotation)
async def rotate(store: StoreDep, who: Writer) -> Rotation:
    """Start signing with a new secret; the old ones verify bounces in flight until they retire."""
    key_id, retire_at = await signing_keys.rotate(store, who.tenant_id)
    return Rotation(key_id=key_id, previous_keys_retire_at=retire_at)
