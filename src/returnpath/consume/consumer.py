"""The broker side of ``returnpath consume``: queue, prefetch, acks, dead letters, reconnection.

The queue is durable and, by default, a quorum queue (replicated on a
RabbitMQ cluster; the design's choice for consumers past one machine). It is
declared with a dead-letter exchange ``<queue>.dead`` (fanout) and a queue of
the same name behind it, so that an event given up on is kept for a person
to look at, not dropped.

Acknowledgement follows the handler and the ledger's record, never precedes
them: a connection cut while an event is being handled leaves it
unacknowledged, the broker delivers it again (same ``message_id``), and the
ledger recognises it. Failed attempts are counted in the ledger, not by the
broker (a quorum queue's ``x-delivery-count`` also counts the redeliveries
that a cut causes, which are no failure of the event; a classic queue keeps
no count at all); after ``max_attempts`` failures the event is rejected
without requeue, and the broker moves it to the dead-letter exchange.

Events are handled one at a time, in the order the queue holds them, and
acknowledged in batches (see ``Consumer.__init__``);
``prefetch`` only keeps the next ones on the wire. Reconnection is ours, as
the relay's (``bus.relay``): capped, jittered back-off after every failure.
A consumer that falls behind only lengthens its queue: the relay publishes
with confirms to the exchange, not to this queue, so neither SMTP nor the
API ever waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from aiormq.exceptions import ChannelAccessRefused, ChannelNotFoundEntity, ChannelPreconditionFailed
from pamqp.common import FieldTable

from returnpath.bus.relay import next_backoff
from returnpath.consume.handlers import Delivery, Handler, Poison, Unusable
from returnpath.consume.ledger import Ledger

log = structlog.get_logger("returnpath.consume")


class ConsumeError(Exception):
    """A mistake no reconnection mends (a queue declared otherwise, a queue that is missing)."""


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """The queue to consume and how it is declared."""

    queue: str = "returnpath.consume"
    exchange: str = "returnpath.events"
    bindings: tuple[str, ...] = ("#",)
    queue_type: str = "quorum"  # or "classic"
    declare: bool = True  # False: use the queue as it is (declared by someone else)

    @property
    def dead_letter(self) -> str:
        return f"{self.queue}.dead"

    def arguments(self) -> FieldTable:
        """The queue's arguments; a queue that exists with others is refused by the broker
        (PRECONDITION_FAILED), which ``declare`` turns into a ``ConsumeError``."""
        return {"x-queue-type": self.queue_type, "x-dead-letter-exchange": self.dead_letter}


async def declare(channel: AbstractChannel, spec: QueueSpec) -> AbstractQueue:
    """The queue, declared and bound (idempotent), with its dead-letter exchange and queue."""
    try:
        if not spec.declare:
            return await channel.declare_queue(spec.queue, passive=True)
        exchange = await channel.declare_exchange(
            spec.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        dead = await channel.declare_exchange(
            spec.dead_letter, aio_pika.ExchangeType.FANOUT, durable=True
        )
        dead_queue = await channel.declare_queue(
            spec.dead_letter, durable=True, arguments={"x-queue-type": spec.queue_type}
        )
        await dead_queue.bind(dead, routing_key="")
        queue = await channel.declare_queue(spec.queue, durable=True, arguments=spec.arguments())
        for key in spec.bindings:
            await queue.bind(exchange, routing_key=key)
        return queue
    except ChannelPreconditionFailed as exc:
        raise ConsumeError(
            f"queue {spec.queue!r} exists with other settings ({exc.args[0] if exc.args else exc});"
            " use another --queue, or --no-declare to take it as it is"
        ) from exc
    except ChannelNotFoundEntity as exc:
        raise ConsumeError(f"no queue {spec.queue!r} on the broker (--no-declare)") from exc
    except ChannelAccessRefused as exc:
        raise ConsumeError(f"the broker refused access to {spec.queue!r}: {exc}") from exc


@dataclass
class Stats:
    handled: int = 0
    duplicates: int = 0  # redeliveries of handled events, acknowledged without handling
    failures: int = 0
    dead_lettered: int = 0
    connections: int = 0
    first: float = 0.0
    last: float = 0.0

    def rate(self) -> float:
        """Events handled per second, from the first handled event to the last."""
        span = self.last - self.first
        return (self.handled - 1) / span if self.handled > 1 and span > 0 else 0.0


class Consumer:
    def __init__(
        self,
        url: str,
        spec: QueueSpec,
        handler: Handler,
        ledger: Ledger,
        *,
        prefetch: int = 50,
        max_attempts: int = 5,
        retry_delay: float = 1.0,
        limit: int = 0,
        connect_timeout: float = 10.0,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
    ) -> None:
        """``limit``: stop after that many events handled (0: run until stopped)."""
        self.url = url
        self.spec = spec
        self.handler = handler
        self.ledger = ledger
        self.prefetch = prefetch
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.limit = limit
        self.connect_timeout = connect_timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.stats = Stats()
        self._stopping = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._pause = 0.0
        self._rng = random.Random()
        # Acknowledgements are sent in batches (``multiple=True`` on the newest handled
        # delivery): one frame per event cost ~1.5 ms of socket writes here, more than
        # the rest of the work. Each handled event is in the ledger before it waits for
        # its acknowledgement, so a batch lost with the connection costs only redeliveries
        # that the ledger recognises.
        self.ack_batch = max(1, prefetch // 2)
        self.ack_delay = 0.05
        self._to_ack: AbstractIncomingMessage | None = None
        self._unacked = 0
        self._ack_timer: asyncio.TimerHandle | None = None

    def stop(self) -> None:
        """Stop after the event being handled (its acknowledgement included)."""
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._session()
            except ConsumeError:
                raise
            except Exception as exc:
                if self._stopping.is_set():
                    break
                self._pause = next_backoff(
                    self._pause, self.backoff_base, self.backoff_max, self._rng
                )
                log.warning("consume_broker_error", error=repr(exc), retry_in=round(self._pause, 2))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self._pause)

    async def _session(self) -> None:
        """One connection: declare, consume until stopped or the connection is lost."""
        async with asyncio.timeout(self.connect_timeout):
            connection = await aio_pika.connect(self.url, timeout=self.connect_timeout)
        self.stats.connections += 1
        try:
            async with asyncio.timeout(self.connect_timeout):
                channel = await connection.channel()
                await channel.set_qos(prefetch_count=self.prefetch)
                queue = await declare(channel, self.spec)
            log.info("consume_ready", queue=self.spec.queue, bindings=list(self.spec.bindings))
            self._pause = 0.0
            self._forget_acks()  # those of a lost channel can never be sent
            consuming = asyncio.create_task(self._consume(queue))
            stopping = asyncio.create_task(self._stopping.wait())
            try:
                await asyncio.wait([consuming, stopping], return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
            if not consuming.done():
                # Stopped: let the event in hand finish (handled, recorded, acknowledged).
                await self._idle.wait()
                # before the cancellation, which may close the channel (a Basic.Cancel cut)
                await self._send_acks()
                consuming.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await consuming
                return
            consuming.result()  # raises the broker's error, if that ended it
            await self._send_acks()
            if not self._stopping.is_set():
                raise ConnectionError("the broker closed the channel")
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.connect_timeout):
                    await connection.close()

    async def _consume(self, queue: AbstractQueue) -> None:
        async with queue.iterator() as messages:
            async for message in messages:
                self._idle.clear()
                try:
                    await self._handle(message)
                finally:
                    self._idle.set()
                if self.limit and self.stats.handled >= self.limit:
                    self.stop()
                if self._stopping.is_set():
                    await self._send_acks()
                    return

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        message_id = message.message_id or ""
        if message_id and self.ledger.seen(message_id):
            self.stats.duplicates += 1
            log.info("consume_duplicate", message_id=message_id, redelivered=message.redelivered)
            await self._ack(message)
            return
        attempt = (self.ledger.attempts(message_id) if message_id else 0) + 1
        delivery = Delivery(message_id, message.routing_key or "", message.body, attempt)
        try:
            done = await self.handler(delivery)
        except Poison as exc:
            log.error("consume_poison", message_id=message_id, error=str(exc))
            self.stats.dead_lettered += 1
            await message.reject(requeue=False)
            return
        except Unusable as exc:
            await self._send_acks()
            await message.nack(requeue=True)
            raise ConsumeError(f"{exc}; the event stays in the queue") from exc
        if done:
            if message_id:
                self.ledger.record(message_id)
            # Counted once recorded: if the acknowledgement is lost with the connection,
            # the redelivery is acknowledged as a duplicate, not handled again.
            now = time.perf_counter()
            self.stats.first = self.stats.first or now
            self.stats.last = now
            self.stats.handled += 1
            await self._ack(message)
            return
        self.stats.failures += 1
        # Without an id there is nothing to count attempts by: one failure dead-letters it.
        attempts = self.ledger.fail(message_id) if message_id else self.max_attempts
        if attempts >= self.max_attempts:
            log.warning(
                "consume_dead_lettered",
                message_id=message_id,
                attempts=attempts,
                dead_letter=self.spec.dead_letter,
            )
            self.ledger.forget_failures(message_id)
            self.stats.dead_lettered += 1
            await message.reject(requeue=False)
            return
        log.info("consume_failed", message_id=message_id, attempts=attempts)
        # A pause before the retry: a failing command must not spin at the broker's pace.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=self.retry_delay)
        await message.nack(requeue=True)

    async def _ack(self, message: AbstractIncomingMessage) -> None:
        """Acknowledge ``message`` (and every earlier delivery of the channel, all settled
        by then: events are handled in order) with the next batch."""
        self._to_ack = message
        self._unacked += 1
        if self._unacked >= self.ack_batch:
            await self._send_acks()
        elif self._ack_timer is None:
            loop = asyncio.get_running_loop()
            self._ack_timer = loop.call_later(self.ack_delay, self._acks_due)

    def _acks_due(self) -> None:
        self._ack_timer = None
        if self._to_ack is not None:
            task = asyncio.create_task(self._send_acks())
            task.add_done_callback(_quiet)

    async def _send_acks(self) -> None:
        message, self._to_ack, self._unacked = self._to_ack, None, 0
        if self._ack_timer is not None:
            self._ack_timer.cancel()
            self._ack_timer = None
        if message is not None:
            await message.ack(multiple=True)

    def _forget_acks(self) -> None:
        self._to_ack, self._unacked = None, 0
        if self._ack_timer is not None:
            self._ack_timer.cancel()
            self._ack_timer = None


def _quiet(task: asyncio.Task[None]) -> None:
    """A timed batch of acknowledgements failed with its connection: the consuming task
    sees the same loss, and the ledger covers the redeliveries."""
    if not task.cancelled():
        task.exception()
