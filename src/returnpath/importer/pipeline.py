"""Source → parse → record, in groups of one transaction, as the stage does for SMTP.

Each group is read and parsed in the source's worker thread (for files, the next
group while the previous one commits: the rate is then set by the larger of the
two, not their sum), recorded by ``store.ingest.record_many`` in one
transaction, then handed back to the source (move, flag, delete), and only then
is the checkpoint moved past it. A crash anywhere replays at most the group in
flight, and replaying creates nothing new: the dedup key.

As in the stage: when the store is unavailable the group waits and is retried
(here a bounded number of times, then the import stops with its checkpoint
kept); a group the database refuses because of one message's data is recorded
message by message, and the message that fails alone is reported in the summary
and skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog

from returnpath.importer.checkpoint import Checkpoints
from returnpath.importer.envelope import arrival, choose_recipient, read_envelope
from returnpath.importer.progress import Progress
from returnpath.importer.sources import Item, Source, Total
from returnpath.importer.summary import Summary
from returnpath.parsers import parse
from returnpath.parsers.model import Report
from returnpath.store.db import Store
from returnpath.store.errors import about_the_data
from returnpath.store.ingest import (
    FIND_MESSAGES,
    Received,
    Recorded,
    dedup_key,
    record,
    record_many,
)
from returnpath.store.tenants import TenantRef

log = structlog.get_logger("returnpath.import")

T = TypeVar("T")
#: tries of a group while the store is unavailable (pauses 0.5 s doubling to 8 s: ~30 s)
STORE_TRIES = 7
Pair = tuple[Received, Report]


class StoreUnavailable(Exception):
    """The store failed every try: the import stops, its checkpoint kept."""


@dataclass(frozen=True, slots=True)
class Tenancy:
    """Which tenant records a message: ``--tenant``'s, else the one owning the domain of
    the recovered envelope recipient, else the default tenant."""

    domains: Mapping[str, TenantRef]  # bounce domain -> owner (only --tenant's when given)
    fallback: TenantRef

    def envelope(self, item: Item) -> Received:
        envelope = read_envelope(item.raw)
        rcpt, tenant = choose_recipient(envelope.recipients, self.domains.get)
        return Received(
            tenant=tenant or self.fallback,
            raw=item.raw,
            peer=None,
            mail_from=envelope.mail_from,
            rcpt_tos=(rcpt,) if rcpt else (),
            received_at=arrival(item.arrived, envelope.arrived),
        )


@dataclass
class Importer:
    store: Store
    tenancy: Tenancy
    summary: Summary
    checkpoints: Checkpoints | None  # None: --dry-run, or nothing to resume (never saved)
    publish: bool
    dry_run: bool = False
    restart: bool = False
    max_items: int = 256
    max_bytes: int = 16 * 1024 * 1024
    progress: Callable[[str, Total], Progress] = Progress
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _seen: set[bytes] = field(default_factory=set)  # --dry-run: keys met in this run

    def prepare(self, item: Item) -> Pair:
        received = self.tenancy.envelope(item)
        return received, parse(item.raw, received.rcpt_tos[0] if received.rcpt_tos else None)

    async def run(self, source: Source) -> bool:
        """Import one source; False when stopped (interrupt) before its end."""
        loop = asyncio.get_running_loop()
        pool = ThreadPoolExecutor(1, thread_name_prefix=f"import-{source.kind}")

        def call(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
            return loop.run_in_executor(pool, fn, *args)

        checkpoints = None if self.dry_run else self.checkpoints
        resume = None if checkpoints is None or self.restart else checkpoints.load(source.identity)
        groups = None
        pending: asyncio.Future[tuple[list[Item], list[Pair]] | None] | None = None
        finished = False
        try:
            total = await call(source.open, resume)
            if resume is not None:
                log.info("import_resuming", source=source.label, after=resume)
            self.summary.start(source.kind, source.label)
            progress = self.progress(f"{source.kind} {source.label}", total)
            groups = source.groups(self.max_items, self.max_bytes)

            def read_next() -> tuple[list[Item], list[Pair]] | None:
                assert groups is not None
                items = next(groups, None)
                return None if items is None else (items, [self.prepare(i) for i in items])

            pending = call(read_next)
            while True:
                got = await pending
                pending = None
                if got is None:  # the end, unless interrupt() ended it early
                    finished = not self.stopping.is_set()
                    break
                items, pairs = got
                if source.read_ahead and not self.stopping.is_set():
                    pending = call(read_next)
                if self.dry_run:
                    await self._preview(pairs)
                else:
                    await self._record(items, pairs)
                    await call(source.committed, items)
                    if checkpoints is not None:
                        checkpoints.save(source.identity, source.checkpoint(items[-1]))
                progress.update(len(items), source.bytes_done(items[-1]))
                if self.stopping.is_set():
                    break
                if pending is None:
                    pending = call(read_next)
            progress.finish()
        finally:
            if pending is not None:  # read ahead, never recorded: the checkpoint is before it
                source.interrupt()
                await asyncio.gather(pending, return_exceptions=True)
            if groups is not None:
                await call(groups.close)
            await call(source.close)
            pool.shutdown(wait=False)
        if finished and checkpoints is not None:
            checkpoints.clear(source.identity)
        return finished

    async def _record(self, items: Sequence[Item], pairs: list[Pair]) -> None:
        pause = 0.5
        for attempt in range(1, STORE_TRIES + 1):
            try:
                results: Sequence[Recorded | None] = await record_many(
                    self.store, pairs, publish=self.publish
                )
                break
            except Exception as exc:
                if about_the_data(exc):
                    results = [await self._alone(i, p) for i, p in zip(items, pairs, strict=True)]
                    break
                if attempt == STORE_TRIES:
                    raise StoreUnavailable(str(getattr(exc, "orig", None) or exc)) from exc
                log.warning("import_waiting_for_store", error=repr(exc), retry_in=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 8.0)
        for item, (_, report), result in zip(items, pairs, results, strict=True):
            if result is None:
                self.summary.add_failed(item.ref)
            elif result.duplicate:
                self.summary.add_duplicate()
            else:
                self.summary.add_new(report, len(result.suppressed))

    async def _alone(self, item: Item, pair: Pair) -> Recorded | None:
        try:
            return await record(self.store, *pair, publish=self.publish)
        except Exception as exc:
            if not about_the_data(exc):
                raise
            log.error("import_message_failed", message=item.ref, error=repr(exc))
            return None

    async def _preview(self, pairs: list[Pair]) -> None:
        """--dry-run: what recording would say, from one read of the dedup keys."""
        keys = [dedup_key(received, report) for received, report in pairs]
        stored: set[tuple[int, str]] = set()
        params = {"tenant_ids": sorted({r.tenant.id for r, _ in pairs}), "keys": sorted(set(keys))}
        async with self.store.read() as session:
            for tenant_id, key, _ in await session.execute(FIND_MESSAGES, params):
                stored.add((tenant_id, key))
        for (received, report), key in zip(pairs, keys, strict=True):
            seen = hashlib.sha256(f"{received.tenant.id}\0{key}".encode()).digest()[:12]
            if (received.tenant.id, key) in stored or seen in self._seen:
                self.summary.add_duplicate()
            else:
                self._seen.add(seen)
                self.summary.add_new(report, 0)
