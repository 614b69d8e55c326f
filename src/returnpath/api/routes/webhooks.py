"""/v1/webhooks: the tenant's HTTP receivers of events (returnpath.webhooks, docs/webhooks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from returnpath.api.deps import Reader, StoreDep, Writer
from returnpath.api.schemas import Instant
from returnpath.parsers.model import Kind
from returnpath.store.models import WebhookEndpoint
from returnpath.webhooks import deliveries, endpoints
from returnpath.webhooks.address import Refused, check_url

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

Url = Annotated[str, Field(min_length=1, max_length=2048, examples=["https://crm.example/hooks"])]


class WebhookCreate(BaseModel):
    url: Url
    kinds: list[Kind] | None = Field(
        default=None, description="only events of these kinds; absent or empty: every kind"
    )
    description: str | None = Field(default=None, max_length=1000)


class WebhookPatch(BaseModel):
    url: Url | None = None
    kinds: list[Kind] | None = None
    description: str | None = Field(default=None, max_length=1000)
    enabled: bool | None = Field(
        default=None, description="true re-enables a disabled endpoint (pending deliveries resume)"
    )


class WebhookPublic(BaseModel):
    id: str
    url: str
    kinds: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    failing_since: datetime | None


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="whsec_ + base64: shown once, keep it to verify signatures")


class SecretRotated(BaseModel):
    secret: str = Field(description="the new secret: shown once")
    previous_expires_at: datetime = Field(description="until then both secrets sign")


class Attempt(BaseModel):
    id: int
    webhook_id: str = Field(description="the event id, sent as the webhook-id header")
    at: datetime
    outcome: str = Field(description="delivered | http_error | timeout | connection | refused")
    latency_ms: int
    response_code: int | None
    response_body: str | None = Field(description="the first 1 KB of the answer")
    error: str | None
    delivery_state: str = Field(description="pending | delivered | failed")
    delivery_attempts: int
    next_attempt_at: datetime | None


class AttemptPage(BaseModel):
    items: list[Attempt]
    next_before: int | None = Field(description="pass as ?before= for older attempts")


class ReplayRequest(BaseModel):
    since: Instant | None = None
    until: Instant | None = None
    kinds: list[Kind] | None = None


class ReplayAnswer(BaseModel):
    queued: int = Field(description="deliveries queued again (same webhook-id as before)")


def public(endpoint: WebhookEndpoint) -> WebhookPublic:
    return WebhookPublic(
        id=endpoint.id,
        url=endpoint.url,
        kinds=endpoint.kinds.split() if endpoint.kinds else [],
        description=endpoint.description,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        created_at=endpoint.created_at,
        failing_since=endpoint.failing_since,
    )


def _checked_url(url: str) -> str:
    """Refuse what can never be delivered to. The address is checked at each delivery
    (where the setting that allows private ones lives): a name's address changes."""
    try:
        check_url(url)
    except Refused as exc:
        raise HTTPException(422, str(exc)) from exc
    return url


async def _found(store: StoreDep, tenant_id: int, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await endpoints.get(store, tenant_id, endpoint_id)
    if endpoint is None:
        raise HTTPException(404, f"no webhook {endpoint_id!r}")
    return endpoint


@router.post("", response_model=WebhookCreated, status_code=201)
async def create(body: WebhookCreate, store: StoreDep, who: Writer) -> WebhookCreated:
    """Add an endpoint. The answer carries its signing secret, shown this once."""
    url = _checked_url(body.url)
    kinds = [k.value for k in body.kinds] if body.kinds else None
    created = await endpoints.create(store, who.tenant_id, url, kinds, body.description)
    return WebhookCreated(**public(created.endpoint).model_dump(), secret=created.secret)


@router.get("", response_model=list[WebhookPublic])
async def list_(store: StoreDep, who: Reader) -> list[WebhookPublic]:
    return [public(e) for e in await endpoints.list_(store, who.tenant_id)]


@router.get("/{endpoint_id}", response_model=WebhookPublic)
async def get(endpoint_id: str, store: StoreDep, who: Reader) -> WebhookPublic:
    return public(await _found(store, who.tenant_id, endpoint_id))


@router.patch("/{endpoint_id}", response_model=WebhookPublic)
async def patch(
    endpoint_id: str, body: WebhookPatch, store: StoreDep, who: Writer
) -> WebhookPublic:
    """Change the fields sent (``url``, ``kinds``, ``description``, ``enabled``)."""
    changes: dict[str, object] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name == "url":
            if value is None:
                raise HTTPException(422, "url cannot be null")
            value = _checked_url(value)
        elif name == "kinds":
            value = [k.value for k in value] if value else None
        elif name == "enabled" and value is None:
            raise HTTPException(422, "enabled cannot be null")
        changes[name] = value
    endpoint = await endpoints.update(store, who.tenant_id, endpoint_id, changes)
    if endpoint is None:
        raise HTTPException(404, f"no webhook {endpoint_id!r}")
    return public(endpoint)


@router.delete("/{endpoint_id}", status_code=204)
async def delete(endpoint_id: str, store: StoreDep, who: Writer) -> Response:
    if not await endpoints.delete(store, who.tenant_id, endpoint_id):
        raise HTTPException(404, f"no webhook {endpoint_id!r}")
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", response_model=SecretRotated)
async def rotate_secret(endpoint_id: str, store: StoreDep, who: Writer) -> SecretRotated:
    """A new secret; the previous one keeps signing beside it for 24 hours."""
    rotated = await endpoints.rotate(store, who.tenant_id, endpoint_id)
    if rotated is None:
        raise HTTPException(404, f"no webhook {endpoint_id!r}")
    return SecretRotated(secret=rotated[0], previous_expires_at=rotated[1])


@router.get("/{endpoint_id}/deliveries", response_model=AttemptPage)
async def list_deliveries(
    endpoint_id: str,
    store: StoreDep,
    who: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> AttemptPage:
    """The delivery attempts, newest first."""
    await _found(store, who.tenant_id, endpoint_id)
    rows = await deliveries.attempts(store, endpoint_id, limit, before)
    items = [
        Attempt(
            id=r["id"],
            webhook_id=r["event_uid"],
            at=r["at"],
            outcome=r["outcome"],
            latency_ms=r["latency_ms"],
            response_code=r["response_code"],
            response_body=r["response_body"],
            error=r["error"],
            delivery_state=r["state"],
            delivery_attempts=r["attempts"],
            next_attempt_at=r["next_at"] if r["state"] == "pending" else None,
        )
        for r in rows
    ]
    return AttemptPage(items=items, next_before=items[-1].id if len(items) == limit else None)


@router.post("/{endpoint_id}/replay", response_model=ReplayAnswer, status_code=202)
async def replay(
    endpoint_id: str, body: ReplayRequest, store: StoreDep, who: Writer
) -> ReplayAnswer:
    """Send the stored events of a time window again, with their original ``webhook-id``."""
    endpoint = await _found(store, who.tenant_id, endpoint_id)
    kinds = [k.value for k in body.kinds] if body.kinds else None
    queued = await deliveries.replay(store, who.tenant_id, endpoint, body.since, body.until, kinds)
    return ReplayAnswer(queued=queued)
