"""The stage in a process of its own: ``returnpath stage``, started and watched by ``serve``.

One Python process uses one core. With the stage in a second process, the
listener's replies wait only for the spool's disk sync while parsing and the
store's work run on the other core.

- ``serve`` starts the child with the settings it needs in its environment,
  restarts it (with back-off) if it dies, and stops it with SIGTERM: the
  child finishes its group, moves its checkpoint and exits.
- The child holds an exclusive lock on ``<spool>/stage.lock``: a second stage
  (an orphan of a killed ``serve``, a stage started by hand) waits for it
  instead of recording the same spool twice. A child whose parent died
  (even by SIGKILL) stops by itself: the kernel tells it (Linux's
  ``PR_SET_PDEATHSIG``), and it checks its parent pid as well.
- The outbox relay runs in the stage's process: that is where events are
  committed, so it learns of them without a poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import gc
import os
import signal
import sys
from pathlib import Path

import structlog

from returnpath.settings import Settings

log = structlog.get_logger("returnpath.stage")

LOCK = "stage.lock"


PARENT = "RETURNPATH_STAGE_PARENT"


def child_environment(settings: Settings) -> dict[str, str]:
    """Every setting of this ``serve``, whatever way it got them (environment, .env file,
    code), so that the stage runs with the same ones."""
    env = {**os.environ, PARENT: str(os.getpid())}
    for name, value in settings.model_dump().items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        env[f"RETURNPATH_{name.upper()}"] = text
    env["RETURNPATH_SPOOL_DIR"] = str(settings.spool_root.resolve())
    return env


class StageSupervisor:
    """Keeps one ``returnpath stage`` child running while ``serve`` runs."""

    def __init__(self, settings: Settings, *, grace: float) -> None:
        self.settings = settings
        self.grace = grace
        self.process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep_running(), name="stage-supervisor")

    async def _keep_running(self) -> None:
        backoff = 0.5
        while not self._stopping:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "returnpath",
                "stage",
                env=child_environment(self.settings),
            )
            log.info("stage_started", pid=self.process.pid)
            code = await self.process.wait()
            if self._stopping:
                return
            self.restarts += 1
            log.error("stage_exited", code=code, restart_in=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    async def stop(self) -> None:
        self._stopping = True
        process = self.process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), self.grace + 5)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def _hold_lock(path: Path) -> int:
    """Wait for the stage lock (polling: ``flock`` would block the loop)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    waited = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if not waited:
                log.warning("stage_waiting_for_lock", lock=str(path))
                waited = True
            await asyncio.sleep(0.2)


def _die_with_parent() -> int | None:
    """The pid of the ``serve`` that started us (None when run by hand); SIGTERM when it dies."""
    expected = os.environ.get(PARENT)
    if expected is None:
        return None
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(expected):  # it died before prctl took effect
        raise SystemExit("returnpath stage: serve is gone")
    return int(expected)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


async def run_stage(settings: Settings) -> None:
    """``returnpath stage``: record the spool until SIGTERM (or the parent's death)."""
    from returnpath.bus.relay import OutboxRelay
    from returnpath.stage import Stage
    from returnpath.store.db import Store

    parent = _die_with_parent()
    root = settings.spool_root
    lock = await _hold_lock(root / LOCK)
    store = Store(
        settings.database_url_async,
        busy_timeout=settings.sqlite_busy_timeout,
        timeout=settings.db_timeout,
    )
    relay = OutboxRelay.from_settings(store, settings) if settings.amqp_url else None
    stage = Stage(
        store,
        root,
        publish=relay is not None,
        on_committed=relay.wake if relay is not None else None,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stage.stop)
    # Everything built so far (the parsers' tables, SQLAlchemy's) lives as long as the
    # process: out of the collector's sight, so that the collections the parsers'
    # short-lived objects cause walk only those (as serve does after start-up).
    gc.freeze()
    tasks = [asyncio.create_task(stage.run(), name="stage")]
    if relay is not None:
        tasks.append(asyncio.create_task(relay.run(), name="relay"))
    log.info("stage_running", spool=str(root), broker="on" if relay else "off")
    try:
        while not tasks[0].done():
            if parent is not None and os.getppid() != parent:  # serve was killed
                log.warning("stage_parent_gone")
                stage.stop()
            await asyncio.wait([tasks[0]], timeout=0.5)
    finally:
        if relay is not None:
            await relay.stop()
            await asyncio.wait(tasks[1:], timeout=5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await store.close()
        os.close(lock)
        log.info("stage_stopped", recorded=stage.recorded)
