"""The pre-send check when the database restarts or is gone: it recovers, or says 503."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from returnpath.api.deps import AppState
from returnpath.api.main import create_app
from returnpath.store.db import Store
from tests.conftest import ADMIN_KEY, StartService
from tests.services import PG_DSN


@pytest.mark.postgres
async def test_checks_survive_a_database_that_dropped_every_connection(
    postgres_url: str, start_service: StartService
) -> None:
    svc = await start_service(postgres_url)
    await svc.api.put("/v1/suppressions/kept@example.com", json={})
    assert (await svc.api.get("/v1/suppressions/kept@example.com")).status_code == 200
    # What a PostgreSQL restart does to the pools: every server process gone.
    database = postgres_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_DSN)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await admin.close()
    assert killed >= 1
    assert (await svc.api.get("/v1/suppressions/kept@example.com")).status_code == 200
    body = (
        await svc.api.post(
            "/v1/suppressions/check", json={"addresses": ["kept@example.com", "new@example.com"]}
        )
    ).json()
    assert [r["suppressed"] for r in body["results"]] == [True, False]


async def test_an_unreachable_database_is_a_503_to_retry_not_a_500() -> None:
    # Nothing listens on port 1: every connection is refused, as when PostgreSQL is down.
    store = Store("postgresql+asyncpg://postgres@127.0.0.1:1/returnpath")
    app = create_app(AppState(store, ADMIN_KEY, 1, "default"))
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api", headers=auth
        ) as api:
            for r in (
                await api.get("/v1/suppressions/a@example.com"),
                await api.post("/v1/suppressions/check", json={"addresses": ["a@example.com"]}),
            ):
                assert r.status_code == 503
                assert r.headers["content-type"] == "application/problem+json"
                assert r.headers["retry-after"] == "5"
                assert "retry" in r.json()["detail"]
    finally:
        await store.close()
