"""What the consume tests share: a private exchange and queue on the real broker, a
publisher, and ``returnpath consume`` run as the process an operator runs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractExchange

from returnpath.consume.consumer import QueueSpec, declare
from tests.services import AMQP_URL, require_rabbitmq

# Generous ceilings: only a hang reaches them.
CEILING = 60.0


@dataclass
class Names:
    exchange: str
    queue: str
    channel: AbstractChannel
    exchange_: AbstractExchange
    # consumers a test started: killed at teardown if the test ended before they did
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    @property
    def dead(self) -> str:
        return f"{self.queue}.dead"

    async def publish(self, message_id: str, body: bytes | None = None, key: str = "") -> None:
        """One event as the relay publishes it (persistent JSON, message_id = event id)."""
        kind = key.split(".")[0] or "hard_bounce"
        if body is None:
            body = json.dumps({"version": 1, "id": message_id, "kind": kind}).encode()
        await self.exchange_.publish(
            aio_pika.Message(
                body,
                message_id=message_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=key or "hard_bounce.userunknown",
        )

    async def declare(self, *bindings: str) -> None:
        """The consumer's queue, declared as the consumer declares it (idempotent), so that
        events published before the consumer starts wait in it instead of being dropped."""
        await declare(self.channel, QueueSpec(self.queue, self.exchange, bindings or ("#",)))

    async def waiting(self, queue: str) -> int:
        declared = await self.channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


@pytest.fixture
async def names() -> AsyncIterator[Names]:
    """A private exchange (declared as the relay declares returnpath.events) and a queue name;
    everything the consumer declared is deleted afterwards."""
    require_rabbitmq()
    tag = uuid.uuid4().hex[:10]
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(
            f"rp-consume-{tag}", aio_pika.ExchangeType.TOPIC, durable=True
        )
        found = Names(exchange.name, f"rp-consume-{tag}", channel, exchange)
        yield found
        for process in found.processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        for name in (found.queue, found.dead):
            await channel.queue_delete(name)
        for name in (found.exchange, found.dead):
            await channel.exchange_delete(name)
    finally:
        await connection.close()


@dataclass
class ConsumerProcess:
    process: asyncio.subprocess.Process
    stderr: Path

    async def stop(self) -> tuple[bytes, str]:
        """SIGTERM (the consumer finishes the event in hand); its output and its log."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.finish()

    async def finish(self) -> tuple[bytes, str]:
        async with asyncio.timeout(CEILING):
            out, _ = await self.process.communicate()
        return out, self.stderr.read_text()

    def summary(self) -> dict[str, object]:
        """The consumer's last log line (consume_stopped: its counters)."""
        lines = [json.loads(line) for line in self.stderr.read_text().splitlines() if line]
        [last] = [line for line in lines if line.get("event") == "consume_stopped"]
        return last


async def start_consumer(
    names: Names, tmp_path: Path, *args: str, url: str = AMQP_URL
) -> ConsumerProcess:
    stderr = tmp_path / f"consume-{uuid.uuid4().hex[:6]}.log"
    env = {**os.environ, "RETURNPATH_LOG_FORMAT": "json", "RETURNPATH_AMQP_URL": url}
    with stderr.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "returnpath",
            "consume",
            "--exchange",
            names.exchange,
            "--queue",
            names.queue,
            "--ledger",
            str(tmp_path / "seen.sqlite"),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            env=env,
            cwd=tmp_path,
        )
    names.processes.append(process)
    return ConsumerProcess(process, stderr)


async def until(predicate: object, what: str) -> None:
    """Poll ``predicate`` (a callable returning bool or an awaitable of one) until true."""
    try:
        async with asyncio.timeout(CEILING):
            while True:
                result = predicate()  # type: ignore[operator]
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {CEILING:g} s: {what}") from None
