"""Reverting an incident (issue 14): lift in bulk what a filter names, previewed first.

Suppressions made by bounces from two providers and by hand; a dry run counts and
samples without changing anything; applying lifts exactly the matching ones, audits
each with the note (the address history shows it), restarts the soft count, and a
second run finds nothing. Bad filters get a clear 422. The CLI does the same. SQLite
and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from returnpath.store import revert
from returnpath.store.db import Store
from returnpath.store.models import AddressState, utcnow
from returnpath.store.tenants import DEFAULT_TENANT, TenantRef, ensure_tenant
from tests.cli import run_cli
from tests.conftest import DOMAIN, StartService
from tests.messages import dsn
from tests.recorded import record_raw

OUTLOOK = ["a1@example.com", "a2@example.com", "a3@example.com"]
GMAIL = ["g1@example.com", "g2@example.com"]


async def _bounce(
    store: Store, tenant: TenantRef, address: str, remote: str, *, full: bool = False
) -> None:
    """A hard bounce naming ``remote`` as the remote MTA (a soft one, mailbox full, if ``full``)."""
    if full:
        raw = dsn(address, "5.2.2", diagnostic="552 5.2.2 Mailbox full", message_id="<full@mx>")
    else:
        raw = dsn(address, message_id=f"<{address}@mx.example.net>")
    await record_raw(store, tenant, raw.replace(b"mx.remote.example", remote.encode()))


async def _soft_state(store: Store, address: str) -> tuple[int, object]:
    async with store.read() as session:
        row = (
            await session.execute(sa.select(AddressState).where(AddressState.address == address))  # type: ignore[arg-type]
        ).scalar_one()
    return row.soft_bounces, row.soft_reset_at


async def test_revert_previews_then_lifts_exactly_the_incident(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    tenant = await ensure_tenant(svc.store, DEFAULT_TENANT, [DOMAIN])
    await _bounce(svc.store, tenant, OUTLOOK[0], "mx1.eur.outlook.com", full=True)
    for address in OUTLOOK:
        await _bounce(svc.store, tenant, address, "mx1.eur.outlook.com")
    for address in GMAIL:
        await _bounce(svc.store, tenant, address, "gmail-smtp-in.l.google.com")
    put = await svc.api.put("/v1/suppressions/hand@example.com", json={"note": "asked"})
    assert put.status_code == 201
    for address in [*OUTLOOK, *GMAIL, "hand@example.com"]:
        assert (await svc.api.get(f"/v1/suppressions/{address}")).status_code == 200, address
    before = await _soft_state(svc.store, OUTLOOK[0])

    # refused: no filter, an empty window, a remote MTA that is not a host, no note
    for body, words in (
        ({"note": "x"}, "needs a filter"),
        ({"note": "x", "since": "2026-12-03T10:00:00Z", "until": "2026-12-03T09:00:00Z"}, "before"),
        ({"note": "x", "remote_mta": "outlook.com%"}, "host or domain"),
    ):
        refused = await svc.api.post("/v1/suppressions/revert", json=body)
        assert refused.status_code == 422 and words in refused.text, refused.text
    assert (
        await svc.api.post("/v1/suppressions/revert", json={"remote_mta": "outlook.com"})
    ).status_code == 422

    incident = {
        "remote_mta": "outlook.com",
        "since": (utcnow() - timedelta(hours=1)).isoformat(),
        "kind": "hard_bounce",
        "note": "INC-42: Outlook refused everything 10:00-13:00",
    }
    preview = await svc.api.post("/v1/suppressions/revert", json=incident)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["dry_run"] is True and body["count"] == 3
    assert sorted(s["address"] for s in body["sample"]) == OUTLOOK
    assert {s["remote_mta"] for s in body["sample"]} == {"mx1.eur.outlook.com"}
    assert (await svc.api.get(f"/v1/suppressions/{OUTLOOK[0]}")).status_code == 200  # unchanged
    manual = await svc.api.post("/v1/suppressions/revert", json={"source": "manual", "note": "x"})
    assert manual.json()["count"] == 1

    applied = await svc.api.post("/v1/suppressions/revert", json={**incident, "dry_run": False})
    assert applied.status_code == 200 and applied.json()["count"] == 3, applied.text
    for address in OUTLOOK:
        gone = await svc.api.get(f"/v1/suppressions/{address}")
        assert gone.status_code == 404, address
        history = (await svc.api.get(f"/v1/suppressions/{address}/history")).json()
        lift = history[0]
        assert lift["what"] == "remove" and lift["reason"] == incident["note"], history
        assert lift["actor"] != "bounce"
    for address in [*GMAIL, "hand@example.com"]:
        assert (await svc.api.get(f"/v1/suppressions/{address}")).status_code == 200, address
    soft, reset_at = await _soft_state(svc.store, OUTLOOK[0])
    assert soft == 0 and reset_at is not None and reset_at != before[1], before
    again = await svc.api.post("/v1/suppressions/revert", json={**incident, "dry_run": False})
    assert again.json()["count"] == 0

    # in batches: every one lifted, once
    result = await revert.revert(
        svc.store,
        tenant.id,
        revert.RevertFilter(remote_mta="google.com"),
        note="batched",
        actor="test",
        dry_run=False,
        batch=1,
    )
    assert result.count == 2 and sorted(s.address for s in result.sample) == GMAIL
    assert (await svc.api.get(f"/v1/suppressions/{GMAIL[0]}")).status_code == 404


async def test_revert_command(tmp_path: Path) -> None:
    path = tmp_path / "returnpath.db"
    store = Store(f"sqlite+aiosqlite:///{path}")
    try:
        await store.create_schema()
        tenant = await ensure_tenant(store, DEFAULT_TENANT, [DOMAIN])
        for address in OUTLOOK:
            await _bounce(store, tenant, address, "mx1.eur.outlook.com")
    finally:
        await store.close()
    url = f"sqlite:///{path}"
    args = ("revert", "--remote-mta", "outlook.com", "--note", "INC-42")
    dry = run_cli(url, *args)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would lift 3 suppression(s)") and "--apply" in dry.stdout
    assert all(a in dry.stdout for a in OUTLOOK)
    done = run_cli(url, *args, "--apply")
    assert done.returncode == 0 and done.stdout.startswith("lifted 3"), done.stderr
    assert run_cli(url, *args, "--apply").stdout.startswith("lifted 0")
    bad = run_cli(url, "revert", "--since", "yesterday", "--note", "x")
    assert bad.returncode == 2 and "RFC 3339" in bad.stderr and "Traceback" not in bad.stderr
    naive = run_cli(url, "revert", "--since", "2026-12-03T10:00:00", "--note", "x")
    assert naive.returncode == 2 and "time zone" in naive.stderr
    nothing = run_cli(url, "revert", "--note", "x")
    assert nothing.returncode != 0 and "needs a filter" in nothing.stderr
