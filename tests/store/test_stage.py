"""The stage over a real spool and a real store: what the store refuses is set aside,
what the store cannot take now waits, and nothing is recorded twice."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from returnpath.inbound.spool import Spooled, SpoolWriter, read_checkpoint
from returnpath.stage import QUARANTINE, Stage, requeue_quarantined
from returnpath.store.db import Store
from returnpath.store.errors import about_the_data
from returnpath.store.models import Message
from returnpath.store.tenants import ensure_tenant
from tests.messages import dsn
from tests.services import free_port


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    s = Store(database_url)
    await s.create_schema()
    await ensure_tenant(s, "default", ["bounces.example.com"])
    yield s
    await s.close()


def spooled(n: int, tenant_id: int = 1) -> Spooled:
    return Spooled(
        uid=f"{n:032x}",
        tenant_id=tenant_id,
        tenant_name="default",
        peer=None,
        mail_from="",
        rcpt_tos=("b@bounces.example.com",),
        received_at=datetime.now(UTC),
        raw=dsn(f"s{n}@example.org", message_id=f"<s{n}@x>"),
    )


async def spool(root: Path, items: list[Spooled]) -> None:
    writer = SpoolWriter(root / "w0")
    writer.open()
    for item in items:
        await writer.append(item)
    await writer.close()


async def uids(store: Store) -> set[str]:
    async with store.read() as session:
        return set((await session.execute(sa.select(Message.uid))).scalars())  # type: ignore[call-overload]


async def test_a_message_the_store_refuses_is_set_aside_and_the_rest_recorded(
    store: Store, tmp_path: Path
) -> None:
    ghost = spooled(3, tenant_id=999)  # no such tenant: a foreign key the database refuses
    items = [spooled(1), spooled(2), ghost, spooled(4), spooled(5)]
    await spool(tmp_path, items)
    stage = Stage(store, tmp_path, publish=False)
    assert await stage.run_once() == 5
    assert await uids(store) == {i.uid for i in items if i is not ghost}
    [kept] = (tmp_path / QUARANTINE).iterdir()
    assert kept.name == f"{ghost.uid}.spool"
    assert await stage.drained()
    # Given back (after a fix that did not come here), it is set aside again, alone.
    assert requeue_quarantined(tmp_path) == 1
    assert not list((tmp_path / QUARANTINE).iterdir())
    assert await stage.run_once() == 1
    assert [p.name for p in (tmp_path / QUARANTINE).iterdir()] == [f"{ghost.uid}.spool"]
    assert len(await uids(store)) == 4


async def test_a_locked_store_is_waited_for_and_nothing_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = Store(f"sqlite+aiosqlite:///{path}", busy_timeout=0.3, timeout=0.5)
    await store.create_schema()
    await ensure_tenant(store, "default", ["bounces.example.com"])
    items = [spooled(n) for n in range(10)]
    await spool(tmp_path, items)
    stage = Stage(store, tmp_path, publish=False)
    try:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            with pytest.raises(sa.exc.OperationalError):
                await stage.run_once()
        finally:
            holder.close()
        assert not (tmp_path / QUARANTINE).exists()
        assert read_checkpoint(tmp_path / "w0").segment == 0  # nothing passed over
        assert await stage.run_once() == 10
        assert await uids(store) == {i.uid for i in items}
        # A replay of the same spool (a crash before the checkpoint) adds nothing.
        (tmp_path / "w0" / "checkpoint").unlink()
        assert await stage.run_once() == 10
        assert await uids(store) == {i.uid for i in items}
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


async def test_row_ids_past_32_bits_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    """At 1,000 messages a second a 32-bit id runs out in about 25 days."""
    store = Store(postgres_url)
    await store.create_schema()
    await ensure_tenant(store, "default", ["bounces.example.com"])
    try:
        async with store.engine.begin() as conn:
            for table in ("message", "event", "suppression", "suppressionaudit", "outbox"):
                await conn.execute(sa.text(f"ALTER SEQUENCE {table}_id_seq RESTART 3000000000"))
        await spool(tmp_path, [spooled(1)])
        assert await Stage(store, tmp_path, publish=True).run_once() == 1
        async with store.engine.connect() as conn:
            ids = (await conn.execute(sa.text("SELECT id, message_id FROM event"))).one()
        assert min(ids) >= 3_000_000_000
    finally:
        await store.close()


async def test_read_ahead_keeps_order_and_survives_a_failed_group(tmp_path: Path) -> None:
    """With read-ahead the next group is parsed while one commits; when that commit
    fails, the group read ahead (from past the failed one) must be dropped, not
    recorded: the failed group comes first again, and each message once, in order."""
    path = tmp_path / "ahead.db"
    store = Store(f"sqlite+aiosqlite:///{path}", busy_timeout=0.3, timeout=0.5)
    await store.create_schema()
    await ensure_tenant(store, "default", ["bounces.example.com"])
    items = [spooled(n) for n in range(30)]
    await spool(tmp_path, items)
    stage = Stage(store, tmp_path, publish=False, max_items=10)
    try:
        assert await stage.run_once(read_ahead=True) == 10  # and 10..19 read ahead
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            with pytest.raises(sa.exc.OperationalError):
                await stage.run_once(read_ahead=True)  # 10..19 fail; 20..29 read ahead
        finally:
            holder.close()
        assert await stage.run_once(read_ahead=True) == 10
        async with store.read() as session:
            got = list(
                (
                    await session.execute(sa.select(Message.uid).order_by(Message.id))  # type: ignore[call-overload]
                ).scalars()
            )
        assert got == [i.uid for i in items[:20]]
        assert await stage.run_once(read_ahead=True) == 10
        assert await stage.run_once(read_ahead=True) == 0
        stage.discard_read_ahead()
        assert await stage.drained()
        assert await uids(store) == {i.uid for i in items}
    finally:
        await store.close()
