"""Invalid input is a 4xx with a problem detail, never a 500; a stalled or crowding
client is bounded (issue 16, item 6). Over real sockets, against the real server."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from tests.conftest import ADMIN_KEY, StartService

CEILING = 30.0  # only a request that is never timed out reaches it


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _problem(r: httpx.Response, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = r.json()
    assert body["status"] == status
    return body


async def test_times_without_a_zone_are_422_with_a_clear_detail(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    for path in (
        "/v1/suppressions?since=2026-01-01T00:00:00",
        "/v1/suppressions?until=2026-01-01T00:00:00",
        "/v1/events?since=2026-01-01T00:00:00",
    ):
        body = _problem(await svc.api.get(path), 422)
        assert "timezone" in str(body["errors"]), body
    body = _problem(
        await svc.api.put(
            "/v1/suppressions/a@example.org", json={"expires_at": "2030-01-01T00:00:00"}
        ),
        422,
    )
    assert "timezone" in str(body["errors"])
    # With a zone they work, whatever the offset, and mean the same instant.
    put = await svc.api.put(
        "/v1/suppressions/a@example.org", json={"expires_at": "2030-01-01T02:00:00+02:00"}
    )
    assert put.status_code == 201, put.text
    [row] = (await svc.api.get("/v1/suppressions/a@example.org")).json()
    assert row["until"].startswith("2030-01-01T00:00:00")
    for path in (
        "/v1/suppressions?since=2026-01-01T00:00:00Z",
        "/v1/suppressions?until=2099-01-01T00:00:00%2B05:00",
        "/v1/events?since=2026-01-01T00:00:00-03:00",
    ):
        assert (await svc.api.get(path)).status_code == 200, path


async def test_instants_and_dates_beyond_the_calendar_are_422(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    for path in (
        "/v1/suppressions?since=0001-01-01T00:00:00%2B01:00",  # before year 1 in UTC
        "/v1/events?since=9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "/v1/stats?until=0001-01-01",  # the default window starts 29 days earlier
        "/v1/stats?since=9999-12-31&until=9999-12-31",  # the window ends a day later
    ):
        _problem(await svc.api.get(path), 422)
    body = _problem(
        await svc.api.put(
            "/v1/suppressions/a@example.org", json={"expires_at": "0001-01-01T00:00:00+05:00"}
        ),
        422,
    )
    assert "out of range" in str(body["errors"])
    assert (await svc.api.get("/v1/stats?since=2026-01-01&until=2026-01-31")).status_code == 200


async def test_a_cursor_beyond_64_bits_is_422(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    for value in (str(2**63), str(10**30), str(-(2**63) - 1), "-1"):
        for path in ("/v1/suppressions", "/v1/events"):
            body = _problem(await svc.api.get(path, params={"cursor": _cursor(f"v1:{value}")}), 422)
            assert "cursor" in str(body["detail"])
    # The largest row id is still a cursor (an empty page after it).
    top = _cursor(f"v1:{2**63 - 1}")
    assert (await svc.api.get("/v1/suppressions", params={"cursor": top})).json()["items"] == []


async def _incomplete_post(
    port: int, declared: int, sent: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A request that declares ``declared`` bytes of body and sends only ``sent``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /v1/suppressions/check HTTP/1.1\r\nHost: api\r\n"
        + f"Authorization: Bearer {ADMIN_KEY}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {declared}\r\n\r\n".encode()
        + sent
    )
    await writer.drain()
    return reader, writer


async def test_an_incomplete_body_is_answered_408_and_the_connection_closed(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url, api_body_timeout=0.5)
    reader, writer = await _incomplete_post(svc.service.api_port, 100, b'{"addresses": [')
    async with asyncio.timeout(CEILING):
        answer = await reader.read()  # to the end: the server closes the connection
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in head.lower()
    assert b"request body incomplete" in body
    writer.close()
    # A body that arrives in slow pieces, each within the bound, is read to its end.
    reader, writer = await asyncio.open_connection("127.0.0.1", svc.service.api_port)
    payload = b'{"addresses": ["slow@example.org"]}'
    writer.write(
        b"POST /v1/suppressions/check HTTP/1.1\r\nHost: api\r\nConnection: close\r\n"
        + f"Authorization: Bearer {ADMIN_KEY}\r\nContent-Type: application/json\r\n".encode()
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
    )
    for i in range(0, len(payload), 12):
        writer.write(payload[i : i + 12])
        await writer.drain()
        await asyncio.sleep(0.2)
    async with asyncio.timeout(CEILING):
        answer = await reader.read()
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    writer.close()


@pytest.mark.parametrize("limit", [3])
async def test_connections_over_the_api_limit_get_503(
    sqlite_url: str, start_service: StartService, limit: int
) -> None:
    svc = await start_service(sqlite_url, api_max_concurrency=limit, api_body_timeout=60.0)
    await svc.api.aclose()  # its keep-alive connection would count too
    held = [await _incomplete_post(svc.service.api_port, 100, b"{") for _ in range(limit)]
    await asyncio.sleep(0.2)  # let the server take them in
    url = f"http://127.0.0.1:{svc.service.api_port}/healthz"
    async with httpx.AsyncClient(timeout=CEILING) as client:
        assert (await client.get(url)).status_code == 503
    for _, writer in held:
        writer.close()
