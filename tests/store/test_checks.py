"""The pre-send check's backends (store.checks_sqlite, store.checks_postgres) give what
the ORM's rows say, each on its real database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from returnpath.store import checks, suppressions
from returnpath.store.checks_postgres import PostgresChecks
from returnpath.store.checks_sqlite import SqliteChecks
from returnpath.store.db import Store
from returnpath.store.models import ORJSON_TIMES, Suppression, rfc3339
from returnpath.store.tenants import DEFAULT_TENANT, ensure_tenant

SUPPRESSION: sa.Table = Suppression.__table__  # type: ignore[attr-defined]


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A SQLite file (aiosqlite readers), PostgreSQL (asyncpg)."""
    s = Store(database_url)
    await s.create_schema()
    yield s
    await s.close()


def answer_members(hit: checks.Hit) -> str:
    """What a bulk answer must say of a suppression: orjson's JSON of its members."""
    return orjson.dumps(
        {
            "kind": hit.kind,
            "reason": hit.reason,
            "stream": hit.stream or None,
            "since": hit.created_at,
            "until": hit.expires_at,
        },
        option=ORJSON_TIMES,
    ).decode()[1:-1]


def test_the_backend_is_chosen_by_the_database_url(tmp_path: Path) -> None:
    assert isinstance(Store(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}").checks, SqliteChecks)
    assert isinstance(Store("postgresql+asyncpg://u@127.0.0.1:1/x").checks, PostgresChecks)


def test_sqlite_in_memory_is_refused_at_start() -> None:
    """The check's own connections could not see an in-memory database: a file it must be."""
    with pytest.raises(ValueError, match="database file"):
        Store("sqlite+aiosqlite:///:memory:")


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
    found = await store.checks.active(tenant.id, addresses, None)
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
    narrowed = await store.checks.active(tenant.id, addresses, "transactional")
    assert [h.stream for h in narrowed["a@example.com"]] == [""]
    answers = await store.checks.answers(tenant.id, addresses, None)
    assert set(answers) == {"a@example.com"}
    assert json.loads("{" + answers["a@example.com"] + "}")["kind"] == "complaint"
    narrowed_answers = await store.checks.answers(tenant.id, addresses, "transactional")
    assert json.loads("{" + narrowed_answers["a@example.com"] + "}")["kind"] == "manual"
    # Another tenant sees none of it.
    other = await ensure_tenant(store, "other", ["other.example.com"])
    assert await store.checks.active(other.id, addresses, None) == {}


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
    """The database writes the bulk answers itself; they must be, to the character,
    what orjson writes of the rows the ORM sees."""
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
                sa.update(SUPPRESSION)
                .where(SUPPRESSION.c.address == address)
                .values(created_at=created)
            )
    asked = [a for a, *_ in _AWKWARD]
    got = await store.checks.answers(tenant.id, asked, None)
    hits = await store.checks.active(tenant.id, asked, None)
    expected = {a: answer_members(h) for a, (h,) in hits.items()}
    assert got == expected and len(got) == len(_AWKWARD)
    # and the text is the JSON of the values put
    for address, stream, kind, reason, created, expires in _AWKWARD:
        members = json.loads("{" + got[address] + "}")
        assert members == {
            "kind": kind,
            "reason": reason,
            "stream": stream or None,
            "since": rfc3339(created),
            "until": None if expires is None else rfc3339(expires),
        }
