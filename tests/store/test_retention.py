"""Raw-message retention (issue 14): old raw bytes go, the history stays.

Messages are recorded with arrival times in the past; the purge empties exactly those
older than the cutoff, in as many batches as it takes, once; the API answers 410 for a
purged message and still serves its event; serve's scheduled pass and `returnpath
purge` (for cron) do the same. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa

from returnpath.store import retention
from returnpath.store.db import Store
from returnpath.store.models import Message
from returnpath.store.tenants import DEFAULT_TENANT, TenantRef, ensure_tenant
from tests.cli import run_cli
from tests.conftest import DOMAIN, StartService
from tests.messages import dsn
from tests.recorded import record_raw


async def _record_aged(store: Store, tenant: TenantRef, address: str, days: float) -> str:
    raw = dsn(address, message_id=f"<{address}-{days}@mx.example.net>")
    return await record_raw(store, tenant, raw, days=days)


async def _raw_by_uid(store: Store) -> dict[str, tuple[bytes, object]]:
    async with store.read() as session:
        rows = await session.execute(
            sa.select(Message.uid, Message.raw, Message.raw_purged_at)  # type: ignore[call-overload]
        )
        return {uid: (raw, purged) for uid, raw, purged in rows}


async def test_purge_empties_only_old_raw_messages_and_keeps_their_events(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url, raw_retention_days=0)  # no scheduled pass
    tenant = await ensure_tenant(svc.store, DEFAULT_TENANT, [DOMAIN])
    old = [await _record_aged(svc.store, tenant, f"old{i}@example.com", 40 + i) for i in range(3)]
    recent = await _record_aged(svc.store, tenant, "recent@example.com", 1)
    before = retention.cutoff(30)

    assert await retention.count_purgeable(svc.store, before) == 3
    assert await retention.purge_raw(svc.store, before, batch=2) == 3  # two batches
    raws = await _raw_by_uid(svc.store)
    assert all(raws[uid][0] == b"" and raws[uid][1] is not None for uid in old)
    assert raws[recent][0].startswith(b"From:") or len(raws[recent][0]) > 100
    assert raws[recent][1] is None
    # idempotent: nothing left, nothing done again
    assert await retention.count_purgeable(svc.store, before) == 0
    assert await retention.purge_raw(svc.store, before) == 0

    events = (await svc.api.get("/v1/events", params={"limit": 100})).json()["items"]
    by_recipient = {e["recipient"]: e for e in events}
    assert set(by_recipient) == {"old0@example.com", "old1@example.com", "old2@example.com",
                                 "recent@example.com"}  # fmt: skip
    gone = await svc.api.get(f"/v1/events/{by_recipient['old1@example.com']['id']}/raw")
    assert gone.status_code == 410, gone.text
    assert "RETURNPATH_RAW_RETENTION_DAYS" in gone.json()["detail"]
    kept = await svc.api.get(f"/v1/events/{by_recipient['recent@example.com']['id']}/raw")
    assert kept.status_code == 200 and kept.content == raws[recent][0]
    still = await svc.api.get(f"/v1/events/{by_recipient['old1@example.com']['id']}")
    assert still.status_code == 200 and still.json()["reason"] == "userunknown"
    # the suppression the old bounce made stays
    check = await svc.api.get("/v1/suppressions/old1@example.com")
    assert check.status_code == 200


async def test_serve_purges_on_its_own_schedule(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url, raw_retention_days=30, raw_purge_interval=0.05)
    tenant = await ensure_tenant(svc.store, DEFAULT_TENANT, [DOMAIN])
    old = await _record_aged(svc.store, tenant, "aged@example.com", 31)
    recent = await _record_aged(svc.store, tenant, "young@example.com", 29)
    async with asyncio.timeout(20):
        while (await _raw_by_uid(svc.store))[old][1] is None:
            await asyncio.sleep(0.05)
    raws = await _raw_by_uid(svc.store)
    assert raws[old][0] == b""
    assert raws[recent][1] is None and raws[recent][0] != b""
    metrics = (await svc.api.get("/metrics")).text
    assert "returnpath_raw_purged_total" in metrics


async def test_purge_command_for_cron(tmp_path: Path) -> None:
    path = tmp_path / "returnpath.db"
    store = Store(f"sqlite+aiosqlite:///{path}")
    try:
        await store.create_schema()
        tenant = await ensure_tenant(store, DEFAULT_TENANT, [DOMAIN])
        await _record_aged(store, tenant, "a@example.com", 100)
        await _record_aged(store, tenant, "b@example.com", 10)
    finally:
        await store.close()
    url = f"sqlite:///{path}"
    dry = run_cli(url, "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("1 raw message(s)") and "would be purged" in dry.stdout
    shorter = run_cli(url, "purge", "--dry-run", "--older-than-days", "5")
    assert shorter.stdout.startswith("2 raw message(s)")
    done = run_cli(url, "purge")
    assert done.returncode == 0 and done.stdout.startswith("1 raw message(s)"), done.stderr
    again = run_cli(url, "purge")
    assert again.stdout.startswith("0 raw message(s)")
    forever = run_cli(url, "purge", raw_retention_days="0")
    assert forever.returncode != 0 and "for ever" in forever.stderr
