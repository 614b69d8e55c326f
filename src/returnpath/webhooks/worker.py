"""The delivery worker inside ``serve``: fan-out, dispatch, and the write-back of outcomes.

Three loops. The fan-out turns committed events into delivery rows. The
dispatcher claims due deliveries endpoint by endpoint, never more than
``concurrency`` in flight for one endpoint, so a slow or dead receiver fills
its own slots and nobody else's. Outcomes are written back in batches (one
transaction for many tries: on SQLite a transaction per try would cap
deliveries at the writer's pace).

At least once: a delivery becomes ``delivered`` only after a 2xx was
received, and a claim is a lease, so a try that never reported back (the
process was killed) is made again once the lease runs out, with the same
``webhook-id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import sqlalchemy as sa
import structlog

from returnpath.settings import Settings
from returnpath.store.db import Store
from returnpath.store.models import WebhookEndpoint
from returnpath.webhooks import deliveries, endpoints, sender
from returnpath.webhooks.schedule import retry_delay

log = structlog.get_logger("returnpath.webhooks")

ENDPOINTS = WebhookEndpoint.__table__  # type: ignore[attr-defined]
#: seconds the write-back waits for the other tries of a round
FLUSH_LINGER = 0.02


class WebhookWorker:
    def __init__(
        self,
        store: Store,
        *,
        timeout: float = 10.0,
        retry_base: float = 20.0,
        retry_hours: float = 26.0,
        concurrency: int = 8,
        allow_private: bool = False,
        poll_interval: float = 0.25,
        flush_batch: int = 500,
    ) -> None:
        self.store = store
        self.timeout = timeout
        self.retry_base = retry_base
        self.retry_for = timedelta(hours=retry_hours)
        self.concurrency = concurrency
        self.allow_private = allow_private
        self.poll_interval = poll_interval
        self.flush_batch = flush_batch
        # longer than a try may last (the timeout) and its write-back; a try that never
        # reported back is made again after it
        self.lease = 2 * timeout + 5.0
        self.fanout = deliveries.Fanout(store)
        self._rng = random.Random()
        self._stopping = asyncio.Event()
        self._due = asyncio.Event()  # something may be due: claim now
        self._outcomes: list[deliveries.Outcome] = []
        self._have_outcomes = asyncio.Event()
        self._in_flight: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0
        self.failed_tries = 0

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> WebhookWorker:
        return cls(
            store,
            timeout=settings.webhook_timeout,
            retry_base=settings.webhook_retry_base,
            retry_hours=settings.webhook_retry_hours,
            concurrency=settings.webhook_concurrency,
            allow_private=settings.webhook_allow_private,
        )

    async def run(self) -> None:
        client = sender.new_client(self.timeout, max_connections=1000)
        loops = [
            asyncio.create_task(self._guard(self._fanout_loop), name="webhook-fanout"),
            asyncio.create_task(
                self._guard(lambda: self._dispatch_loop(client)), name="webhook-dispatch"
            ),
            asyncio.create_task(self._guard(self._flush_loop), name="webhook-flush"),
        ]
        try:
            await self._stopping.wait()
            # Tries under way finish (each is bounded by the timeout) and are written back.
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=self.timeout + 1)
            await self._flush()
        finally:
            for task in loops:
                task.cancel()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*loops, *self._tasks, return_exceptions=True)
            await client.aclose()

    async def stop(self) -> None:
        self._stopping.set()

    async def _guard(self, loop: Callable[[], Awaitable[None]]) -> None:
        """Run a loop forever: a database outage costs a pause, never the worker."""
        while not self._stopping.is_set():
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("webhook_worker_error", error=repr(exc))
                await self._pause(1.0)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _fanout_loop(self) -> None:
        while not self._stopping.is_set():
            read = await self.fanout.run_once()
            if read:
                self._due.set()
            if read < deliveries.FANOUT_BATCH:
                await self._pause(self.poll_interval)

    async def _dispatch_loop(self, client: httpx.AsyncClient) -> None:
        while not self._stopping.is_set():
            self._due.clear()
            await self._dispatch(client)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), timeout=self.poll_interval)

    async def _dispatch(self, client: httpx.AsyncClient) -> None:
        async with self.store.read() as session:
            rows = (
                await session.execute(
                    sa.select(ENDPOINTS.c.id, ENDPOINTS.c.url).where(ENDPOINTS.c.enabled.is_(True))
                )
            ).all()
        urls = {row.id: row.url for row in rows}
        claims: list[deliveries.Claimed] = []
        for endpoint_id in urls:
            spare = self.concurrency - self._in_flight.get(endpoint_id, 0)
            if spare > 0:
                claims += await deliveries.claim(self.store, endpoint_id, spare, self.lease)
        if not claims:
            return
        secrets = await endpoints.live_secrets(self.store, list({c.endpoint_id for c in claims}))
        for claimed in claims:
            endpoint_id = claimed.endpoint_id
            self._in_flight[endpoint_id] = self._in_flight.get(endpoint_id, 0) + 1
            task = asyncio.create_task(
                self._try(client, claimed, urls[endpoint_id], secrets[endpoint_id])
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _try(
        self, client: httpx.AsyncClient, claimed: deliveries.Claimed, url: str, secrets: list[str]
    ) -> None:
        outcome = await sender.send(
            client,
            claimed,
            url,
            secrets,
            budget=self.timeout,
            allow_private=self.allow_private,
        )
        self._outcomes.append(outcome)
        self._have_outcomes.set()

    async def _flush_loop(self) -> None:
        while not self._stopping.is_set():
            await self._have_outcomes.wait()
            if len(self._outcomes) < sum(self._in_flight.values()):
                # Tries claimed together end together: one transaction for the round, not
                # one per try (on SQLite each costs a writer-lock turn and a commit).
                await self._pause(FLUSH_LINGER)
            await self._flush()

    async def _flush(self) -> None:
        while self._outcomes:
            batch = self._outcomes[: self.flush_batch]
            del self._outcomes[: len(batch)]
            if not self._outcomes:
                self._have_outcomes.clear()
            try:
                disabled = await deliveries.record(self.store, batch, self._next_of(batch))
            except BaseException:
                self._outcomes[:0] = batch  # written on the next round; the lease covers a crash
                self._have_outcomes.set()
                raise
            for outcome in batch:
                endpoint_id = outcome.claimed.endpoint_id
                self._in_flight[endpoint_id] -= 1
                if outcome.ok:
                    self.delivered += 1
                else:
                    self.failed_tries += 1
            for endpoint_id, why in disabled:
                # No alert event: alerts are not part of this build (see docs/webhooks.md).
                log.warning("webhook_disabled", endpoint=endpoint_id, reason=why)
            self._due.set()

    def _next_of(self, batch: list[deliveries.Outcome]) -> dict[int, deliveries.Next]:
        out: dict[int, deliveries.Next] = {}
        for o in batch:
            if o.ok:
                continue
            claimed = o.claimed
            first = claimed.first_failed_at or o.at
            if o.gone or o.at - first >= self.retry_for:
                out[claimed.delivery_id] = deliveries.Next("failed", o.at)
            else:
                delay = retry_delay(claimed.attempts + 1, self.retry_base, self._rng)
                out[claimed.delivery_id] = deliveries.Next(
                    "pending", o.at + timedelta(seconds=delay)
                )
        return out
