"""The endpoints and their secrets, as the API manages them (per tenant, by WHERE clause)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from returnpath.store.db import Store
from returnpath.store.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
    utcnow,
)
from returnpath.webhooks.signing import new_secret

#: how long the old secret keeps signing after a rotation
ROTATION_OVERLAP = timedelta(hours=24)


def new_endpoint_id() -> str:
    return "wh_" + secrets.token_hex(12)


def kinds_column(kinds: Sequence[str] | None) -> str:
    return " ".join(sorted(set(kinds))) if kinds else ""


@dataclass(frozen=True, slots=True)
class Created:
    endpoint: WebhookEndpoint
    secret: str


async def create(
    store: Store, tenant_id: int, url: str, kinds: Sequence[str] | None, description: str | None
) -> Created:
    now = utcnow()
    endpoint = WebhookEndpoint(
        id=new_endpoint_id(),
        tenant_id=tenant_id,
        url=url,
        kinds=kinds_column(kinds),
        description=description,
        created_at=now,
    )
    secret = new_secret()
    async with store.write() as session:
        session.add(endpoint)
        await session.flush()
        session.add(WebhookSecret(endpoint_id=endpoint.id, secret=secret, created_at=now))
    return Created(endpoint, secret)


async def list_(store: Store, tenant_id: int) -> list[WebhookEndpoint]:
    async with store.read() as session:
        rows = await session.execute(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.tenant_id == tenant_id)
            .order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))
        )
        return list(rows.scalars())


async def get(store: Store, tenant_id: int, endpoint_id: str) -> WebhookEndpoint | None:
    async with store.read() as session:
        row = await session.execute(
            select(WebhookEndpoint).where(
                WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id
            )
        )
        return row.scalar_one_or_none()


async def update(
    store: Store, tenant_id: int, endpoint_id: str, changes: dict[str, object]
) -> WebhookEndpoint | None:
    """Apply ``url``, ``kinds`` and ``enabled``; enabling clears the failure record."""
    async with store.write() as session:
        endpoint = (
            await session.execute(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if endpoint is None:
            return None
        if "url" in changes:
            endpoint.url = str(changes["url"])
        if "kinds" in changes:
            endpoint.kinds = kinds_column(changes["kinds"])  # type: ignore[arg-type]
        if "description" in changes:
            endpoint.description = changes["description"]  # type: ignore[assignment]
        if "enabled" in changes:
            enabled = bool(changes["enabled"])
            if enabled and not endpoint.enabled:
                endpoint.disabled_reason = None
                endpoint.failing_since = None
            elif not enabled and endpoint.enabled:
                endpoint.disabled_reason = "disabled by the API"
            endpoint.enabled = enabled
        session.add(endpoint)
    return endpoint


async def _exists(session: AsyncSession, tenant_id: int, endpoint_id: str) -> bool:
    found = await session.execute(
        select(col(WebhookEndpoint.id)).where(
            WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id
        )
    )
    return found.scalar_one_or_none() is not None


async def delete(store: Store, tenant_id: int, endpoint_id: str) -> bool:
    """Remove the endpoint with its secrets, deliveries and attempts."""
    async with store.write() as session:
        if not await _exists(session, tenant_id, endpoint_id):
            return False
        # Explicit, not ON DELETE CASCADE alone: SQLite enforces it only with foreign_keys on.
        await session.execute(
            sa.delete(WebhookAttempt).where(col(WebhookAttempt.endpoint_id) == endpoint_id)
        )
        for table in (WebhookDelivery, WebhookSecret):
            await session.execute(sa.delete(table).where(col(table.endpoint_id) == endpoint_id))
        await session.execute(
            sa.delete(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id)
        )
    return True


async def rotate(store: Store, tenant_id: int, endpoint_id: str) -> tuple[str, datetime] | None:
    """A new secret; the current ones keep signing for ``ROTATION_OVERLAP`` (at most)."""
    now = utcnow()
    until = now + ROTATION_OVERLAP
    secret = new_secret()
    async with store.write() as session:
        if not await _exists(session, tenant_id, endpoint_id):
            return None
        await session.execute(
            sa.update(WebhookSecret)
            .where(
                col(WebhookSecret.endpoint_id) == endpoint_id,
                sa.or_(
                    col(WebhookSecret.expires_at).is_(None), col(WebhookSecret.expires_at) > until
                ),
            )
            .values(expires_at=until)
        )
        session.add(WebhookSecret(endpoint_id=endpoint_id, secret=secret, created_at=now))
    return secret, until


async def live_secrets(store: Store, endpoint_ids: Sequence[str]) -> dict[str, list[str]]:
    """The secrets that sign now, newest first, by endpoint."""
    now = utcnow()
    out: dict[str, list[str]] = {e: [] for e in endpoint_ids}
    async with store.read() as session:
        rows = await session.execute(
            select(col(WebhookSecret.endpoint_id), col(WebhookSecret.secret))
            .where(
                col(WebhookSecret.endpoint_id).in_(list(endpoint_ids)),
                sa.or_(
                    col(WebhookSecret.expires_at).is_(None), col(WebhookSecret.expires_at) > now
                ),
            )
            .order_by(col(WebhookSecret.id).desc())
        )
        for endpoint_id, secret in rows:
            out[endpoint_id].append(secret)
    return out
