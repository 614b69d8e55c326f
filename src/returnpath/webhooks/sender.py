"""One HTTP try of one delivery: checked address, signed body, bounded answer, no redirects."""

from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import urlsplit, urlunsplit

import httpx

from returnpath.store.models import utcnow
from returnpath.webhooks import signing
from returnpath.webhooks.address import Refused, resolve
from returnpath.webhooks.deliveries import Claimed, Outcome

#: the part of an answer kept and shown in the deliveries list; the rest is not read
ANSWER_BYTES = 1024
USER_AGENT = "returnpath-webhooks/1"


def new_client(timeout: float, max_connections: int) -> httpx.AsyncClient:
    """The shared client. ``trust_env=False``: an ``HTTPS_PROXY`` in the environment would
    send deliveries through a proxy that resolves names itself, past the address check.
    Answer headers are bounded by httpcore (h11's 100 KB limit on an incomplete event)."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=64)
    # TCP_NODELAY: h11 writes the head and the body of a request separately, and with
    # Nagle the body waits for the receiver's delayed ACK of the head (~40 ms a request).
    transport = httpx.AsyncHTTPTransport(
        limits=limits, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )


async def send(
    client: httpx.AsyncClient,
    claimed: Claimed,
    url: str,
    secrets: list[str],
    *,
    budget: float,
    allow_private: bool,
) -> Outcome:
    """Try once; never raises for anything the network or the receiver does."""
    at = utcnow()
    started = time.monotonic()

    def done(outcome: str, **kw: object) -> Outcome:
        latency = int((time.monotonic() - started) * 1000)
        return Outcome(claimed, at, outcome, latency, **kw)  # type: ignore[arg-type]

    try:
        async with asyncio.timeout(budget):
            target = await resolve(url, allow_private)
            parts = urlsplit(url)
            host = f"[{target.address}]" if ":" in target.address else target.address
            pinned = urlunsplit(
                (parts.scheme, f"{host}:{target.port}", parts.path or "/", parts.query, "")
            )
            headers = signing.headers(secrets, claimed.event_uid, int(time.time()), claimed.body)
            headers["content-type"] = "application/json"
            headers["host"] = parts.netloc
            request = client.build_request(
                "POST",
                pinned,
                content=claimed.body,
                headers=headers,
                extensions={"sni_hostname": target.host},
            )
            response = await client.send(request, stream=True)
            try:
                kept = bytearray()
                async for chunk in response.aiter_raw():
                    kept += chunk
                    if len(kept) >= ANSWER_BYTES:
                        break
            finally:
                await response.aclose()
    except Refused as exc:
        return done("refused", error=str(exc)[:300])
    except (TimeoutError, httpx.TimeoutException):
        return done("timeout", error=f"no answer within {budget:g} s")
    except (httpx.HTTPError, OSError) as exc:
        return done("connection", error=(str(exc) or type(exc).__name__)[:300])
    text = bytes(kept[:ANSWER_BYTES]).decode("utf-8", "replace")
    code = response.status_code
    return done(
        "delivered" if 200 <= code < 300 else "http_error", response_code=code, response_body=text
    )
