"""Wiring of ``returnpath consume``: options in, a running consumer, a summary out."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import structlog

from returnpath import logs
from returnpath.cli_common import fail
from returnpath.consume.consumer import ConsumeError, Consumer, QueueSpec
from returnpath.consume.handlers import Exec, Handler, JsonLines
from returnpath.consume.ledger import Ledger

log = structlog.get_logger("returnpath.consume")


@dataclass(frozen=True, slots=True)
class ConsumeOptions:
    url: str
    queue: str
    exchange: str
    bindings: tuple[str, ...]
    queue_type: str
    declare: bool
    command: str | None
    prefetch: int
    max_attempts: int
    retry_delay: float
    timeout: float
    ledger: Path
    remember: int
    limit: int
    log_format: str = "auto"
    log_level: str = "info"


def run_consumer(options: ConsumeOptions) -> None:
    logs.configure(options.log_format, options.log_level)
    try:
        ledger = Ledger(options.ledger, keep=options.remember)
    except sqlite3.Error as exc:
        fail(f"cannot open the ledger {options.ledger}: {exc}", exc)
    handler: Handler
    if options.command:
        handler = Exec(options.command, options.timeout)
    else:
        # One buffered binary writer over standard output; each line is flushed anyway.
        handler = JsonLines(open(sys.stdout.fileno(), "wb", closefd=False))  # noqa: SIM115
    spec = QueueSpec(
        options.queue, options.exchange, options.bindings, options.queue_type, options.declare
    )
    consumer = Consumer(
        options.url,
        spec,
        handler,
        ledger,
        prefetch=options.prefetch,
        max_attempts=options.max_attempts,
        retry_delay=options.retry_delay,
        limit=options.limit,
    )
    try:
        asyncio.run(_run(consumer))
    except ConsumeError as exc:
        fail(str(exc), exc)
    except BrokenPipeError:  # `returnpath consume | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        ledger.close()
        stats = consumer.stats
        log.info(
            "consume_stopped",
            handled=stats.handled,
            duplicates=stats.duplicates,
            failures=stats.failures,
            dead_lettered=stats.dead_lettered,
            connections=stats.connections,
            events_per_second=round(stats.rate(), 1),
        )


async def _run(consumer: Consumer) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, consumer.stop)
    await consumer.run()
