"""Shared fixtures: a real returnpath service on real sockets, over a real database."""

from __future__ import annotations

import asyncio
import contextlib
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
async def start_service() -> AsyncIterator[StartService]:
    started: list[Running] = []

    async def start(database_url: str, **overrides: Any) -> Running:
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
        for _ in range(100):  # uvicorn starts serving on its first loop turns
            try:
                if (await client.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.02)
        return running

    yield start
    for running in started:
        await running.api.aclose()
        await running.service.shutdown(running.tasks)
