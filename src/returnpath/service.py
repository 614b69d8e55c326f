"""``returnpath serve``: the SMTP listener and the HTTP API in one loop, the stage beside them.

The listener spools and answers; the stage (``returnpath.stage``) records
what was spooled, in a child process of its own (``stage_process``) or, with
``RETURNPATH_STAGE=inline``, as a task of this loop; the outbox relay runs
where the stage runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import math
import secrets
import signal
import socket
import ssl
from collections.abc import Callable, Generator

import structlog
import uvicorn

from returnpath.api.deps import AppState
from returnpath.api.limits import BodyTimeout
from returnpath.api.main import create_asgi_app
from returnpath.bus.relay import OutboxRelay
from returnpath.inbound.handler import BounceHandler
from returnpath.inbound.server import SMTPListener
from returnpath.inbound.spool import SpoolWriter
from returnpath.settings import Settings
from returnpath.stage import Stage, spool_drained
from returnpath.stage_process import StageSupervisor
from returnpath.store.db import Store
from returnpath.store.retention import purge_periodically
from returnpath.store.tenants import DEFAULT_TENANT, DomainDirectory, ensure_tenant
from returnpath.webhooks.worker import WebhookWorker

log = structlog.get_logger("returnpath")


class ListenError(Exception):
    """A port could not be bound; the message names the setting to change."""


def _listen_error(exc: OSError, what: str, host: str, port: int) -> ListenError:
    setting = f"RETURNPATH_{what}_PORT"
    if exc.errno == errno.EADDRINUSE:
        why = f"the port is already in use (another serve?); free it or set {setting}"
    elif exc.errno == errno.EACCES:
        why = f"permission denied (ports below 1024 need privileges); set {setting} above 1023"
    elif exc.errno == errno.EADDRNOTAVAIL:
        why = f"not an address of this machine; set RETURNPATH_{what}_HOST"
    else:
        why = exc.strerror or str(exc)
    return ListenError(f"cannot listen for {what} on {host}:{port}: {why}")


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: the service owns shutdown order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(
            settings.database_url_async,
            busy_timeout=settings.sqlite_busy_timeout,
            timeout=settings.db_timeout,
        )
        self.relay: OutboxRelay | None = None
        self.webhooks: WebhookWorker | None = None
        self.stage: Stage | None = None
        self.supervisor: StageSupervisor | None = None
        self.handler: BounceHandler | None = None
        self.listener: SMTPListener | None = None
        self.api: _ApiServer | None = None
        self.admin_key = settings.api_key
        self.api_socket: socket.socket | None = None
        self.api_port = settings.api_port
        self._stop = asyncio.Event()

    async def start(self) -> None:
        s = self.settings
        await self.store.create_schema()
        tenant = await ensure_tenant(self.store, DEFAULT_TENANT, s.domains, only=True)
        if not self.admin_key:
            self.admin_key = "rp_admin_" + secrets.token_urlsafe(24)
            log.warning(
                "generated_admin_key",
                api_key=self.admin_key,
                hint="set RETURNPATH_API_KEY to keep a key across restarts",
            )
        # One stage for all listener processes (worker 0's); the relay runs beside it.
        root = s.spool_root
        inline = s.stage == "inline"
        if s.worker_index == 0:
            if inline:
                if s.amqp_url:
                    self.relay = OutboxRelay.from_settings(self.store, s)
                self.stage = Stage(
                    self.store,
                    root,
                    publish=bool(s.amqp_url),
                    on_committed=self.relay.wake if self.relay else None,
                )
            else:
                self.supervisor = StageSupervisor(s, grace=s.shutdown_grace)
            # Webhooks: one worker, beside the stage (it reads committed events, never SMTP).
            self.webhooks = WebhookWorker.from_settings(self.store, s)
        spool = SpoolWriter(root / f"w{s.worker_index}")
        spool.open()
        handler = BounceHandler(
            spool, DomainDirectory(self.store), max_backlog=s.spool_max_backlog_mb * 1024 * 1024
        )
        self.handler = handler
        self.listener = SMTPListener(
            handler,
            s.smtp_host,
            s.smtp_port,
            max_message_size=s.max_message_size,
            hostname=s.smtp_hostname or None,
            timeout=s.smtp_timeout,
            max_connections=s.smtp_max_connections,
            max_connections_per_peer=s.smtp_max_connections_per_peer,
            tls_context=_tls_context(s),
            reuse_port=s.workers > 1,
        )
        try:
            await self.listener.start()
        except OSError as exc:
            await self._abandon_start()
            raise _listen_error(exc, "SMTP", s.smtp_host, s.smtp_port) from exc
        app = create_asgi_app(
            AppState(
                self.store,
                self.admin_key,
                tenant.id,
                tenant.name,
                publish=bool(s.amqp_url),
                on_recorded=self.relay.wake if self.relay else None,
            )
        )
        config = uvicorn.Config(
            BodyTimeout(app, s.api_body_timeout),
            host=s.api_host,
            port=s.api_port,
            log_config=None,
            access_log=False,
            lifespan="off",
            limit_concurrency=s.api_max_concurrency,
            # an open event stream (GET /v1/events/stream) never ends by itself: without
            # a bound uvicorn waits for it, and serve took the whole grace + 5 s to stop
            timeout_graceful_shutdown=math.ceil(s.shutdown_grace),
        )
        self.api = _ApiServer(config)
        # Bind here, not in uvicorn, so that port 0 works and the real port is known.
        family = socket.AF_INET6 if ":" in s.api_host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only then (else Nagle adds ~40 ms per keep-alive request).
        self.api_socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.api_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if s.workers > 1:  # the kernel spreads connections over the worker processes
            self.api_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            self.api_socket.bind((s.api_host, s.api_port))
        except OSError as exc:
            self.api_socket.close()
            await self._abandon_start()
            raise _listen_error(exc, "API", s.api_host, s.api_port) from exc
        self.api_socket.listen(1024)
        self.api_socket.setblocking(False)
        self.api_port = self.api_socket.getsockname()[1]
        log.info(
            "api_listening",
            host=s.api_host,
            port=self.api_port,
            docs=f"http://{s.api_host}:{self.api_port}/docs",
        )
        log.info(
            "ready",
            domains=s.domains,
            database=_safe_url(s.database_url),
            broker="on" if s.amqp_url else "off",
        )

    async def _abandon_start(self) -> None:
        """Undo what ``start`` opened before a port could not be bound (nothing was accepted)."""
        if self.listener is not None:
            await self.listener.stop(0)
        if self.handler is not None:
            await self.handler.close()
        await self.store.close()

    def launch(self) -> list[asyncio.Task[None]]:
        """Start the long-running parts as tasks (after ``start``)."""
        assert self.api is not None and self.api_socket is not None
        tasks = [asyncio.create_task(self.api.serve(sockets=[self.api_socket]), name="api")]
        assert self.handler is not None
        self.handler.watch_backlog()
        if self.stage is not None:
            tasks.append(asyncio.create_task(self.stage.run(), name="stage"))
        if self.supervisor is not None:
            self.supervisor.start()
        if self.relay is not None:
            tasks.append(asyncio.create_task(self.relay.run(), name="relay"))
        if self.webhooks is not None:
            tasks.append(asyncio.create_task(self.webhooks.run(), name="webhooks"))

        s = self.settings
        if s.worker_index == 0 and s.raw_retention_days > 0:
            purge = purge_periodically(
                self.store, s.raw_retention_days, s.raw_purge_interval, self._stop
            )
            tasks.append(asyncio.create_task(purge, name="raw-purge"))
        return tasks

    async def settle(self) -> None:
        """Wait until the stage has recorded everything spooled so far (tests, tools);
        callers bound the wait (``asyncio.timeout``)."""
        while not spool_drained(self.settings.spool_root):
            await asyncio.sleep(0.01)

    async def run(self, after_start: Callable[[], None] | None = None) -> None:
        await self.start()
        # Everything built so far lives as long as the process: move it out of the
        # collector's sight, so that a full collection during a 10,000-address
        # check walks only that request's objects (p99 spikes of ~30 ms before).
        gc.freeze()
        if after_start is not None:
            after_start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        tasks = self.launch()
        stopper = asyncio.create_task(self._stop.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopper and task.exception() is not None:
                log.error("component_failed", task=task.get_name(), error=repr(task.exception()))
        await self.shutdown(tasks)

    def request_stop(self) -> None:
        log.info("shutdown_requested")
        self._stop.set()

    async def shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        self._stop.set()  # the tasks that wait on it (the raw purge) end now, not at the timeout
        if self.listener is not None:
            await self.listener.stop(self.settings.shutdown_grace)
        if self.handler is not None:
            await self.handler.close()
        if self.api is not None:
            self.api.should_exit = True
        if self.stage is not None:
            # What is spooled is safe either way; recording it now spares the next start.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.shutdown_grace):
                    await self.settle()
            self.stage.stop()
        if self.supervisor is not None:
            await self.supervisor.stop()
        if self.relay is not None:
            await self.relay.stop()
        if self.webhooks is not None:
            await self.webhooks.stop()
        await asyncio.wait(tasks, timeout=self.settings.shutdown_grace + 5)
        for task in tasks:
            task.cancel()
        await self.store.close()
        log.info("stopped")


def _tls_context(s: Settings) -> ssl.SSLContext | None:
    """STARTTLS for the MX: opportunistic, as every sending MTA expects; off without a certificate."""
    if not s.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(s.tls_cert, s.tls_key or None)
    return context


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
