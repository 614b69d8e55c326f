"""Group commit (store.group_commit) on a real SQLite file and on PostgreSQL: many concurrent
messages, one transaction, no cross-talk."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from returnpath.parsers import parse
from returnpath.store.db import Store
from returnpath.store.group_commit import GroupCommit, about_the_data
from returnpath.store.ingest import Received
from returnpath.store.models import Event, Message
from returnpath.store.tenants import TenantRef, ensure_tenant
from tests.messages import dsn
from tests.services import free_port


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    s = Store(database_url)
    await s.create_schema()
    yield s
    await s.close()


def received(tenant: TenantRef, raw: bytes) -> Received:
    return Received(
        tenant=tenant, raw=raw, peer=None, mail_from="", rcpt_tos=("b@bounces.example.com",)
    )


async def count(store: Store, table: type) -> int:
    async with store.read() as session:
        return int(
            (await session.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
        )


async def test_concurrent_messages_share_a_commit_and_duplicates_are_caught(store: Store) -> None:
    tenant = await ensure_tenant(store, "default", ["bounces.example.com"])
    group = GroupCommit(store, publish=False)
    raws = [dsn(f"u{i}@example.org", message_id=f"<g{i}@x>") for i in range(30)]
    raws.append(raws[0])  # the same message twice, in the same burst
    results = await asyncio.gather(
        *(group.record(received(tenant, raw), parse(raw)) for raw in raws)
    )
    assert sum(r.duplicate for r in results) == 1
    assert results[-1].message_uid == results[0].message_uid
    assert await count(store, Message) == 30 and await count(store, Event) == 30
    assert all(r.suppressed for r in results if not r.duplicate)


async def test_a_message_that_cannot_be_stored_fails_alone(store: Store) -> None:
    tenant = await ensure_tenant(store, "default", ["bounces.example.com"])
    ghost = TenantRef(
        id=999, name="ghost"
    )  # no such tenant: a foreign-key violation in the database
    group = GroupCommit(store, publish=False)
    good = [dsn(f"ok{i}@example.org", message_id=f"<ok{i}@x>") for i in range(5)]
    bad = dsn("bad@example.org", message_id="<bad@x>")
    outcomes = await asyncio.gather(
        *(group.record(received(tenant, raw), parse(raw)) for raw in good[:2]),
        group.record(received(ghost, bad), parse(bad)),
        *(group.record(received(tenant, raw), parse(raw)) for raw in good[2:]),
        return_exceptions=True,
    )
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failures) == 1 and isinstance(outcomes[2], BaseException)
    assert await count(store, Message) == 5


async def test_a_burst_larger_than_a_group_is_split_and_each_caller_gets_its_own_answer(
    store: Store,
) -> None:
    tenant = await ensure_tenant(store, "default", ["bounces.example.com"])
    group = GroupCommit(store, publish=False, max_group=4)
    raws = [dsn(f"s{i}@example.org", message_id=f"<s{i}@x>") for i in range(10)]
    results = await asyncio.gather(
        *(group.record(received(tenant, raw), parse(raw)) for raw in raws)
    )
    assert [r.suppressed for r in results] == [(f"s{i}@example.org",) for i in range(10)]
    assert len({r.message_uid for r in results}) == 10
    assert await count(store, Message) == 10


async def test_a_lone_message_is_committed_without_waiting_for_company(store: Store) -> None:
    tenant = await ensure_tenant(store, "default", ["bounces.example.com"])
    group = GroupCommit(store, publish=False)
    raw = dsn("alone@example.org", message_id="<alone@x>")
    result = await group.record(received(tenant, raw), parse(raw))
    assert result.suppressed == ("alone@example.org",) and not result.duplicate
    assert await count(store, Message) == 1


async def test_a_locked_database_fails_the_whole_group_at_once(tmp_path: Path) -> None:
    """Another process holds SQLite's write lock: every message of the group gets the
    error after one busy timeout. Retrying them one by one would wait one timeout each
    (11 here): the ceiling is what only that behaviour reaches, not a target."""
    path = tmp_path / "locked.db"
    busy = 1.0
    store = Store(f"sqlite+aiosqlite:///{path}", busy_timeout=busy)
    await store.create_schema()
    try:
        tenant = await ensure_tenant(store, "default", ["bounces.example.com"])
        group = GroupCommit(store, publish=False)
        raws = [dsn(f"l{i}@example.org", message_id=f"<l{i}@x>") for i in range(10)]
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            started = time.monotonic()
            outcomes = await asyncio.gather(
                *(group.record(received(tenant, raw), parse(raw)) for raw in raws),
                return_exceptions=True,
            )
            elapsed = time.monotonic() - started
        finally:
            holder.close()
        assert all(isinstance(o, sa.exc.OperationalError) for o in outcomes), outcomes
        assert elapsed < busy * len(raws) / 2, elapsed
        # Once the lock is gone, the same messages go through.
        results = await asyncio.gather(
            *(group.record(received(tenant, raw), parse(raw)) for raw in raws)
        )
        assert not any(r.duplicate for r in results)
    finally:
        await store.close()


async def test_what_counts_as_the_data_and_what_as_the_store(postgres_url: str) -> None:
    """Real errors of the real PostgreSQL: a value it refuses or a violated constraint
    is one message's doing; a timeout or a lost connection is the store's."""
    store = Store(postgres_url)
    await store.create_schema()

    async def error_of(sql: str) -> BaseException:
        with pytest.raises(sa.exc.DBAPIError) as caught:
            async with store.engine.begin() as conn:
                await conn.execute(sa.text("SET LOCAL statement_timeout = '200ms'"))
                await conn.execute(sa.text(sql))
        return caught.value

    try:
        assert about_the_data(await error_of("SELECT 1 / 0"))
        assert about_the_data(await error_of("SELECT 'nope'::int"))
        assert about_the_data(
            await error_of("INSERT INTO domain (domain, tenant_id) VALUES ('x.example', 999)")
        )
        assert not about_the_data(await error_of("SELECT pg_sleep(5)"))
        assert not about_the_data(await error_of("SELECT pg_terminate_backend(pg_backend_pid())"))
    finally:
        await store.close()
    unreachable = Store(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    try:
        with pytest.raises(OSError) as caught:
            async with unreachable.engine.connect():
                pass
        assert not about_the_data(caught.value)
    finally:
        await unreachable.close()
