"""A real Postfix bounces a message and returnpath suppresses the address.

    submit --> private Postfix --RCPT 550 5.1.1--> sink (plays reject.test)
                     |
                     +-- its own DSN to b+tok@bounces.example.com --> returnpath SMTP

Everything runs on 127.0.0.1: the Postfix instance (tests/mta.py) listens on
one loopback port and may deliver only to the two routes below. Skipped when
Postfix is not installed or the tests do not run as root (Postfix's master
must start as root); this is not one of CI's mandatory services.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.conftest import DOMAIN, StartService
from tests.mta import LOOPBACK, PrivatePostfix, Sink, postfix_binary

RECIPIENT = "gone@reject.test"
SENDER = f"b+tok@{DOMAIN}"
DEADLINE = 60.0  # seconds for the bounce to come round; it takes well under one


@pytest.fixture
def rejecting_sink() -> Iterator[Sink]:
    with Sink() as sink:
        yield sink


StartPostfix = Callable[[dict[str, int]], Awaitable[PrivatePostfix]]


@pytest.fixture
async def start_postfix() -> AsyncIterator[StartPostfix]:
    if postfix_binary() is None:
        pytest.skip("postfix is not installed (apt-get install postfix): no real-MTA test")
    if os.geteuid() != 0:
        pytest.skip("a private Postfix instance must be started as root")
    started: list[PrivatePostfix] = []

    async def start(routes: dict[str, int]) -> PrivatePostfix:
        postfix = PrivatePostfix(routes)
        started.append(postfix)  # stopped below even if start() fails half way
        await asyncio.to_thread(postfix.start)
        return postfix

    try:
        yield start
    finally:
        for postfix in started:
            await asyncio.to_thread(postfix.stop)


async def wait_for_suppression(api: Any, address: str) -> list[dict[str, Any]]:
    """Poll until the address is suppressed (the caller bounds the wait)."""
    while True:
        r = await api.get(f"/v1/suppressions/{address}")
        if r.status_code == 200:
            rows: list[dict[str, Any]] = r.json()
            return rows
        assert r.status_code == 404, r.text
        await asyncio.sleep(0.2)


async def test_postfix_dsn_suppresses_the_address(
    sqlite_url: str,
    start_service: StartService,
    start_postfix: StartPostfix,
    rejecting_sink: Sink,
) -> None:
    svc = await start_service(sqlite_url)
    postfix = await start_postfix({"reject.test": rejecting_sink.port, DOMAIN: svc.smtp_port})
    listeners = await asyncio.to_thread(postfix.inet_listeners)
    assert listeners == [f"{LOOPBACK}:{postfix.port}"]

    await asyncio.to_thread(postfix.submit, SENDER, [RECIPIENT])
    try:
        async with asyncio.timeout(DEADLINE):
            [row] = await wait_for_suppression(svc.api, RECIPIENT)
    except TimeoutError:
        pytest.fail(
            f"{RECIPIENT} not suppressed after {DEADLINE}s\n--- Postfix log ---\n{postfix.log()}"
        )

    assert (row["kind"], row["reason"], row["until"]) == ("hard_bounce", "userunknown", None)
    [event] = (await svc.api.get("/v1/events", params={"recipient": RECIPIENT})).json()["items"]
    assert event["status"] == "5.1.1"
    assert event["reporting_mta"] == "mx.example.net"
    assert rejecting_sink.received == []  # the sink refused the one message it was offered
    log = postfix.log()
    assert "status=bounced" in log and f"relay={LOOPBACK}[{LOOPBACK}]:{svc.smtp_port}" in log
