"""SIGKILL of ``serve`` while deliveries are being retried: after a restart every event
arrives, with the ids it had before."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests.integration.test_smtp_loop import send
from tests.messages import dsn
from tests.services import free_port
from tests.webhooks.receiver import Answer, Received, receiver

EVENTS = 10


@contextlib.asynccontextmanager
async def serve(
    env: dict[str, str], cwd: Path, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "returnpath", "serve", cwd=cwd, env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def ready(api: httpx.AsyncClient, proc: asyncio.subprocess.Process, log: Path) -> None:
    async with asyncio.timeout(60):
        while True:
            assert proc.returncode is None, log.read_bytes()[-3000:].decode()  # noqa: ASYNC240
            with contextlib.suppress(httpx.TransportError):
                if (await api.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def test_sigkill_mid_retry_loses_nothing_and_keeps_the_ids(
    database_url: str, tmp_path: Path
) -> None:
    smtp_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
    env |= {
        "RETURNPATH_SMTP_PORT": str(smtp_port),
        "RETURNPATH_API_PORT": str(api_port),
        "RETURNPATH_API_KEY": "k",
        "RETURNPATH_LOG_FORMAT": "json",
        "RETURNPATH_DATABASE_URL": database_url,
        "RETURNPATH_SPOOL_DIR": str(tmp_path / "spool"),
        "RETURNPATH_DOMAINS": "bounces.example.com",
        "RETURNPATH_WEBHOOK_ALLOW_PRIVATE": "true",
        "RETURNPATH_WEBHOOK_RETRY_BASE": "0.2",
        "RETURNPATH_WEBHOOK_TIMEOUT": "1",
    }
    log = tmp_path / "serve.log"
    accepted: set[str] = set()
    failing = True

    def answer(request: Received) -> Answer:
        if failing:
            return Answer(500)
        accepted.add(request.headers["webhook-id"])
        return Answer(200)

    api = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{api_port}", headers={"Authorization": "Bearer k"}, timeout=30
    )
    async with api, receiver() as rec:
        rec.answer = answer
        async with serve(env, tmp_path, log) as proc:
            await ready(api, proc, log)
            r = await api.post("/v1/webhooks", json={"url": rec.url})
            assert r.status_code == 201
            for n in range(EVENTS):
                raw = dsn(f"k{n}@example.org", message_id=f"<k9-{n}@mx.example.net>")
                await send(smtp_port, raw)
            events: list[dict[str, str]] = []
            async with asyncio.timeout(60):
                while len(events) < EVENTS:
                    await asyncio.sleep(0.1)
                    events = (await api.get("/v1/events", params={"limit": 100})).json()["items"]
            ids = {e["id"] for e in events}
            # Every event tried and refused at least once: all of them are mid-retry.
            async with asyncio.timeout(60):
                while {q.headers["webhook-id"] for q in rec.requests} != ids:
                    await asyncio.sleep(0.05)
            proc.kill()
            await proc.wait()
        failing = False
        async with serve(env, tmp_path, log) as proc:
            await ready(api, proc, log)
            async with asyncio.timeout(90):
                while accepted != ids:
                    assert accepted <= ids, "a delivery with an id no event has"
                    await asyncio.sleep(0.1)
        assert {q.headers["webhook-id"] for q in rec.requests} == ids
