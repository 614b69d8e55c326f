"""The stage: spooled messages → parsed → recorded (events, suppressions, outbox).

The listener has already answered ``250`` for everything in the spool; the
stage turns it into verdicts, in groups, so that a group costs one
transaction and one commit (``store.ingest.record_many``). It runs in its own
process by default (``returnpath stage``, started and watched by ``serve``),
so that parsing and the store's Python work use the second core instead of
delaying the listener's replies; ``RETURNPATH_STAGE=inline`` runs it as a task
in ``serve``'s own loop (one core, small sites, the tests).

Exactly once, resumable: a group is recorded in one transaction, then the
checkpoint moves past it. A crash in between replays the group, and
recording is idempotent on each message's dedup key, so a replay adds
nothing. Order is the spool's, per listener: two bounces of one address are
decided in the order they arrived.

When the store is unavailable the group waits and is retried with back-off;
nothing is skipped. A message that fails on its own when the store is
healthy (a bug, or data no column takes) is moved to ``quarantine/`` with its
envelope, logged, and counted, so that one message can never stop the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import structlog

from returnpath.inbound.spool import (
    Batch,
    Position,
    Spooled,
    encode,
    read_batch,
    read_checkpoint,
    remove_finished,
    segment_name,
    segments,
    write_checkpoint,
)
from returnpath.parsers import parse
from returnpath.parsers.model import Report
from returnpath.store import metrics
from returnpath.store.db import Store
from returnpath.store.errors import about_the_data
from returnpath.store.ingest import Received, Recorded, record, record_many
from returnpath.store.tenants import TenantRef

log = structlog.get_logger("returnpath.stage")

QUARANTINE = "quarantine"


def spool_drained(root: Path) -> bool:
    """Has every listener's spool under ``root`` been recorded up to its end?"""
    return not any(
        read_batch(d, read_checkpoint(d), max_items=1, max_bytes=1).items
        for d in listener_directories(root)
    )


def listener_directories(root: Path) -> list[Path]:
    """One spool directory per listener process (``w0``, ``w1``, ...)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("w"))


class Stage:
    def __init__(
        self,
        store: Store,
        root: Path,
        *,
        publish: bool,
        on_committed: Callable[[], None] | None = None,
        max_items: int = 256,
        max_bytes: int = 16 * 1024 * 1024,
        idle: float = 0.01,
    ) -> None:
        self.store = store
        self.root = root
        self.publish = publish
        self.on_committed = on_committed
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.idle = idle
        self._stopping = asyncio.Event()
        self.recorded = 0
        # per listener directory: the next group, read and parsed while the current
        # one commits, and the position it was read from
        self._ahead: dict[Path, tuple[Position, asyncio.Task[tuple[Batch, list[Report]]]]] = {}

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            self.discard_read_ahead()

    def discard_read_ahead(self) -> None:
        """Drop the groups read ahead (nothing is lost: the checkpoint did not pass them)."""
        for _, task in self._ahead.values():
            task.cancel()
        self._ahead.clear()

    async def _run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                worked = await self.run_once(read_ahead=True)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("stage_waiting_for_store", error=repr(exc), retry_in=round(backoff, 2))
                await self._pause(backoff * (0.5 + random.random()))  # jitter: replicas apart
                backoff = min(backoff * 2, 5.0)
                continue
            if not worked:
                await self._pause(self.idle)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def run_once(self, *, read_ahead: bool = False) -> int:
        """Record one group from each listener's spool; returns how many messages.

        With ``read_ahead``, the next group is read and parsed while this one
        commits (``run`` does; whoever else asks for it calls ``discard_read_ahead``
        when done).
        """
        total = 0
        for directory in listener_directories(self.root):
            start = read_checkpoint(directory)
            ahead = self._ahead.pop(directory, None)
            if ahead is not None and ahead[0] == start:
                batch, reports = await ahead[1]
            else:
                if ahead is not None:  # read from where a failed group was to end
                    ahead[1].cancel()
                batch, reports = await self._read_and_parse(directory, start)
            if batch.torn:
                log.warning("spool_torn_tail_skipped", directory=str(directory), bytes=batch.torn)
            if batch.items and read_ahead:
                # Pipelined: the next group is read and parsed (CPU, in a thread) while
                # this one's transaction waits on the database and its commit's sync,
                # so the stage's rate is set by the larger of the two, not their sum.
                self._ahead[directory] = (
                    batch.end,
                    asyncio.create_task(self._read_and_parse(directory, batch.end)),
                )
            if batch.items:
                await self._record(directory, batch, reports)
                total += len(batch.items)
            if batch.end != start:
                write_checkpoint(directory, batch.end)
                remove_finished(directory, batch.end)
        return total

    async def drained(self) -> bool:
        """Has every listener's spool been recorded up to its end?"""
        return spool_drained(self.root)

    async def _read_and_parse(self, directory: Path, start: Position) -> tuple[Batch, list[Report]]:
        def work() -> tuple[Batch, list[Report]]:
            batch = read_batch(directory, start, max_items=self.max_items, max_bytes=self.max_bytes)
            return batch, [
                parse(item.raw, item.rcpt_tos[0] if item.rcpt_tos else None) for item in batch.items
            ]

        return await asyncio.to_thread(work)

    async def _record(self, directory: Path, batch: Batch, reports: list[Report]) -> None:
        items = batch.items
        pairs = [(_received(item), report) for item, report in zip(items, reports, strict=True)]
        started = time.perf_counter()
        try:
            results: Sequence[Recorded | None] = await record_many(
                self.store, pairs, publish=self.publish
            )
        except Exception as exc:
            if not about_the_data(exc):
                raise  # the store's trouble: run() waits and retries the group, nothing skipped
            results = [
                await self._record_alone(directory, item, pair)
                for item, pair in zip(items, pairs, strict=True)
            ]
        seconds = time.perf_counter() - started
        for item, (_, report), result in zip(items, pairs, results, strict=True):
            if result is None:
                continue
            metrics.MESSAGES.labels(report.family, str(result.duplicate).lower()).inc()
            log.info(
                "message_recorded",
                message=item.uid,
                peer=item.peer,
                tenant=item.tenant_name,
                size=len(item.raw),
                family=report.family,
                kinds=report.kinds,
                events=len(result.event_uids),
                suppressed=len(result.suppressed),
                # per event, what the policy did and why ("recorded:feedback_loop_not_listed")
                effects=list(result.effects),
                duplicate=result.duplicate,
            )
        metrics.STAGE_GROUP_SECONDS.observe(seconds)
        metrics.STAGE_LAG_SECONDS.observe(max(0.0, time.time() - items[-1].received_at.timestamp()))
        self.recorded += len(items)
        if self.on_committed is not None:
            self.on_committed()

    async def _record_alone(
        self, directory: Path, item: Spooled, pair: tuple[Received, Report]
    ) -> Recorded | None:
        """One message of a failed group, in its own transaction; quarantined if it
        fails while the store is healthy (it would fail on every replay)."""
        try:
            return await record(self.store, *pair, publish=self.publish)
        except Exception as exc:
            if not about_the_data(exc):
                raise
            path = quarantine(directory, item)
            metrics.QUARANTINED.inc()
            log.error(
                "message_quarantined",
                message=item.uid,
                path=str(path),
                error=repr(exc),
                exc_info=exc,
            )
            return None


def _received(item: Spooled) -> Received:
    return Received(
        tenant=TenantRef(item.tenant_id, item.tenant_name),
        raw=item.raw,
        peer=item.peer,
        mail_from=item.mail_from,
        rcpt_tos=item.rcpt_tos,
        received_at=item.received_at,
        uid=item.uid,
    )


REQUEUED = "wq"  # a listener directory of its own, so the stage reads it like any other


def requeue_quarantined(root: Path) -> int:
    """Move quarantined messages into a new segment the stage will read; returns how many.

    The segment is written and synced under a temporary name, then renamed: the
    stage never sees half of it. The quarantine files go only after that.
    """
    folder = root / QUARANTINE
    files = sorted(folder.glob("*.spool")) if folder.is_dir() else []
    if not files:
        return 0
    target = root / REQUEUED
    target.mkdir(exist_ok=True)
    existing = segments(target)
    name = segment_name((existing[-1] if existing else 0) + 1)
    tmp = target / (name + ".tmp")
    with open(tmp, "wb") as out:
        for path in files:
            out.write(path.read_bytes())
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target / name)
    for path in files:
        path.unlink()
    return len(files)


def quarantine(directory: Path, item: Spooled) -> Path:
    """Keep a message the store refuses, in the spool's own format, for an operator."""
    folder = directory.parent / QUARANTINE
    folder.mkdir(exist_ok=True)
    path = folder / f"{item.uid}.spool"
    path.write_bytes(encode(item))
    return path
