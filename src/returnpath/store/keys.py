"""API keys: scoped, revocable, stored as hashes.

A key reads ``rp_<id>_<secret>``. The id finds the row; only SHA-256 of the
secret is kept (the secret is 256 random bits, so a slow hash adds nothing).
Authenticated keys are cached for a few seconds so a hot check endpoint does
not pay a query per request; a revocation through this process clears the
cache at once, one made from the CLI takes effect within ``CACHE_TTL``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlmodel import col, select

from returnpath.store.cache import TtlCache
from returnpath.store.db import Store
from returnpath.store.errors import NotFound
from returnpath.store.models import ApiKey, Tenant, utcnow

CACHE_TTL = 2.0


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    tenant_id: int
    tenant: str
    scope: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_key(
    store: Store, tenant: str, *, read_only: bool = False, name: str | None = None
) -> tuple[ApiKey, str]:
    """Returns the row and the plaintext key (shown once, never stored)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    async with store.write() as session:
        row = (
            await session.execute(select(Tenant).where(col(Tenant.name) == tenant))
        ).scalar_one_or_none()
        if row is None or row.id is None:
            raise NotFound(f"no tenant named {tenant!r}")
        key = ApiKey(
            id=key_id,
            tenant_id=row.id,
            secret_hash=_hash(secret),
            scope="read" if read_only else "write",
            name=name,
            created_at=utcnow(),
        )
        session.add(key)
    return key, f"rp_{key_id}_{secret}"


async def list_keys(store: Store, tenant: str | None = None) -> list[tuple[ApiKey, str]]:
    q = select(ApiKey, col(Tenant.name)).join(Tenant, col(ApiKey.tenant_id) == col(Tenant.id))
    if tenant is not None:
        q = q.where(col(Tenant.name) == tenant)
    async with store.read() as session:
        return [
            (k, n) for k, n in (await session.execute(q.order_by(col(ApiKey.created_at)))).all()
        ]


async def revoke_key(store: Store, key_id: str, tenant_id: int | None = None) -> ApiKey:
    async with store.write() as session:
        key = await session.get(ApiKey, key_id)
        if key is None or (tenant_id is not None and key.tenant_id != tenant_id):
            raise NotFound(f"no key {key_id!r}")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
    KeyCache.shared.forget(key_id)
    return key


class KeyCache:
    """Keys by id, re-read every ``CACHE_TTL`` seconds by one task at a time (store.cache)."""

    shared: KeyCache

    def __init__(self) -> None:
        self._rows: TtlCache[str, tuple[str, KeyInfo] | None] = TtlCache(CACHE_TTL)

    def forget(self, key_id: str) -> None:
        self._rows.forget(key_id)

    async def authenticate(self, store: Store, presented: str) -> KeyInfo | None:
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != "rp" or not parts[1] or not parts[2]:
            return None
        key_id, secret = parts[1], parts[2]

        async def load() -> tuple[str, KeyInfo] | None:
            async with store.read() as session:
                row = (
                    await session.execute(
                        select(ApiKey, col(Tenant.name))
                        .join(Tenant, col(ApiKey.tenant_id) == col(Tenant.id))
                        .where(col(ApiKey.id) == key_id)
                    )
                ).first()
            if row is None or row[0].revoked_at is not None:
                return None
            key, tenant_name = row
            return key.secret_hash, KeyInfo(key.id, key.tenant_id, tenant_name, key.scope)

        found = await self._rows.get(key_id, load)
        if found is None:
            return None
        secret_hash, info = found
        return info if hmac.compare_digest(secret_hash, _hash(secret)) else None


KeyCache.shared = KeyCache()
