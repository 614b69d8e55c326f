"""The pre-send check's own read path (store.checks) gives what the ORM's rows say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import checks, suppressions
from store.db import Store
from store.tenants import DEFAULT_TENANT, ensure_tenant


@pytest.fixture(params=["file", "memory", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A SQLite file (aiosqlite readers), SQLite in memory (SQLAlchemy Core), PostgreSQL (asyncpg)."""
    if request.param == "postgres":
        from tests.conftest import fresh_postgres_database

        async with fresh_postgres_database() as url:
            s = Store(url)
            await s.create_schema()
            yield s
            await s.close()
        return
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'rp.db'}"
        if request.param == "file"
        else "sqlite+aiosqlite:///:memory:"
    )
    s = Store(url)
    await s.create_schema()
    yield s
    await s.close()


async def test_active_rows_match_the_orm(store: Store) -> None:
    tenant = await ensure_tenant(store, DEFAULT_TENANT, ["bounces.example.com"])
    later = datetime.now(UTC) + timedelta(days=3)
    put, _ = await suppressions.put(
        store,
        tenant.id,
        "a@example.com",
        kind="manual",
        reason="asked",
        stream="",
        expires_at=later,
        note="n",
        actor="test",
    )
    await suppressions.put(
        store,
        tenant.id,
        "a@example.com",
        kind="complaint",
        reason="abuse",
        stream="marketing",
        expires_at=None,
        note=None,
        actor="test",
    )
    await suppressions.put(
        store,
        tenant.id,
        "gone@example.com",
        kind="manual",
        reason="old",
        stream="",
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
        note=None,
        actor="test",
    )
    addresses = ["a@example.com", "gone@example.com", "never@example.com"] + [
        f"x{i}@example.com"
        for i in range(3000)  # more than one slice
    ]
    found = await checks.active(store, tenant.id, addresses, None)
    assert set(found) == {"a@example.com"}
    by_stream = {h.stream: h for h in found["a@example.com"]}
    assert set(by_stream) == {"", "marketing"}
    hit = by_stream[""]
    assert (hit.kind, hit.reason, hit.source, hit.verified, hit.note) == (
        "manual",
        "asked",
        "manual",
        True,
        "n",
    )
    assert hit.created_at == put.created_at and hit.created_at.tzinfo is not None
    assert hit.expires_at == later
    # The permanent one is reported first; a stream narrows what counts.
    assert checks.first(found["a@example.com"]).kind == "complaint"
    narrowed = await checks.active(store, tenant.id, addresses, "transactional")
    assert [h.stream for h in narrowed["a@example.com"]] == [""]
    first = await checks.first_active(store, tenant.id, addresses, None)
    assert first["a@example.com"][checks.KIND] == "complaint"
    # Another tenant sees none of it.
    other = await ensure_tenant(store, "other", ["other.example.com"])
    assert await checks.active(store, other.id, addresses, None) == {}
