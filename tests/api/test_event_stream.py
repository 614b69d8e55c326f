"""GET /v1/events/stream: server-sent events from a real server to a real HTTP client.

The client reads through a ``TcpProxy`` so that a test can cut the connection as a
network does (mid-stream, without a goodbye), then reconnect with ``Last-Event-ID``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY, Running, StartService
from tests.integration.test_smtp_loop import send
from tests.messages import dsn
from tests.tcp_proxy import TcpProxy

# Generous ceiling: only a hang reaches it.
CEILING = 60.0


class Sse:
    """The events and comments of one server-sent event stream, as they arrive."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.comments: list[str] = []

    async def next_event(self) -> tuple[str, dict[str, Any]]:
        """The next event's id and data (comments and the retry field are noted on the way)."""
        event_id, data = "", ""
        async with asyncio.timeout(CEILING):
            async for line in self.lines:
                if line.startswith(":"):
                    self.comments.append(line)
                elif line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: "):
                    data += line[6:]
                elif not line and data:
                    return event_id, json.loads(data)
        raise AssertionError("the stream ended")

    async def next_comment(self) -> str:
        async with asyncio.timeout(CEILING):
            async for line in self.lines:
                if line.startswith(":"):
                    return line
                assert not line.startswith("data: "), f"an event where none was due: {line}"
        raise AssertionError("the stream ended")


@asynccontextmanager
async def streaming(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **params: Any
) -> AsyncIterator[Sse]:
    async with client.stream("GET", "/v1/events/stream", params=params, headers=headers) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        yield Sse(r)


async def _bounce(port: int, n: int) -> None:
    await send(port, dsn(f"gone-{n}@example.org", message_id=f"<stream-{n}@mx>"))


async def _with_bounces(start_service: StartService, url: str, count: int) -> Running:
    """A real service (uvicorn on a real socket) that recorded ``count`` hard bounces."""
    svc = await start_service(url)
    for n in range(count):
        await _bounce(svc.smtp_port, n)
    return svc


async def test_a_stream_cut_mid_way_resumes_with_last_event_id_without_gap_or_duplicate(
    database_url: str, start_service: StartService
) -> None:
    svc = await _with_bounces(start_service, database_url, 3)
    proxy = await TcpProxy("127.0.0.1", svc.service.api_port).start()
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{proxy.port}",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=CEILING,
    )
    received: list[tuple[str, dict[str, Any]]] = []
    try:
        async with streaming(client) as sse:
            for _ in range(3):
                received.append(await sse.next_event())
            # live: an event committed while the client listens
            await _bounce(svc.smtp_port, 3)
            received.append(await sse.next_event())
            proxy.cut()  # the network drops the connection: no goodbye either way
            with pytest.raises(httpx.TransportError):
                await sse.next_event()
        # events committed while the client was away
        for n in (4, 5):
            await _bounce(svc.smtp_port, n)
        proxy.resume()
        last_id = received[-1][0]
        async with streaming(client, headers={"Last-Event-ID": last_id}) as sse:
            for _ in range(2):
                received.append(await sse.next_event())
    finally:
        await client.aclose()
        await proxy.close()

    feed = (await svc.api.get("/v1/events")).json()
    # the same JSON as GET /v1/events, in the same order: none missing, none twice
    assert [data for _, data in received] == feed["items"]
    assert len({data["id"] for _, data in received}) == 6
    # each id is the event's cursor: GET /v1/events?cursor=<id> continues after it
    after_third = (await svc.api.get("/v1/events", params={"cursor": received[2][0]})).json()
    assert [item["id"] for item in after_third["items"]] == [d["id"] for _, d in received[3:]]


async def test_an_idle_stream_sends_heartbeats_and_holds_no_database_connection(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await _with_bounces(start_service, sqlite_url, 1)  # the stream asks for complaints
    pool = svc.store.engine.pool
    async with streaming(svc.api, kind="complaint", heartbeat=1) as sse:
        held = []
        for _ in range(2):
            assert await sse.next_comment() == ": heartbeat"
            for _ in range(10):
                held.append(pool.checkedout())
                await asyncio.sleep(0.05)
    # The stream reads the store once a second, each time for one short query: between
    # reads the pool has its connection back. A stream that kept a session open would
    # show 1 in every sample.
    assert 0 in held, held


async def test_the_stream_takes_the_feed_filters_and_refuses_a_bad_cursor(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await _with_bounces(start_service, sqlite_url, 2)
    async with streaming(svc.api, recipient="GONE-1@example.org") as sse:
        _, data = await sse.next_event()
    assert data["recipient"] == "gone-1@example.org"

    r = await svc.api.get("/v1/events/stream", headers={"Last-Event-ID": "not-a-cursor"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
