"""Every wait on the store has a bound (issue 16, item 5).

A stalled PostgreSQL (connections open, nothing answered) and a SQLite file
locked by another process must cost the API a prompt 503, not the length of
the outage; SMTP does not wait for the store at all (a 250 means spooled), and
the stage, whose every transaction is bounded, records the spool once the
store is back. The ceilings below are generous: only an unbounded wait
reaches them, and the proxy's stall lasts until the test ends it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import aiosmtplib
import pytest

from tests.conftest import StartService
from tests.integration.test_smtp_loop import RCPT
from tests.messages import dsn
from tests.tcp_proxy import TcpProxy

# Far above the bound the tests set (db_timeout=1), far below an outage that is waited out.
CEILING = 30.0


@pytest.fixture
async def pg_proxy() -> AsyncIterator[TcpProxy]:
    proxy = await TcpProxy("127.0.0.1", 5432).start()
    yield proxy
    await proxy.close()


async def _data_reply(port: int, raw: bytes) -> tuple[int, str]:
    """One transaction's final reply, without waiting for the stage."""
    try:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=CEILING) as client:
            _, message = await client.sendmail("", [RCPT], raw)
            return 250, message
    except aiosmtplib.SMTPDataError as exc:
        return exc.code, exc.message


@pytest.mark.postgres
async def test_a_stalled_postgresql_gets_250_from_smtp_503_from_the_api_then_catches_up(
    postgres_url: str, pg_proxy: TcpProxy, start_service: StartService
) -> None:
    svc = await start_service(pg_proxy.url_port(postgres_url), db_timeout=1.0)
    code, _ = await _data_reply(svc.smtp_port, dsn("before@example.org", message_id="<a@x>"))
    assert code == 250
    assert (await svc.api.get("/readyz")).status_code == 200

    pg_proxy.stall()
    try:
        async with asyncio.timeout(CEILING):
            code, message = await _data_reply(
                svc.smtp_port, dsn("during@example.org", message_id="<b@x>")
            )
        assert code == 250, message  # spooled: the store is not on the way to the 250
        async with asyncio.timeout(CEILING):
            ready = await svc.api.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/problem+json"
        assert "did not answer within" in ready.json()["detail"]
        async with asyncio.timeout(CEILING):
            listed = await svc.api.get("/v1/suppressions?limit=1")
        assert listed.status_code == 503
        async with asyncio.timeout(CEILING):  # the pre-send check has a pool of its own
            checked = await svc.api.post(
                "/v1/suppressions/check", json={"addresses": ["before@example.org"]}
            )
        assert checked.status_code == 503
        async with asyncio.timeout(CEILING):
            single = await svc.api.get("/v1/suppressions/before@example.org")
        assert single.status_code == 503
    finally:
        pg_proxy.resume()

    # The stage's stuck transaction hit its bound and is retried: the spooled bounce is
    # recorded once the database answers again.
    await svc.settle()
    assert (await svc.api.get("/v1/suppressions/during@example.org")).status_code == 200
    assert (await svc.api.get("/readyz")).status_code == 200


async def test_sqlite_locked_by_another_process_costs_one_bound_per_transaction(
    sqlite_url: str, start_service: StartService
) -> None:
    """With a busy timeout far above the bound, the store's bound still ends the wait:
    the writer lock's queue and SQLite's busy wait share one deadline. SMTP goes on
    accepting into the spool meanwhile."""
    svc = await start_service(sqlite_url, sqlite_busy_timeout=600.0, db_timeout=1.0)
    code, _ = await _data_reply(svc.smtp_port, dsn("before@example.org", message_id="<a@x>"))
    assert code == 250
    blocker = sqlite3.connect(sqlite_url.split("///", 1)[1], timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        async with asyncio.timeout(CEILING):
            replies = await asyncio.gather(
                *(
                    _data_reply(svc.smtp_port, dsn(f"r{i}@example.org", message_id=f"<c{i}@x>"))
                    for i in range(8)
                )
            )
        assert {code for code, _ in replies} == {250}
        async with asyncio.timeout(CEILING):
            put = await svc.api.put("/v1/suppressions/manual@example.org", json={})
        assert put.status_code == 503
    finally:
        blocker.rollback()
        blocker.close()
    await svc.settle()
    assert (await svc.api.get("/v1/suppressions/r7@example.org")).status_code == 200
