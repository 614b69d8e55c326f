"""The outbox relay: publish committed events to RabbitMQ, mark them sent on confirm.

Events are written to the ``outbox`` table in the same transaction as
everything else, so the SMTP side never waits for the broker. This loop
publishes them with publisher confirms, in batches of concurrent publishes
(measured here: ~1,500 msg/s awaiting each confirm, 6,500+ in batches), and
marks rows sent only after the broker confirmed. Broker down → rows wait;
the loop reconnects with backoff. On PostgreSQL, several relays cooperate
through ``FOR UPDATE SKIP LOCKED``; a crash between confirm and mark means a
re-publish, which consumers absorb by deduplicating on ``message_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import aio_pika
import sqlalchemy as sa
import structlog
from aio_pika.abc import AbstractExchange, AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from returnpath.store import metrics
from returnpath.store.db import Store
from returnpath.store.models import Outbox, utcnow

log = structlog.get_logger("returnpath.bus")


class OutboxRelay:
    def __init__(
        self,
        store: Store,
        amqp_url: str,
        exchange: str = "returnpath.events",
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.amqp_url = amqp_url
        self.exchange_name = exchange
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._connection: AbstractRobustConnection | None = None
        self.published = 0

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows: publish without waiting for the poll."""
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                exchange = await self._connect()
                backoff = 0.5
                await self._pump(exchange)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                metrics.PUBLISH_ERRORS.inc()
                log.warning("relay_error", error=repr(exc), retry_in=backoff)
                await self._close()
                self._wake.clear()
                await self._sleep(backoff)
                backoff = min(backoff * 2, 30.0)
        await self._close()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def _connect(self) -> AbstractExchange:
        self._connection = await aio_pika.connect_robust(self.amqp_url, timeout=10)
        channel = await self._connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        log.info("relay_connected", exchange=self.exchange_name)
        return exchange

    async def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    async def _pump(self, exchange: AbstractExchange) -> None:
        while not self._stopping.is_set():
            # Cleared *before* reading the outbox: a commit that lands while this
            # batch is being published sets it again, and the loop goes round at once.
            self._wake.clear()
            sent = await self.publish_batch(exchange)
            if sent < self.batch_size:
                await self._sleep(self.poll_interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def publish_batch(self, exchange: AbstractExchange) -> int:
        """Publish one batch of pending rows; returns how many were confirmed.

        On PostgreSQL the rows stay locked (``SKIP LOCKED``) while they are
        published, so that cooperating relays never publish the same row. On
        SQLite there is one relay per database; it reads, publishes, then
        takes the writer lock only to mark rows sent, so SMTP commits never
        wait behind the broker.
        """
        query = (
            select(col(Outbox.id), col(Outbox.event_uid), col(Outbox.routing_key), col(Outbox.body))
            .where(col(Outbox.sent_at).is_(None))
            .order_by(col(Outbox.id))
            .limit(self.batch_size)
        )
        if self.store.is_sqlite:
            async with self.store.read() as session:
                rows = (await session.execute(query)).all()
            if not rows:
                return 0
            confirmed = await self._publish(exchange, rows)
            async with self.store.write() as session:
                await self._mark(session, rows, confirmed)
        else:
            async with self.store.write() as session:
                rows = (await session.execute(query.with_for_update(skip_locked=True))).all()
                if not rows:
                    return 0
                confirmed = await self._publish(exchange, rows)
                await self._mark(session, rows, confirmed)
        self.published += len(confirmed)
        metrics.PUBLISHED.inc(len(confirmed))
        if len(confirmed) < len(rows):
            raise ConnectionError(
                f"{len(rows) - len(confirmed)} of {len(rows)} publishes not confirmed"
            )
        return len(confirmed)

    @staticmethod
    async def _publish(exchange: AbstractExchange, rows: Sequence[Any]) -> list[int]:
        results = await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(
                        body=body.encode(),
                        message_id=uid,
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        type="returnpath.event.v1",
                    ),
                    routing_key=key,
                )
                for _id, uid, key, body in rows
            ),
            return_exceptions=True,
        )
        return [
            row[0]
            for row, res in zip(rows, results, strict=True)
            if not isinstance(res, BaseException)
        ]

    @staticmethod
    async def _mark(session: AsyncSession, rows: Sequence[Any], confirmed: list[int]) -> None:
        if confirmed:
            await session.execute(
                sa.update(Outbox).where(col(Outbox.id).in_(confirmed)).values(sent_at=utcnow())
            )
        done = set(confirmed)
        failed = [row[0] for row in rows if row[0] not in done]
        if failed:
            await session.execute(
                sa.update(Outbox)
                .where(col(Outbox.id).in_(failed))
                .values(attempts=Outbox.attempts + 1)
            )
