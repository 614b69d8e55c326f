"""Erasing an address (issue 14, GDPR): nothing that holds the address is left in any
table, and the address is still refused by every check, through the hash its
suppressions keep. Other addresses are untouched. SQLite and PostgreSQL."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlmodel import SQLModel

from returnpath.store.checks import erased_key
from returnpath.store.db import Store
from returnpath.store.models import Outbox
from returnpath.store.tenants import DEFAULT_TENANT, ensure_tenant
from tests.conftest import DOMAIN, StartService
from tests.messages import dsn
from tests.recorded import record_raw

VICTIM = "victim@example.com"


async def _traces(store: Store, text: str) -> list[str]:
    """Every table row that holds ``text`` anywhere (bytes or text)."""
    found = []
    async with store.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await conn.execute(sa.select(table))).all():
                for value in row:
                    blob = value if isinstance(value, bytes) else str(value).encode()
                    if text.encode() in blob:
                        found.append(f"{table.name}: {row!r:.120}")
    return found


async def test_erasing_an_address_leaves_no_trace_and_keeps_it_suppressed(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    tenant = await ensure_tenant(svc.store, DEFAULT_TENANT, [DOMAIN])
    await record_raw(svc.store, tenant, dsn(VICTIM, message_id="<e1@mx>"), publish=True)
    full = dsn(VICTIM, "5.2.2", diagnostic="552 5.2.2 Mailbox full", message_id="<e2@mx>")
    await record_raw(svc.store, tenant, full)
    await record_raw(svc.store, tenant, dsn("other@example.com", message_id="<e3@mx>"))
    put = await svc.api.put(
        f"/v1/suppressions/{VICTIM}", json={"stream": "news", "note": "asked by phone"}
    )
    assert put.status_code == 201
    assert await _traces(svc.store, VICTIM)  # the test can see a trace

    erased = await svc.api.delete(f"/v1/addresses/{VICTIM.upper()}")
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["key"] == erased_key(VICTIM)
    assert (body["suppressions"], body["events"], body["messages"]) == (2, 2, 2)
    assert body["audits"] >= 2

    assert await _traces(svc.store, VICTIM) == []
    assert await _traces(svc.store, "asked by phone") == []
    # still never mailed: the single check, the fast GET, the bulk check
    hits = await svc.api.get(f"/v1/suppressions/{VICTIM}")
    assert hits.status_code == 200, hits.text
    assert {h["address"] for h in hits.json()} == {erased_key(VICTIM)}
    news = await svc.api.get(f"/v1/suppressions/{VICTIM}", params={"stream": "news"})
    assert len(news.json()) == 2
    bulk = await svc.api.post(
        "/v1/suppressions/check",
        json={"addresses": [VICTIM, "other@example.com", "new@example.com"]},
    )
    assert [r["suppressed"] for r in bulk.json()["results"]] == [True, True, False]
    # the outbox publishes the pending event without the address
    async with svc.store.read() as session:
        bodies = [json.loads(o.body) for o in (await session.execute(sa.select(Outbox))).scalars()]
    assert {b["recipient"] for b in bodies} == {erased_key(VICTIM)}
    assert all(b["diagnostic"] is None for b in bodies)
    # other addresses keep everything
    other = (await svc.api.get("/v1/events", params={"recipient": "other@example.com"})).json()
    raw = await svc.api.get(f"/v1/events/{other['items'][0]['id']}/raw")
    assert raw.status_code == 200 and b"other@example.com" in raw.content

    again = await svc.api.delete(f"/v1/addresses/{VICTIM}")
    assert again.status_code == 404
    assert (await svc.api.delete("/v1/addresses/not-an-address")).status_code == 422
    metrics = (await svc.api.get("/metrics")).text
    assert "returnpath_addresses_erased_total" in metrics
