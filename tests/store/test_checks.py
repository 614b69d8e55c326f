"""The pre-send check's own read path (store.checks) gives what the ORM's rows say."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from returnpath.store import checks, suppressions
from returnpath.store.db import Store
from returnpath.store.tenants import DEFAULT_TENANT, ensure_tenant


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
    answers = await checks.answers(store, tenant.id, addresses, None)
    assert set(answers) == {"a@example.com"}
    assert json.loads("{" + answers["a@example.com"] + "}")["kind"] == "complaint"
    narrowed_answers = await checks.answers(store, tenant.id, addresses, "transactional")
    assert json.loads("{" + narrowed_answers["a@example.com"] + "}")["kind"] == "manual"
    # Another tenant sees none of it.
    other = await ensure_tenant(store, "other", ["other.example.com"])
    assert await checks.active(store, other.id, addresses, None) == {}


# Timestamps whose text differs between encoders: no microseconds, trailing zeros,
# a leap day, a year before 1000; names that need JSON escaping.
_AWKWARD = [
    (
        "q@example.com",
        "",
        "hard_bounce",
        "mailbox_not_found",
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        None,
    ),
    (
        "r@example.com",
        'my "promo"',
        "manual",
        "back\\slash\ttab\x01",
        datetime(2024, 2, 29, 23, 59, 59, 120000, tzinfo=UTC),
        datetime(2999, 12, 31, 0, 0, 0, 1, tzinfo=UTC),
    ),
    (
        "s@example.com",
        "märketing ✉",
        "complaint",
        "abuse",
        datetime(999, 5, 6, 7, 8, 9, 654321, tzinfo=UTC),
        datetime(2999, 1, 1, tzinfo=UTC),
    ),
]


async def test_answers_are_the_json_of_the_orm_rows(store: Store) -> None:
    """PostgreSQL writes the bulk answers itself; they must be, to the character,
    what ``answer_members`` writes from the rows the ORM sees."""
    tenant = await ensure_tenant(store, DEFAULT_TENANT, ["bounces.example.com"])
    for address, stream, kind, reason, created, expires in _AWKWARD:
        await suppressions.put(
            store,
            tenant.id,
            address,
            kind=kind,
            reason=reason,
            stream=stream,
            expires_at=expires,
            note=None,
            actor="test",
        )
        async with store.write_core() as conn:
            await conn.execute(
                sa.update(checks.SUPPRESSION)
                .where(checks.SUPPRESSION.c.address == address)
                .values(created_at=created)
            )
    asked = [a for a, *_ in _AWKWARD]
    got = await checks.answers(store, tenant.id, asked, None)
    hits = await checks.active(store, tenant.id, asked, None)
    expected = {
        a: checks.answer_members(
            (h.address, h.stream, h.kind, h.reason, h.created_at, h.expires_at)
        )
        for a, (h,) in hits.items()
    }
    assert got == expected and len(got) == len(_AWKWARD)
    # and the text is the JSON of the values put
    for address, stream, kind, reason, created, expires in _AWKWARD:
        members = json.loads("{" + got[address] + "}")
        assert members == {
            "kind": kind,
            "reason": reason,
            "stream": stream or None,
            "since": created.isoformat(),
            "until": None if expires is None else expires.isoformat(),
        }
