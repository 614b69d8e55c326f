"""``returnpath consume`` against the real RabbitMQ, run as the process an operator runs.

Each test publishes events as the relay does (persistent JSON, ``message_id`` =
event id) to a private exchange, and reads what the consumer printed, what its
``--exec`` command saw, and what is left in the queue and its dead-letter queue.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import aio_pika

from tests.consume.broker import Names, start_consumer, until
from tests.services import AMQP_URL
from tests.tcp_proxy import TcpProxy


def _ids(jsonl: bytes) -> list[str]:
    return [json.loads(line)["id"] for line in jsonl.splitlines()]


async def test_events_are_printed_as_json_lines_then_acknowledged(
    names: Names, tmp_path: Path
) -> None:
    await names.declare()
    for n in range(3):
        await names.publish(f"event-{n}")
    consumer = await start_consumer(names, tmp_path, "--limit", "3")
    out, log = await consumer.finish()
    assert consumer.process.returncode == 0, log
    assert _ids(out) == ["event-0", "event-1", "event-2"]
    assert await names.waiting(names.queue) == 0  # acknowledged, not only delivered


async def test_an_event_published_twice_is_handled_once(names: Names, tmp_path: Path) -> None:
    # The relay publishes again when a confirm was lost: same message_id, same event.
    await names.declare()
    for message_id in ("event-a", "event-a", "event-b"):
        await names.publish(message_id)
    consumer = await start_consumer(names, tmp_path, "--limit", "2")
    out, log = await consumer.finish()
    assert _ids(out) == ["event-a", "event-b"], log
    assert consumer.summary()["duplicates"] == 1
    assert await names.waiting(names.queue) == 0


async def test_only_the_bound_routing_keys_reach_the_consumer(names: Names, tmp_path: Path) -> None:
    consumer = await start_consumer(names, tmp_path, "--bind", "complaint.#", "--limit", "1")
    await until(_declared(names), "the consumer declared and bound its queue")
    await names.publish("bounce", key="hard_bounce.userunknown")
    await names.publish("complaint", key="complaint.abuse")
    out, log = await consumer.finish()
    assert _ids(out) == ["complaint"], log


def _declared(names: Names) -> object:
    async def check() -> bool:
        try:
            async with asyncio.timeout(5):
                connection = await aio_pika.connect(AMQP_URL)
                async with connection:
                    channel = await connection.channel()
                    await channel.declare_queue(names.queue, passive=True)
            return True
        except aio_pika.exceptions.ChannelNotFoundEntity:
            return False

    return check


async def test_exec_acknowledges_on_exit_zero_and_dead_letters_after_n_failures(
    names: Names, tmp_path: Path
) -> None:
    command = (
        'cat >> seen.jsonl; echo "$RETURNPATH_EVENT_ID $RETURNPATH_ATTEMPT" >> attempts.txt;'
        ' case "$RETURNPATH_EVENT_ID" in bad*) exit 3;; esac'
    )
    await names.declare()
    await names.publish("good-1")
    await names.publish("bad-1")
    await names.publish("not-json", body=b"{truncated")
    await names.publish("good-2")
    consumer = await start_consumer(
        names, tmp_path, "--exec", command, "--max-attempts", "3", "--retry-delay", "0"
    )
    try:
        await until(lambda: _dead_count(names, 2), "bad-1 and not-json dead-lettered")
        await until(lambda: _ran(tmp_path, "good-2"), "good-2's command ran")
    finally:
        _, log = await consumer.stop()
    attempts = (tmp_path / "attempts.txt").read_text().split("\n")
    assert Counter(line.split(" ")[0] for line in attempts if line) == {
        "good-1": 1,
        "good-2": 1,
        "bad-1": 3,
    }, log
    assert [line for line in attempts if line.startswith("bad-1")] == [
        "bad-1 1",
        "bad-1 2",
        "bad-1 3",
    ]
    # the command read the event itself on its standard input, one JSON line
    assert [json.loads(line)["id"] for line in _lines(tmp_path)][:2] == ["good-1", "bad-1"]
    dead = await _drain(names, names.dead)
    assert sorted(dead) == ["bad-1", "not-json"]
    assert await names.waiting(names.queue) == 0
    summary = consumer.summary()
    assert (summary["handled"], summary["dead_lettered"]) == (2, 2)


def _ran(tmp_path: Path, message_id: str) -> bool:
    attempts = tmp_path / "attempts.txt"
    return attempts.exists() and f"{message_id} " in attempts.read_text()


def _lines(tmp_path: Path) -> list[str]:
    return (tmp_path / "seen.jsonl").read_text().splitlines()


async def _dead_count(names: Names, count: int) -> bool:
    return await names.waiting(names.dead) >= count


async def _drain(names: Names, queue_name: str) -> list[str]:
    queue = await names.channel.declare_queue(queue_name, passive=True)
    found = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        found.append(message.message_id or "")
    return found


async def test_a_connection_cut_mid_stream_redelivers_and_nothing_is_handled_twice(
    names: Names, tmp_path: Path
) -> None:
    """The cut comes while the 20th event's command runs: the command succeeds, the
    consumer records it, and its acknowledgement is lost with the connection. The broker
    delivers it again (with the 10 prefetched behind it); the ledger recognises it."""
    proxy = await TcpProxy("127.0.0.1", 5672).start()
    try:
        total = 60
        await names.declare()
        for n in range(total):
            await names.publish(f"event-{n:03d}")
        command = (
            "cat >> seen.jsonl; n=$(wc -l < seen.jsonl);"
            ' if [ "$n" -eq 20 ]; then touch cut.flag;'
            " while [ ! -e resumed.flag ]; do sleep 0.02; done; fi"
        )
        consumer = await start_consumer(
            names,
            tmp_path,
            "--exec",
            command,
            "--prefetch",
            "10",
            "--limit",
            str(total),
            url=proxy.url_port(AMQP_URL),
        )
        await until(lambda: (tmp_path / "cut.flag").exists(), "the 20th event's command ran")
        proxy.cut()
        (tmp_path / "resumed.flag").touch()
        await asyncio.sleep(0.5)  # the consumer finds its connection gone, backs off
        proxy.resume()
        _, log = await consumer.finish()
    finally:
        await proxy.close()
    assert consumer.process.returncode == 0, log
    handled = [json.loads(line)["id"] for line in _lines(tmp_path)]
    assert Counter(handled).most_common(1)[0][1] == 1, "an event was handled twice"
    assert sorted(handled) == [f"event-{n:03d}" for n in range(total)]
    summary = consumer.summary()
    assert summary["connections"] == 2, log
    # the 20th event came again after the cut, with its message_id: skipped, acknowledged
    assert summary["duplicates"] >= 1, log
    assert await names.waiting(names.queue) == 0


async def test_a_queue_declared_otherwise_is_one_line_and_exit_2(
    names: Names, tmp_path: Path
) -> None:
    await names.channel.declare_queue(names.queue, durable=True)  # classic, no dead letters
    consumer = await start_consumer(names, tmp_path)
    _, log = await consumer.finish()
    assert consumer.process.returncode == 2
    [line] = [line for line in log.splitlines() if line.startswith("returnpath:")]
    assert "exists with other settings" in line and "--no-declare" in line


async def test_a_command_that_cannot_run_stops_the_consumer_and_keeps_the_event(
    names: Names, tmp_path: Path
) -> None:
    # A typing mistake must not send every event to the dead letters, one after another.
    await names.declare()
    await names.publish("kept")
    consumer = await start_consumer(names, tmp_path, "--exec", "no-such-command-rp12")
    _, log = await consumer.finish()
    assert consumer.process.returncode == 2
    [line] = [line for line in log.splitlines() if line.startswith("returnpath:")]
    assert "could not run 'no-such-command-rp12' (exit 127)" in line
    assert await names.waiting(names.queue) == 1
    assert await names.waiting(names.dead) == 0
