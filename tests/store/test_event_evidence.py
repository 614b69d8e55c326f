"""The evidence behind each verdict is stored with its event and published with it:
the event row, the outbox's JSON (what RabbitMQ, webhooks and the stream carry),
GET /v1/events, GET /v1/events/{id} and the address history. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aio_pika
import jsonschema
import sqlalchemy as sa

from returnpath.parsers import parse
from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.vocabulary import Reason
from returnpath.store.db import Store
from returnpath.store.ingest import Received, record
from returnpath.store.models import EVIDENCE_CHARS, Event, Outbox
from returnpath.store.tenants import DEFAULT_TENANT, ensure_tenant
from tests.conftest import StartService
from tests.integration.test_smtp_loop import send
from tests.messages import arf, dsn
from tests.services import AMQP_URL, require_rabbitmq

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "event.v1.json").read_text())
DOMAIN = "bounces.example.com"


async def _rows(store: Store, model: type) -> list[object]:
    async with store.read() as session:
        return list((await session.execute(sa.select(model))).scalars())


async def test_a_bounce_keeps_its_evidence_from_the_row_to_every_published_form(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    await send(svc.smtp_port, dsn("gone@example.com", message_id="<ev-1@mx>"))
    await send(svc.smtp_port, arf("complainer@example.com"))
    await svc.settle()
    expected = {
        "gone@example.com": ("rules.userunknown.user-unknown", "recipient address rejected: user"),
        "complainer@example.com": ("family.arf.feedback-type", "Feedback-Type: abuse"),
    }
    # what the parsers say is what is stored
    [f] = parse(dsn("gone@example.com")).findings
    assert (f.decided_by, f.evidence) == expected["gone@example.com"]

    events = [e for e in await _rows(svc.store, Event) if isinstance(e, Event)]
    assert {e.recipient: (e.decided_by, e.evidence) for e in events} == expected

    page = (await svc.api.get("/v1/events")).json()["items"]
    assert {e["recipient"]: (e["decided_by"], e["evidence"]) for e in page} == expected
    for item in page:
        one = (await svc.api.get(f"/v1/events/{item['id']}")).json()
        assert (one["decided_by"], one["evidence"]) == expected[one["recipient"]]

    history = (await svc.api.get("/v1/suppressions/gone@example.com/history")).json()
    [event] = [h for h in history if h["what"] == "event"]
    assert (event["decided_by"], event["evidence"]) == expected["gone@example.com"]
    assert all(h["decided_by"] is None for h in history if h["what"] != "event")


async def test_the_rabbitmq_message_carries_the_evidence(
    database_url: str, start_service: StartService
) -> None:
    require_rabbitmq()
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            "returnpath.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="hard_bounce.#")
        svc = await start_service(database_url, amqp_url=AMQP_URL)
        await send(svc.smtp_port, dsn("published@example.org", message_id="<ev-pub@mx>"))
        [event] = (await svc.api.get("/v1/events")).json()["items"]
        body = None
        async with asyncio.timeout(20):
            async with queue.iterator() as it:
                async for incoming in it:
                    await incoming.ack()
                    if incoming.message_id == event["id"]:
                        body = json.loads(incoming.body)
                        break
    assert body is not None
    jsonschema.validate(body, SCHEMA)
    assert body["minor"] >= 1  # decided_by and evidence are there since minor 1
    assert (body["decided_by"], body["evidence"]) == (
        "rules.userunknown.user-unknown",
        "recipient address rejected: user",
    )
    # since minor 2, what the policy did with it (tests/store/test_event_effect.py)
    assert (body["minor"], body["effect"], body["effect_reason"]) == (
        2,
        "suppressed",
        "hard_bounce",
    )


async def test_evidence_of_any_text_is_stored_bounded(database_url: str) -> None:
    """A NUL, a byte that was not UTF-8 and an over-long text: stored, escaped and cut."""
    store = Store(database_url)
    try:
        await store.create_schema()
        tenant = await ensure_tenant(store, DEFAULT_TENANT, [DOMAIN])
        odd = "no such user \x00 \udcff " + "x" * 400
        report = Report(
            findings=(
                Finding(
                    kind=Kind.HARD_BOUNCE,
                    reason=Reason.USERUNKNOWN,
                    recipient="odd@example.org",
                    family="rfc3464",
                    decided_by="rules.userunknown.user-unknown",
                    evidence=odd,
                ),
            ),
            family="rfc3464",
        )
        received = Received(
            tenant=tenant, raw=b"raw", peer=None, mail_from="", rcpt_tos=(f"b@{DOMAIN}",)
        )
        await record(store, received, report, publish=True)
        [event] = [e for e in await _rows(store, Event) if isinstance(e, Event)]
        assert event.decided_by == "rules.userunknown.user-unknown"
        assert event.evidence is not None and len(event.evidence) <= EVIDENCE_CHARS
        assert event.evidence.startswith("no such user \\x00 \\xff x")
        [outbox] = [o for o in await _rows(store, Outbox) if isinstance(o, Outbox)]
        body = json.loads(outbox.body)
        jsonschema.validate(body, SCHEMA)
        assert body["version"] == 1 and body["minor"] >= 1
        # the JSON carries the text itself, cut to the column (JSON escapes what it must)
        assert (body["decided_by"], body["evidence"]) == (event.decided_by, odd[:EVIDENCE_CHARS])
    finally:
        await store.close()
