"""Events per second through ``returnpath consume``: JSON Lines and ``--exec true``.

    .venv/bin/python -m bench.consume [--events 20000] [--exec-events 2000]
        [--prefetch 50] [--queue-type quorum|classic|both] [--out consume]

For each queue type and mode: a private topic exchange and the consumer's queue,
declared as the consumer declares them (``returnpath.consume.consumer.declare``),
are filled with ``--events`` events (or ``--exec-events`` for ``--exec true``,
which spawns a shell per event) published persistent with confirms, as the relay
does; then ``returnpath consume --limit N`` runs as a subprocess (JSON Lines to
/dev/null) until it has handled them all. Reported: the consumer's own rate from
its first handled event to its last (its ``consume_stopped`` log line; start-up
excluded), the wall time of the whole process (start-up, Python imports and
the queue declaration included), and the CPU time of the consumer and of the
commands it ran, per event (``getrusage`` of the children; start-up included). Every event is handled once and acknowledged
one by one, with its id written to the ledger (SQLite, WAL) first. Exchange and
queues are deleted afterwards.

The machine is shared (other work, RabbitMQ itself, the publisher before each
run): the load average before and after each run is printed beside it. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aio_pika

from bench.common import AMQP_URL, REPO, RESULTS, print_table, utc_stamp, write_json
from returnpath.consume.consumer import QueueSpec, declare


def event_body(n: int) -> bytes:
    """An event about the size of a real one (schemas/event.v1.json's fields)."""
    return json.dumps(
        {
            "version": 1,
            "id": f"bench-{n:08d}",
            "created_at": "2026-12-03T19:00:00Z",
            "tenant": "default",
            "kind": "hard_bounce",
            "reason": "userunknown",
            "recipient": f"gone-{n}@example.org",
            "status": "5.1.1",
            "smtp_code": 550,
            "diagnostic": f"550 5.1.1 <gone-{n}@example.org>: Recipient address rejected",
            "remote_mta": "mx.example.org",
            "reporting_mta": "mta.example.net",
            "original_message_id": f"<campaign-{n}@sender.example.com>",
            "family": "rfc3464",
            "verified": True,
            "decided_by": "status:5.1.1",
        }
    ).encode()


@dataclass
class Run:
    queue_type: str
    mode: str
    events: int
    consumer_rate: float
    wall_seconds: float
    wall_rate: float
    cpu_ms_per_event: float
    handled: int
    duplicates: int
    load_before: float
    load_after: float


async def fill(channel: aio_pika.abc.AbstractChannel, spec: QueueSpec, events: int) -> None:
    await declare(channel, spec)
    exchange = await channel.get_exchange(spec.exchange)
    for start in range(0, events, 1000):
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(
                        event_body(n),
                        message_id=f"bench-{n:08d}",
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key="hard_bounce.userunknown",
                )
                for n in range(start, min(events, start + 1000))
            )
        )


def _children_cpu() -> float:
    """CPU seconds of waited-for children (the consumer, and the shells it ran and waited
    for): a figure the other work on the machine slows less than the rates."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def run_once(queue_type: str, mode: str, events: int, prefetch: int) -> Run:
    tag = uuid.uuid4().hex[:8]
    spec = QueueSpec(f"bench-consume-{tag}", f"bench-consume-{tag}", ("#",), queue_type)
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await fill(channel, spec, events)
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "consume.log"
            args = [
                *("--url", AMQP_URL, "--exchange", spec.exchange, "--queue", spec.queue),
                *("--queue-type", queue_type, "--prefetch", str(prefetch)),
                *("--ledger", str(Path(tmp) / "seen.sqlite"), "--limit", str(events)),
            ]
            if mode == "exec true":
                args += ["--exec", "true"]
            load_before = os.getloadavg()[0]
            cpu_before = _children_cpu()
            started = time.perf_counter()
            with log.open("wb") as err:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    *("-m", "returnpath", "consume", *args),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=err,
                    env={**os.environ, "RETURNPATH_LOG_FORMAT": "json"},
                    cwd=REPO,
                )
                await process.wait()
            wall = time.perf_counter() - started
            cpu = _children_cpu() - cpu_before
            load_after = os.getloadavg()[0]
            lines = [json.loads(line) for line in log.read_text().splitlines() if line]
            [summary] = [x for x in lines if x.get("event") == "consume_stopped"]
            if process.returncode != 0:
                raise SystemExit(f"consume exited {process.returncode}: {log.read_text()}")
        for name in (spec.queue, spec.dead_letter):
            await channel.queue_delete(name)
        for name in (spec.exchange, spec.dead_letter):
            await channel.exchange_delete(name)
    finally:
        await connection.close()
    return Run(
        queue_type,
        mode,
        events,
        float(summary["events_per_second"]),
        round(wall, 2),
        round(events / wall, 1),
        round(cpu / events * 1000, 3),
        int(summary["handled"]),
        int(summary["duplicates"]),
        load_before,
        load_after,
    )


async def main(args: argparse.Namespace) -> None:
    types = ["quorum", "classic"] if args.queue_type == "both" else [args.queue_type]
    runs: list[Run] = []
    for queue_type in types:
        for mode, events in (("json lines", args.events), ("exec true", args.exec_events)):
            runs.append(await run_once(queue_type, mode, events, args.prefetch))
            print(f"{queue_type:8} {mode:10} {runs[-1].consumer_rate:>9,.0f} events/s", flush=True)
    rows: list[dict[str, Any]] = [asdict(r) for r in runs]
    print()
    print_table(
        rows,
        [
            ("queue_type", "queue"),
            ("mode", "mode"),
            ("events", "events"),
            ("consumer_rate", "events/s (consumer)"),
            ("wall_seconds", "wall s"),
            ("wall_rate", "events/s (wall)"),
            ("cpu_ms_per_event", "CPU ms/event"),
            ("load_before", "load before"),
            ("load_after", "load after"),
        ],
    )
    print(f"\n{os.cpu_count()} cores, shared with RabbitMQ, the publisher and other work.")
    if args.out:
        path = write_json(args.out, {"when": utc_stamp(), "prefetch": args.prefetch, "runs": rows})
        print(f"written: {path.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events for JSON Lines")
    parser.add_argument("--exec-events", type=int, default=2_000, help="events for --exec true")
    parser.add_argument("--prefetch", type=int, default=50)
    parser.add_argument("--queue-type", choices=["quorum", "classic", "both"], default="quorum")
    parser.add_argument("--out", default="", help="also write bench/results/<out>.json")
    asyncio.run(main(parser.parse_args()))
