"""Events reach a real RabbitMQ queue, confirmed, persistent, deduplicable."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aio_pika
import jsonschema
import sqlalchemy as sa

from returnpath.bus.relay import OutboxRelay
from returnpath.store.models import Outbox
from tests.conftest import StartService
from tests.integration.test_smtp_loop import send
from tests.messages import dsn
from tests.services import AMQP_URL, require_rabbitmq

EXCHANGE = "returnpath.events"
SCHEMA = Path(__file__).parents[2] / "schemas" / "event.v1.json"


async def _pending(store: object) -> list[Outbox]:
    async with store.read() as session:  # type: ignore[attr-defined]
        return list((await session.execute(sa.select(Outbox))).scalars())


async def test_hard_bounce_is_published_to_a_real_queue(
    database_url: str, start_service: StartService
) -> None:
    require_rabbitmq()
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="hard_bounce.#")

        svc = await start_service(database_url, amqp_url=AMQP_URL)
        await send(svc.smtp_port, dsn("published@example.org", message_id="<pub-1@mx>"))
        [event] = (await svc.api.get("/v1/events")).json()["items"]

        message = None
        async with asyncio.timeout(20):
            async with queue.iterator() as it:
                async for incoming in it:
                    await incoming.ack()
                    if incoming.message_id == event["id"]:
                        message = incoming
                        break
        assert message is not None
        assert message.routing_key == "hard_bounce.userunknown"
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert message.content_type == "application/json"
        body = json.loads(message.body)
        # The documented contract: the body validates against the published JSON Schema.
        jsonschema.validate(body, json.loads(SCHEMA.read_text()))
        assert body["version"] == 1
        assert body["id"] == event["id"]
        assert (body["kind"], body["reason"], body["recipient"]) == (
            "hard_bounce",
            "userunknown",
            "published@example.org",
        )
        assert body["status"] == "5.1.1"

        async with asyncio.timeout(10):
            while any(row.sent_at is None for row in await _pending(svc.store)):
                await asyncio.sleep(0.05)


async def test_broker_down_keeps_events_in_outbox_until_it_is_back(
    sqlite_url: str, start_service: StartService
) -> None:
    require_rabbitmq()
    # Port 9 (discard) is closed here: the relay cannot connect, SMTP must not care.
    svc = await start_service(sqlite_url, amqp_url="amqp://guest:guest@127.0.0.1:9/")
    _, reply = await send(svc.smtp_port, dsn("waiting@example.org"))
    assert "Accepted as" in reply
    await asyncio.sleep(0.3)
    [row] = await _pending(svc.store)
    assert row.sent_at is None and row.routing_key == "hard_bounce.userunknown"

    # The broker comes back: a relay drains the outbox and marks the row sent.
    relay = OutboxRelay(svc.store, AMQP_URL)
    exchange = await relay._connect()
    try:
        assert await relay.publish_batch(exchange) == 1
    finally:
        await relay.stop()
        await relay._close()
    [row] = await _pending(svc.store)
    assert row.sent_at is not None
