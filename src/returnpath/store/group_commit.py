"""Group commit for the SMTP listener: messages that arrive while a transaction
is committing share the next one.

Under load, commits (fsync on SQLite with ``synchronous=FULL``, a WAL flush
and a round trip on PostgreSQL) are the bottleneck, not the SQL; a group of N
concurrent messages costs one commit instead of N (``ingest.record_many``).
Nobody waits for a group to fill: a lone message is committed at once.

A group that fails because of what one message holds (a constraint it violates, a
value the database refuses) is retried one message at a time, so one bad message
cannot hold the others back. A group that fails because the store is unavailable
(locked, unreachable, timed out) fails at once, every message of it: retrying each
alone would only wait out the same timeout once per message (a 20 s SQLite lock
gave 451s after 12–18 s).
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from returnpath.parsers.model import Report
from returnpath.store.db import Store
from returnpath.store.ingest import Received, Recorded, record, record_many

# SQLSTATE classes a single row can cause: 22 data exception (a value out of range, a
# byte the encoding refuses), 23 integrity constraint violation.
DATA_SQLSTATE_CLASSES = ("22", "23")


def about_the_data(error: BaseException) -> bool:
    """Could one message of the group alone have caused ``error``?

    Everything about the store itself (operational errors such as a locked SQLite
    file, connection loss, statement and pool timeouts, deadlocks) says no: the next
    message would meet it too. asyncpg's errors reach SQLAlchemy mostly as the generic
    DBAPIError, so for those the SQLSTATE decides. An error raised outside the driver
    (a value that cannot be bound or encoded) comes from what a message holds.
    """
    if isinstance(error, (sa.exc.IntegrityError, sa.exc.DataError)):
        return True
    if isinstance(error, sa.exc.DBAPIError):
        state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return isinstance(state, str) and state[:2] in DATA_SQLSTATE_CLASSES
    if isinstance(error, sa.exc.StatementError):
        return True  # a parameter's own conversion failed before the database saw it
    return not isinstance(error, (sa.exc.SQLAlchemyError, OSError, TimeoutError))


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
                if len(group) == 1 or not about_the_data(exc):
                    for _, _, future in group:
                        _settle(future, exc)
                    continue
                await self._one_by_one(group)
                continue
            for (_, _, future), result in zip(group, results, strict=True):
                _settle(future, result)

    async def _one_by_one(
        self, group: list[tuple[Received, Report, asyncio.Future[Recorded]]]
    ) -> None:
        """Find the culprit: each message alone, in its own transaction. Should the
        store fail meanwhile, the rest fail with it at once."""
        down: BaseException | None = None
        for received, report, future in group:
            if down is not None:
                _settle(future, down)
                continue
            try:
                _settle(future, await record(self.store, received, report, publish=self.publish))
            except Exception as single:
                _settle(future, single)
                if not about_the_data(single):
                    down = single


def _settle(future: asyncio.Future[Recorded], outcome: Recorded | BaseException) -> None:
    if future.done():  # the SMTP session went away; its retry will find the row
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
