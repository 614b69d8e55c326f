"""Per-tenant secrets for signed return paths, and their rotation.

The newest key signs. Rotation adds a key and schedules the older ones to
retire after a grace period (default: as long as a token lives), so bounces
of messages already sent still verify.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from returnpath.parsers.signing import MAX_TOKEN_AGE, new_secret
from returnpath.store.db import Store
from returnpath.store.models import SigningKey, utcnow


async def ensure_key(session: AsyncSession, tenant_id: int) -> None:
    """Every tenant has a signing key from its first moment."""
    exists = (
        await session.execute(
            select(SigningKey.key_id).where(col(SigningKey.tenant_id) == tenant_id)
        )
    ).first()
    if exists is None:
        session.add(
            SigningKey(tenant_id=tenant_id, key_id=1, secret=new_secret(), created_at=utcnow())
        )


async def current_key(store: Store, tenant_id: int) -> SigningKey:
    now = utcnow()
    async with store.read() as session:
        rows = (
            (
                await session.execute(
                    select(SigningKey)
                    .where(col(SigningKey.tenant_id) == tenant_id)
                    .where(
                        sa.or_(col(SigningKey.retire_at).is_(None), col(SigningKey.retire_at) > now)
                    )
                    .order_by(col(SigningKey.key_id).desc())
                    .limit(1)
                )
            )
            .scalars()
            .first()
        )
    if rows is None:
        raise LookupError("tenant has no live signing key")
    return rows


async def rotate(
    store: Store, tenant_id: int, grace: timedelta = MAX_TOKEN_AGE
) -> tuple[int, datetime]:
    """A new signing key; older keys keep verifying until ``now + grace``. Returns (key id, retire time)."""
    now = utcnow()
    retire_at = now + grace
    async with store.write() as session:
        keys = list(
            (
                await session.execute(
                    select(SigningKey).where(col(SigningKey.tenant_id) == tenant_id)
                )
            ).scalars()
        )
        for key in keys:
            if key.retire_at is None or key.retire_at > retire_at:
                key.retire_at = retire_at
        new_id = max((k.key_id for k in keys), default=0) + 1
        session.add(
            SigningKey(tenant_id=tenant_id, key_id=new_id, secret=new_secret(), created_at=now)
        )
    return new_id, retire_at
