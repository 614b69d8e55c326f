"""The re-parse dry run (issue 14): what the current parsers would change in what was
recorded, exactly, and without writing anything.

Bounces are recorded, then one event is set back to what an older parser might have
said; the dry run finds that one change (and only it), skips a purged message, honours
its filters and leaves every row as it was. The CLI prints the same. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from returnpath.store import reparse, retention
from returnpath.store.db import Store
from returnpath.store.models import Event, utcnow
from returnpath.store.tenants import DEFAULT_TENANT, TenantRef, ensure_tenant
from tests.cli import run_cli
from tests.conftest import DOMAIN
from tests.messages import arf, dsn
from tests.recorded import record_raw


async def _events(store: Store) -> list[tuple[str, str, str]]:
    async with store.read() as session:
        rows = await session.execute(
            sa.select(Event.recipient, Event.kind, Event.reason).order_by(Event.id)  # type: ignore[call-overload]
        )
        return [tuple(r) for r in rows]


async def _fill(store: Store) -> TenantRef:
    tenant = await ensure_tenant(store, DEFAULT_TENANT, [DOMAIN])
    await record_raw(store, tenant, dsn("gone@example.com", message_id="<1@mx>"), days=3)
    await record_raw(store, tenant, dsn("full@example.com", "5.2.2", diagnostic="552 5.2.2 Mailbox full", message_id="<2@mx>"))  # fmt: skip
    await record_raw(store, tenant, arf("complainer@example.com"))
    await record_raw(store, tenant, dsn("old@example.com", message_id="<3@mx>"), days=200)
    await retention.purge_raw(store, retention.cutoff(90))
    # what an older parser said about the first bounce
    async with store.write_core() as conn:
        await conn.execute(
            sa.update(Event)
            .where(Event.recipient == "gone@example.com")  # type: ignore[arg-type]
            .values(reason="filtered")
        )
    return tenant


async def test_the_dry_run_finds_exactly_what_changed(database_url: str) -> None:
    store = Store(database_url)
    try:
        await store.create_schema()
        tenant = await _fill(store)
        before = await _events(store)
        seen: list[int] = []
        report = await reparse.dry_run(
            store, reparse.ReparseFilter(tenant.id), batch=2, progress=seen.append
        )
        assert (report.messages, report.purged) == (3, 1)
        assert report.changed == 1 and report.unchanged == 2
        assert report.transitions == {("hard_bounce.filtered", "hard_bounce.userunknown"): 1}
        [change] = report.sample
        assert change.recipient == "gone@example.com"
        assert change.decided_by == "rules.userunknown.user-unknown"
        assert seen == [2, 4]  # by batch
        assert await _events(store) == before  # read-only

        recent = reparse.ReparseFilter(tenant.id, since=utcnow() - timedelta(days=1))
        narrowed = await reparse.dry_run(store, recent)
        assert (narrowed.messages, narrowed.changed, narrowed.unchanged) == (2, 0, 2)
        arf_only = await reparse.dry_run(store, reparse.ReparseFilter(tenant.id, family="arf"))
        assert (arf_only.messages, arf_only.changed) == (1, 0)
        assert await reparse.count(store, reparse.ReparseFilter(tenant.id)) == 4
    finally:
        await store.close()


async def test_reparse_command(tmp_path: Path) -> None:
    path = tmp_path / "returnpath.db"
    store = Store(f"sqlite+aiosqlite:///{path}")
    try:
        await store.create_schema()
        await _fill(store)
    finally:
        await store.close()
    url = f"sqlite:///{path}"
    text = run_cli(url, "reparse", "--dry-run")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("3 message(s) parsed again (1 purged, not re-read)")
    assert "1 would change" in text.stdout
    assert "hard_bounce.filtered -> hard_bounce.userunknown" in text.stdout
    as_json = json.loads(run_cli(url, "reparse", "--dry-run", "--json").stdout)
    assert as_json["changed"] == 1 and as_json["sample"][0]["recipient"] == "gone@example.com"
    refused = run_cli(url, "reparse")
    assert refused.returncode == 2 and "--dry-run" in refused.stderr
