"""What the webhook tests share: a service set for fast retries, events sent over SMTP."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from tests.conftest import Running, StartService
from tests.integration.test_smtp_loop import send
from tests.messages import dsn

#: fast retries, a short timeout, and the receiver on 127.0.0.1 allowed
FAST: dict[str, Any] = {
    "webhook_allow_private": True,
    "webhook_retry_base": 0.05,
    "webhook_timeout": 1.0,
}

_numbers = itertools.count()


async def start(start_service: StartService, database_url: str, **overrides: Any) -> Running:
    return await start_service(database_url, **(FAST | overrides))


async def bounce(svc: Running, recipient: str | None = None) -> str:
    """One hard bounce over SMTP; returns the event id (the webhook-id to expect)."""
    n = next(_numbers)
    recipient = recipient or f"user{n}@example.org"
    await send(svc.smtp_port, dsn(recipient, message_id=f"<wh-{n}@mx.example.net>"))
    events = (await svc.api.get("/v1/events", params={"recipient": recipient})).json()["items"]
    [event] = events
    return str(event["id"])


async def add_endpoint(svc: Running, url: str, **fields: Any) -> dict[str, Any]:
    r = await svc.api.post("/v1/webhooks", json={"url": url, **fields})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def attempts(svc: Running, endpoint_id: str) -> list[dict[str, Any]]:
    r = await svc.api.get(f"/v1/webhooks/{endpoint_id}/deliveries")
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def wait_for_attempts(
    svc: Running, endpoint_id: str, count: int, within: float = 30
) -> list[dict[str, Any]]:
    """Until the deliveries list shows ``count`` attempts (they are written in batches)."""
    async with asyncio.timeout(within):
        while len(found := await attempts(svc, endpoint_id)) < count:
            await asyncio.sleep(0.05)
    return found
