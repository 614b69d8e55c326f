"""Shared fixtures: a real returnpath service on real sockets, over a real database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from returnpath.service import Service
from returnpath.settings import Settings
from tests.services import PG_DSN, require_postgres

ADMIN_KEY = "test-admin-key"
DOMAIN = "bounces.example.com"


@dataclass
class Running:
    service: Service
    smtp_port: int
    api: httpx.AsyncClient
    tasks: list[asyncio.Task[None]]

    @property
    def store(self) -> Any:
        return self.service.store

    async def settle(self) -> None:
        """Wait until the stage has recorded every message answered 250 so far."""
        async with asyncio.timeout(30):
            await self.service.settle()


# Services started by the fixture, by SMTP port: lets a test's send() helper, which knows
# only the port, wait for the stage before the test looks at the store.
RUNNING: dict[int, Running] = {}


async def settle_smtp_port(port: int) -> None:
    running = RUNNING.get(port)
    if running is not None:
        await running.settle()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'returnpath.db'}"


@contextlib.asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new database on the real server, dropped afterwards: tests never share rows."""
    require_postgres()
    name = f"rp_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(PG_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Both backends: SQLite always, PostgreSQL when reachable (required in CI)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'returnpath.db'}"
        return
    async with fresh_postgres_database() as url:
        yield url


StartService = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_service(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[StartService]:
    started: list[Running] = []

    async def start(database_url: str, **overrides: Any) -> Running:
        # The stage inline (a task of this loop) unless a test asks for the process.
        overrides.setdefault("stage", "inline")
        overrides.setdefault("spool_dir", str(tmp_path_factory.mktemp("spool")))
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            smtp_port=0,
            api_port=0,
            domains=[DOMAIN],
            api_key=ADMIN_KEY,
            log_format="json",
            log_level="warning",
            shutdown_grace=2.0,
            **overrides,
        )
        service = Service(settings)
        await service.start()
        tasks = service.launch()
        assert service.listener is not None
        client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{service.api_port}",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            timeout=30,
        )
        running = Running(service, service.listener.port, client, tasks)
        started.append(running)
        RUNNING[running.smtp_port] = running
        for _ in range(100):  # uvicorn starts serving on its first loop turns
            try:
                if (await client.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.02)
        return running

    yield start
    for running in started:
        RUNNING.pop(running.smtp_port, None)
        await running.api.aclose()
        await running.service.shutdown(running.tasks)


# --- API answer snapshots ------------------------------------------------------------------
# RETURNPATH_API_SNAPSHOT=/tmp/api.jsonl pytest tests/api  records every answer the API tests
# receive (status and body, with ids, timestamps and secrets masked), so that a refactoring
# can show it changed none of them: run it before and after, then diff the two files.
_SNAPSHOT = os.environ.get("RETURNPATH_API_SNAPSHOT")
_MASKS = (
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"), "<time>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"rp_test_[0-9a-f]{12}"), "<db>"),
    (re.compile(r"[A-Za-z0-9_\-]{20,}"), "<token>"),
    (re.compile(r"\b[0-9a-f]{8,}\b"), "<hex>"),
    (re.compile(r"\d+\.\d+"), "<float>"),
)


def _masked(text: str) -> str:
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


@pytest.fixture(autouse=True)
def _api_snapshot(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if not _SNAPSHOT or "schemathesis" in request.node.nodeid:  # random requests
        return
    send = httpx.AsyncClient.send

    async def recording(self: httpx.AsyncClient, req: httpx.Request, **kw: Any) -> httpx.Response:
        resp = await send(self, req, **kw)
        await resp.aread()
        line = {
            "test": request.node.nodeid,
            "request": _masked(f"{req.method} {req.url.path}"),
            "status": resp.status_code,
            "body": (
                "<payload>"  # random payloads and process figures
                if req.url.path.endswith("/raw") or req.url.path == "/metrics"
                else _masked(resp.text[:2000])
            ),
        }
        with open(_SNAPSHOT, "a") as out:  # noqa: ASYNC230 (a test-only recorder, off by default)
            out.write(json.dumps(line, sort_keys=True) + "\n")
        return resp

    monkeypatch.setattr(httpx.AsyncClient, "send", recording)
