"""The outbox relay under broker outages, stalls and load: real RabbitMQ, real stores.

A ``TcpProxy`` sits between the relay and RabbitMQ so that a test can cut or stall
the broker; a private exchange and queue per test count what arrived, by
``message_id``, after the relay has stopped (``basic.get`` until empty), so that
late duplicates are counted too.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aio_pika
import pytest
import sqlalchemy as sa
from aio_pika.abc import AbstractExchange, AbstractQueue

from returnpath.bus.relay import OutboxRelay, next_backoff
from returnpath.store.db import Store
from returnpath.store.models import Outbox, utcnow
from tests.services import AMQP_URL, require_rabbitmq
from tests.tcp_proxy import TcpProxy

# Generous ceilings: only a hang reaches them.
CEILING = 60.0


@dataclass
class Broker:
    exchange_name: str
    exchange: AbstractExchange
    queue: AbstractQueue

    async def received(self) -> Counter[str]:
        """Every message waiting in the private queue, by message_id (drains it)."""
        seen: Counter[str] = Counter()
        while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
            assert message.message_id is not None
            seen[message.message_id] += 1
        return seen


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = Store(database_url)
    await store.create_schema()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    """A private exchange (the relay declares it alike) with a queue bound to everything."""
    require_rabbitmq()
    name = f"rp-test-{uuid.uuid4().hex[:12]}"
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="#")
        yield Broker(name, exchange, queue)
        await exchange.delete(if_unused=False)
    finally:
        await connection.close()


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    require_rabbitmq()
    proxy = await TcpProxy("127.0.0.1", 5672).start()
    try:
        yield proxy
    finally:
        await proxy.close()


async def commit_event(store: Store) -> str:
    """One outbox row in a transaction of its own, as the SMTP path commits them."""
    uid = secrets.token_hex(16)
    async with store.write_core() as conn:
        await conn.execute(
            sa.insert(Outbox),
            {
                "event_uid": uid,
                "routing_key": "hard_bounce.userunknown",
                "body": f'{{"id": "{uid}"}}',
                "created_at": utcnow(),
            },
        )
    return uid


async def commit_and_wake(store: Store, relay: OutboxRelay, n: int) -> None:
    for _ in range(n):
        await commit_event(store)
        relay.wake()


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(CEILING):
        while not condition():
            await asyncio.sleep(0.05)


async def outbox(store: Store) -> dict[str, Outbox]:
    async with store.read() as session:
        return {row.event_uid: row for row in (await session.execute(sa.select(Outbox))).scalars()}


async def until_all_sent(store: Store) -> None:
    async with asyncio.timeout(CEILING):
        while any(row.sent_at is None for row in (await outbox(store)).values()):
            await asyncio.sleep(0.05)


@asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        await relay.stop()
        async with asyncio.timeout(CEILING):
            await task


def assert_exactly_once(seen: Counter[str], rows: dict[str, Outbox]) -> None:
    """No loss; a duplicate only of a row whose publish went unconfirmed at least once
    (the documented window: the broker got it, the confirm was lost with the connection)."""
    assert set(seen) == set(rows), (
        f"lost: {set(rows) - set(seen)}, foreign: {set(seen) - set(rows)}"
    )
    duplicated = {uid for uid, n in seen.items() if n > 1}
    assert all(rows[uid].attempts > 0 for uid in duplicated), duplicated


async def test_an_outage_is_waited_out_with_backoff_and_loses_nothing(
    store: Store, broker: Broker, proxy: TcpProxy
) -> None:
    # Default back-off base (1 s: at most one knock a second whatever the jitter); a low
    # cap only to keep the test short after the outage.
    relay = OutboxRelay(
        store, proxy.url_port(AMQP_URL), broker.exchange_name, linger=0.05, backoff_max=3.0
    )
    async with running(relay):
        await commit_and_wake(store, relay, 20)
        await until_all_sent(store)

        proxy.cut()
        before = proxy.connections
        # Commits keep coming and waking the relay through a 4 s outage.
        loop = asyncio.get_running_loop()
        end = loop.time() + 4.0
        while loop.time() < end:
            await commit_event(store)
            relay.wake()
            await asyncio.sleep(0.02)
        attempts = proxy.connections - before
        proxy.resume()
        # Without the fix every wake cut the back-off short: ~130 attempts in 4 s.
        # With a 1 s floor between attempts, at most 5 (one at the cut, four after).
        assert 1 <= attempts <= 6, attempts
        await commit_and_wake(store, relay, 20)
        await until_all_sent(store)
    assert relay.failures >= 1
    assert_exactly_once(await broker.received(), await outbox(store))


async def test_a_stalled_broker_costs_a_bounded_wait_not_a_hang(
    store: Store, broker: Broker, proxy: TcpProxy
) -> None:
    relay = OutboxRelay(
        store,
        proxy.url_port(AMQP_URL),
        broker.exchange_name,
        linger=0.05,
        broker_timeout=1.0,
        backoff_max=2.0,
    )
    task = asyncio.create_task(relay.run())
    try:
        await commit_event(store)
        relay.wake()
        await until_all_sent(store)

        # Connections stay open, nothing answers: confirms never come, nor handshakes.
        proxy.stall()
        await commit_and_wake(store, relay, 5)
        # The unconfirmed batch fails within the bound (unbounded, it waited for the
        # heartbeat: minutes), then each reconnection's handshake does too.
        await until(lambda: relay.failures >= 3)
        assert not task.done()
        proxy.resume()
        await until_all_sent(store)

        # Stopped in the middle of a stall: run() returns within its bounds.
        proxy.stall()
        await commit_event(store)
        relay.wake()
        await asyncio.sleep(0.3)
    finally:
        await relay.stop()
        async with asyncio.timeout(CEILING):
            await task
        proxy.resume()
    rows = await outbox(store)
    seen = await broker.received()
    # The last event may have been published or not (stopped mid-stall): it stays in the
    # outbox unless confirmed; all others arrived.
    last = max(rows.values(), key=lambda r: r.id or 0)
    if last.sent_at is None:
        seen.pop(last.event_uid, None)
        rows.pop(last.event_uid)
    assert_exactly_once(seen, rows)


async def test_a_broker_that_never_answers_the_handshake_costs_bounded_attempts(
    sqlite_url: str,
) -> None:
    """A listener that accepts and never speaks (RabbitMQ itself gives up on a silent
    client after its handshake_timeout, so the proxy's stall cannot show this side)."""
    held: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = Store(sqlite_url)
    await store.create_schema()
    relay = OutboxRelay(
        store, f"amqp://guest:guest@127.0.0.1:{port}/", broker_timeout=1.0, backoff_max=2.0
    )
    try:
        async with running(relay):
            # Each attempt ends at broker_timeout; unbounded, the first never ended.
            await until(lambda: relay.failures >= 3)
        assert relay.connection_attempts == relay.failures
    finally:
        for writer in held:
            writer.transport.abort()
        server.close()
        await server.wait_closed()
        await store.close()


async def test_commits_in_quick_succession_go_in_few_batches(store: Store, broker: Broker) -> None:
    require_rabbitmq()
    linger = 1.0
    relay = OutboxRelay(store, AMQP_URL, broker.exchange_name, linger=linger)
    async with running(relay):
        async with asyncio.timeout(CEILING):
            while relay.batches == 0:  # until connected and publishing
                await commit_event(store)
                relay.wake()
                await asyncio.sleep(0.05)
        await until_all_sent(store)
        batches_before = relay.batches
        loop = asyncio.get_running_loop()
        start = loop.time()
        await commit_and_wake(store, relay, 100)
        took = loop.time() - start
        await until_all_sent(store)
    # A batch leaves `linger` after its first event: the 100 commits span `took` seconds,
    # so at most took/linger + 2 batches; one per commit (or per handful) before.
    batches = relay.batches - batches_before
    assert batches <= took / linger + 2, (batches, took)
    assert_exactly_once(await broker.received(), await outbox(store))


async def test_a_full_batch_goes_before_the_linger_and_stop_flushes_the_rest(
    store: Store, broker: Broker
) -> None:
    require_rabbitmq()
    # A linger far beyond the ceiling: only a full batch (or stop) can make them go.
    relay = OutboxRelay(store, AMQP_URL, broker.exchange_name, batch_size=50, linger=3600.0)
    async with running(relay):
        await until(lambda: relay.connection_attempts > 0)
        await asyncio.sleep(1.5)  # past the first poll: the relay waits for wakes
        await commit_and_wake(store, relay, 120)
        await until(lambda: relay.published >= 100)
    rows = await outbox(store)
    assert all(row.sent_at is not None for row in rows.values())
    assert_exactly_once(await broker.received(), rows)


async def test_cooperating_relays_on_postgres_publish_each_event_once(
    postgres_url: str, broker: Broker
) -> None:
    stores = [Store(postgres_url), Store(postgres_url)]
    await stores[0].create_schema()
    relays = [OutboxRelay(s, AMQP_URL, broker.exchange_name, batch_size=20) for s in stores]
    try:
        async with running(relays[0]), running(relays[1]):
            for i in range(400):
                await commit_event(stores[i % 2])
                relays[i % 2].wake()
            await until_all_sent(stores[0])
        seen = await broker.received()
        rows = await outbox(stores[0])
        assert set(seen) == set(rows) and set(seen.values()) == {1}
        assert all(r.batches > 0 for r in relays)
    finally:
        for s in stores:
            await s.close()


def test_backoff_pauses_stay_between_floor_and_cap_and_replicas_drift_apart() -> None:
    base, cap = 1.0, 30.0
    schedules = []
    for seed in range(3):
        rng = random.Random(seed)
        pause, at, times = 0.0, 0.0, []
        for _ in range(12):
            pause = next_backoff(pause, base, cap, rng)
            assert base <= pause <= cap
            at += pause
            times.append(at)
        schedules.append(times)
        assert pause > base  # it grew
    # Three replicas cut at the same moment do not knock at the same moments.
    for a, b in ((0, 1), (0, 2), (1, 2)):
        assert all(abs(x - y) > 1e-6 for x, y in zip(schedules[a], schedules[b], strict=True))
