"""Group commit for the SMTP listener: messages that arrive while a transaction
is committing share the next one.

Under load, commits (fsync on SQLite with ``synchronous=FULL``, a WAL flush
and a round trip on PostgreSQL) are the bottleneck, not the SQL; a group of N
concurrent messages costs one commit instead of N (``ingest.record_many``).
Nobody waits for a group to fill: a lone message is committed at once. A
group that fails is retried one message at a time, so one bad message cannot
hold the others back.
"""

from __future__ import annotations

import asyncio

from returnpath.parsers.model import Report
from returnpath.store.db import Store
from returnpath.store.ingest import Received, Recorded, record, record_many


class GroupCommit:
    """One writer task per listener; ``record`` returns once the message is committed."""

    def __init__(self, store: Store, *, publish: bool, max_group: int = 64) -> None:
        self.store = store
        self.publish = publish
        self.max_group = max_group
        self._pending: list[tuple[Received, Report, asyncio.Future[Recorded]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def record(self, received: Received, report: Report) -> Recorded:
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._pending.append((received, report, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            group, self._pending = self._pending[: self.max_group], self._pending[self.max_group :]
            try:
                results = await record_many(
                    self.store, [(r, p) for r, p, _ in group], publish=self.publish
                )
            except Exception as exc:
                if len(group) == 1:
                    _settle(group[0][2], exc)
                    continue
                # Find the culprit: each message alone, in its own transaction.
                for received, report, future in group:
                    try:
                        _settle(
                            future, await record(self.store, received, report, publish=self.publish)
                        )
                    except Exception as single:
                        _settle(future, single)
                continue
            for (_, _, future), result in zip(group, results, strict=True):
                _settle(future, result)


def _settle(future: asyncio.Future[Recorded], outcome: Recorded | BaseException) -> None:
    if future.done():  # the SMTP session went away; its retry will find the row
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
