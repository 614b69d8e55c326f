"""Webhook deliveries: signed deliveries/s to a local receiver, and draining a backlog.

    .venv/bin/python -m bench.webhooks [--db sqlite|postgres|both] [--events 20000]
        [--backlog 20000] [--concurrency 8]

One ``returnpath serve`` process (RETURNPATH_WEBHOOK_ALLOW_PRIVATE=true, one
endpoint) and an asyncio HTTP/1.1 receiver in this process on 127.0.0.1
answering 200 at once. Events are written straight into the event table in
batches (as the stage would commit them; SMTP is not what is measured here),
then:

- ``rate``: ``--events`` events written at once; the time from the first
  commit to the receiver's last request gives deliveries/s (fan-out, claim,
  HMAC signing, HTTP, write-back of every attempt).
- ``backlog``: the receiver is down (connection refused) while ``--backlog``
  events are written; every delivery is tried and fails once; then the
  receiver comes back and the pending deliveries are made due at once (as
  when their retry time comes; the schedule itself spreads them over
  minutes); reported: the time until every one is delivered.

The machine is shared (other work runs beside it): figures are lower bounds.
Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from typing import Any

import sqlalchemy as sa

from bench.common import CORES_NOTE, ServiceProc, print_table, temp_database, write_json
from returnpath.store.db import Store
from returnpath.store.models import Event, Message, Tenant, WebhookDelivery, utcnow
from tests.webhooks.receiver import Answer, receiver

EVENTS: sa.Table = Event.__table__  # type: ignore[attr-defined]
MESSAGES: sa.Table = Message.__table__  # type: ignore[attr-defined]
TENANTS: sa.Table = Tenant.__table__  # type: ignore[attr-defined]
DELIVERIES: sa.Table = WebhookDelivery.__table__  # type: ignore[attr-defined]
CHUNK = 2000


async def write_events(store: Store, count: int) -> None:
    """``count`` hard bounces of the default tenant, under one stored message."""
    now = utcnow()
    async with store.write_core() as conn:
        tenant_id = (await conn.execute(sa.select(TENANTS.c.id).limit(1))).scalar_one()
        message_id = (
            await conn.execute(
                sa.insert(MESSAGES)
                .values(
                    uid=secrets.token_hex(16),
                    tenant_id=tenant_id,
                    dedup_key=secrets.token_hex(16),
                    received_at=now,
                    rcpt_tos="",
                    size=1,
                    family="bench",
                    raw=b"x",
                )
                .returning(MESSAGES.c.id)
            )
        ).scalar_one()
    for start in range(0, count, CHUNK):
        rows = [
            {
                "uid": secrets.token_hex(16),
                "tenant_id": tenant_id,
                "message_id": message_id,
                "created_at": now,
                "recipient": f"user{start + i}@example.org",
                "kind": "hard_bounce",
                "reason": "userunknown",
                "status": "5.1.1",
                "smtp_code": "550",
                "diagnostic": "550 5.1.1 User unknown",
                "family": "bench",
                "verified": False,
            }
            for i in range(min(CHUNK, count - start))
        ]
        async with store.write_core() as conn:
            await conn.execute(sa.insert(EVENTS), rows)


async def count(store: Store, *conditions: Any) -> int:
    async with store.read() as session:
        query = sa.select(sa.func.count()).select_from(DELIVERIES).where(*conditions)
        return int((await session.execute(query)).scalar() or 0)


async def run_db(kind: str, events: int, backlog: int, concurrency: int) -> list[dict[str, Any]]:
    results = []
    async with temp_database(kind) as db:
        svc = ServiceProc(
            db,
            extra_env={
                "RETURNPATH_WEBHOOK_ALLOW_PRIVATE": "true",
                "RETURNPATH_WEBHOOK_CONCURRENCY": str(concurrency),
                "RETURNPATH_WEBHOOK_RETRY_BASE": "60",
            },
        )
        svc.start()
        store = Store(db.url)
        try:
            async with receiver() as rec:
                rec.keep = False
                import httpx

                api = httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{svc.api_port}",
                    headers={"Authorization": f"Bearer {svc.api_key}"},
                )
                async with api:
                    r = await api.post("/v1/webhooks", json={"url": rec.url})
                    r.raise_for_status()
                    # rate
                    cpu0 = svc.cpu_seconds()
                    t0 = time.perf_counter()
                    await write_events(store, events)
                    await rec.wait_for(events, within=3600)
                    while await count(store, DELIVERIES.c.state == "delivered") < events:
                        await asyncio.sleep(0.2)
                    results.append(_row(kind, "rate", events, t0, svc.cpu_seconds() - cpu0))
                    # backlog after an outage: the receiver refuses connections
                    port = rec.port
                    rec.close()
                    await write_events(store, backlog)
                    pending = DELIVERIES.c.state == "pending"
                    while await count(store, pending, DELIVERIES.c.attempts >= 1) < backlog:
                        await asyncio.sleep(0.5)
                    async with receiver_on(port) as back:
                        async with store.write_core() as conn:
                            await conn.execute(
                                sa.update(DELIVERIES).where(pending).values(next_at=utcnow())
                            )
                        cpu0 = svc.cpu_seconds()
                        t0 = time.perf_counter()
                        while await count(store, pending) > 0:
                            await asyncio.sleep(0.2)
                        results.append(_row(kind, "backlog", backlog, t0, svc.cpu_seconds() - cpu0))
                        assert back.count >= backlog
        finally:
            await store.close()
            svc.stop()
            svc.cleanup()
    return results


def _row(kind: str, phase: str, deliveries: int, t0: float, cpu: float) -> dict[str, Any]:
    wall = time.perf_counter() - t0
    return {
        "db": kind,
        "phase": phase,
        "deliveries": deliveries,
        "seconds": round(wall, 2),
        "per_s": round(deliveries / wall),
        "serve_cpu_s": round(cpu, 1),
    }


def receiver_on(port: int) -> Any:
    return receiver(port=port, answer=lambda _r: Answer(200))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="both", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    rows = []
    for kind in kinds:
        rows += await run_db(kind, args.events, args.backlog, args.concurrency)
    columns = [
        ("db", "db"),
        ("phase", "phase"),
        ("deliveries", "deliveries"),
        ("seconds", "s"),
        ("per_s", "deliveries/s"),
        ("serve_cpu_s", "serve CPU s"),
    ]
    print_table(rows, columns)
    print(f"concurrency per endpoint {args.concurrency}; {CORES_NOTE}")
    write_json("webhooks", {"args": vars(args), "rows": rows})


if __name__ == "__main__":
    asyncio.run(main())
