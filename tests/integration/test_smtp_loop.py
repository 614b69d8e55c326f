"""The whole loop over real sockets: SMTP in, verdict stored, API answers."""

from __future__ import annotations

import asyncio
import os

import aiosmtplib
import pytest

from tests.conftest import DOMAIN, StartService, settle_smtp_port
from tests.messages import arf, dsn

RCPT = f"b+tok@{DOMAIN}"


async def send(port: int, raw: bytes, rcpt: str = RCPT, sender: str = "") -> tuple[int, str]:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30) as client:
        errors, message = await client.sendmail(sender, [rcpt], raw)
        assert not errors
    await settle_smtp_port(port)  # a 250 means spooled; the verdict follows from the stage
    return 250, message


async def test_hard_bounce_is_suppressed_and_visible(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    _, reply = await send(svc.smtp_port, dsn("Gone.User@Example.ORG"))
    assert "Accepted as" in reply

    r = await svc.api.get("/v1/suppressions/gone.user@example.org")
    assert r.status_code == 200
    [row] = r.json()
    assert (row["kind"], row["reason"], row["until"]) == ("hard_bounce", "userunknown", None)

    check = await svc.api.post(
        "/v1/suppressions/check",
        json={"addresses": ["gone.user@example.org", "alive@example.org", "junk"]},
    )
    results = {x["address"]: x for x in check.json()["results"]}
    assert results["gone.user@example.org"]["suppressed"] is True
    assert results["gone.user@example.org"]["reason"] == "userunknown"
    assert results["alive@example.org"]["suppressed"] is False
    assert results["junk"]["error"]

    feed = (await svc.api.get("/v1/events")).json()
    [event] = feed["items"]
    assert event["recipient"] == "gone.user@example.org"
    assert event["status"] == "5.1.1"
    assert event["original_message_id"] == "<orig-1@example.com>"


async def test_complaint_from_a_feedback_loop_is_recorded_until_it_proves_itself(
    database_url: str, start_service: StartService
) -> None:
    """Listing a feedback loop is not enough: its reports must be DKIM-signed by it
    (tests/integration/test_forged_reports.py sends signed ones)."""
    svc = await start_service(database_url)
    # Unsigned complaints from an unknown source are recorded, not trusted (default policy).
    await send(svc.smtp_port, arf("angry@example.net"))
    assert (await svc.api.get("/v1/suppressions/angry@example.net")).status_code == 404
    [event] = (await svc.api.get("/v1/events", params={"kind": "complaint"})).json()["items"]
    assert (event["recipient"], event["feedback_type"], event["verified"]) == (
        "angry@example.net",
        "abuse",
        False,
    )

    r = await svc.api.put("/v1/policy", json={"feedback_loop_sources": ["fbl.example.net"]})
    assert r.status_code == 200
    await send(svc.smtp_port, arf("angry@example.net", message_id="<arf-2@fbl.example.net>"))
    assert (await svc.api.get("/v1/suppressions/angry@example.net")).status_code == 404
    events = (await svc.api.get("/v1/events", params={"kind": "complaint"})).json()["items"]
    assert [e["verified"] for e in events] == [False, False]


async def test_soft_bounce_is_counted_not_suppressed(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    await send(
        svc.smtp_port,
        dsn(
            "full@example.org",
            status="4.2.2",
            action="delayed",
            diagnostic="452 4.2.2 Mailbox full",
        ),
    )
    await send(
        svc.smtp_port,
        dsn(
            "full@example.org",
            status="5.2.2",
            diagnostic="552 5.2.2 Mailbox full",
            message_id="<dsn-2@mx>",
        ),
    )
    assert (await svc.api.get("/v1/suppressions/full@example.org")).status_code == 404
    events = (await svc.api.get("/v1/events", params={"recipient": "full@example.org"})).json()[
        "items"
    ]
    assert len(events) == 2
    assert {e["reason"] for e in events} == {"mailboxfull"}


async def test_foreign_domain_is_refused_never_relayed(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as info:
        await send(svc.smtp_port, dsn("x@example.org"), rcpt="someone@elsewhere.example")
    [refusal] = info.value.recipients
    assert refusal.code == 550 and "5.7.1" in refusal.message


async def test_oversize_message_gets_552(sqlite_url: str, start_service: StartService) -> None:
    svc = await start_service(sqlite_url, max_message_size=2000)
    big = dsn("x@example.org") + b"X" * 5000 + b"\r\n"
    with pytest.raises(aiosmtplib.SMTPResponseException) as info:
        await send(svc.smtp_port, big)
    assert info.value.code == 552 and "5.3.4" in info.value.message
    # The SIZE parameter is refused before any data is sent.
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=svc.smtp_port) as client:
        response = await client.execute_command(b"MAIL", b"FROM:<>", b"SIZE=999999")
        assert response.code == 552 and "5.3.4" in response.message


async def test_junk_is_accepted_and_stored(database_url: str, start_service: StartService) -> None:
    svc = await start_service(database_url)
    junk = (
        os.urandom(3000).replace(b"\r", b"").replace(b"\n", b"")
        + b"\r\n\x00\xff not mime at all\r\n"
    )
    _, reply = await send(svc.smtp_port, junk)
    assert "Accepted as" in reply
    [event] = (await svc.api.get("/v1/events")).json()["items"]
    assert event["kind"] == "unknown" and event["recipient"] is None
    raw = await svc.api.get(f"/v1/events/{event['id']}/raw")
    assert raw.status_code == 200
    assert b"not mime at all" in raw.content


async def test_duplicate_delivery_is_not_doubled(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    message = dsn("twice@example.org")
    _, first = await send(svc.smtp_port, message)
    _, second = await send(svc.smtp_port, message)
    # Each delivery is spooled and acknowledged; the stage records the second as a
    # duplicate of the first (the dedup key), so the verdict is not doubled.
    assert "Accepted as" in first and "Accepted as" in second
    events = (await svc.api.get("/v1/events")).json()["items"]
    assert len(events) == 1
    assert events[0]["message"] == first.split()[-1]  # the first delivery is the one kept


async def test_a_locked_store_delays_the_verdict_not_the_250(
    sqlite_url: str, start_service: StartService
) -> None:
    """A locked database (a real outage mode of SQLite) no longer costs the sender a 451:
    the message is spooled and acknowledged, and recorded once the lock is gone."""
    import sqlite3

    svc = await start_service(sqlite_url, sqlite_busy_timeout=0.2)
    path = sqlite_url.split("///", 1)[1]
    blocker = sqlite3.connect(path, timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=svc.smtp_port) as client:
            _, reply = await client.sendmail("", [RCPT], dsn("later@example.org"))
        assert "Accepted as" in reply
        await asyncio.sleep(0.5)  # the stage tries, fails on the lock, and waits
        assert not await svc.service.stage.drained()  # type: ignore[union-attr]
    finally:
        blocker.rollback()
        blocker.close()
    await svc.settle()
    assert (await svc.api.get("/v1/suppressions/later@example.org")).status_code == 200


async def test_a_stage_too_far_behind_answers_451_4_3_2_then_catches_up(
    sqlite_url: str, start_service: StartService
) -> None:
    """Back-pressure: with the store locked, the spool grows; past its bound the listener
    asks senders to retry (451 4.3.2) instead of growing without end."""
    import sqlite3

    svc = await start_service(sqlite_url, sqlite_busy_timeout=0.2, spool_max_backlog_mb=1)
    handler = svc.service.handler
    assert handler is not None
    path = sqlite_url.split("///", 1)[1]
    blocker = sqlite3.connect(path, timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")
    big = dsn("many@example.org") + b"X" * 76 + (b"\r\n" + b"X" * 76) * 4_000
    replies: list[int] = []
    try:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=svc.smtp_port) as client:
            for n in range(8):
                raw = big.replace(b"<dsn-1@mx.example.net>", f"<dsn-{n}@x>".encode())
                try:
                    await client.sendmail("", [RCPT], raw)
                    replies.append(250)
                except aiosmtplib.SMTPDataError as exc:
                    assert "4.3.2" in exc.message
                    replies.append(exc.code)
                await asyncio.sleep(
                    handler.backlog_every * 2
                )  # the backlog is read 5 times a second
    finally:
        blocker.rollback()
        blocker.close()
    assert replies[:3] == [250, 250, 250] and replies[-1] == 451, replies
    await svc.settle()
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=svc.smtp_port) as client:
        await asyncio.sleep(handler.backlog_every * 2)
        _, reply = await client.sendmail("", [RCPT], dsn("after@example.org"))
    assert "Accepted as" in reply


async def test_absurd_field_lengths_are_accepted_not_refused(
    database_url: str, start_service: StartService
) -> None:
    """Columns have limits; a bounce that exceeds them must still be stored (PostgreSQL enforces them)."""
    svc = await start_service(database_url)
    long_recipient = "x" * 400 + "@example.org"
    raw = dsn(
        long_recipient,
        diagnostic="550 5.1.1 " + "no such user " * 2000,
        message_id="<" + "m" * 1500 + "@x>",
    )
    _, reply = await send(svc.smtp_port, raw)
    assert "Accepted as" in reply
    [event] = (await svc.api.get("/v1/events")).json()["items"]
    assert event["recipient"] is None  # not a valid address: recorded, never suppressed
    assert len(event["diagnostic"]) <= 4000


async def test_malformed_mime_is_accepted_and_still_understood(
    sqlite_url: str, start_service: StartService
) -> None:
    """A DSN whose closing boundary never comes and whose attachment is broken base64."""
    svc = await start_service(sqlite_url)
    raw = dsn("broken@example.org").split(b"--BOUNDARY--")[0] + (
        b"--BOUNDARY\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"!!!! not base64 at all ====\r\n"
    )
    _, reply = await send(svc.smtp_port, raw)
    assert "Accepted as" in reply
    [event] = (await svc.api.get("/v1/events")).json()["items"]
    assert (event["recipient"], event["kind"]) == ("broken@example.org", "hard_bounce")


async def test_a_large_bounce_is_recorded(sqlite_url: str, start_service: StartService) -> None:
    """A 3 MB returned original: spooled, parsed by the stage, the same verdict."""
    svc = await start_service(sqlite_url)
    attachment = b"\r\n".join(b"X" * 76 for _ in range(40_000))  # ~3 MB of returned original
    raw = dsn("big@example.org").replace(
        b"--BOUNDARY--",
        b"--BOUNDARY\r\nContent-Type: text/plain\r\n\r\n" + attachment + b"\r\n--BOUNDARY--",
    )
    assert len(raw) > 1_000_000
    _, reply = await send(svc.smtp_port, raw)
    assert "Accepted as" in reply
    [row] = (await svc.api.get("/v1/suppressions/big@example.org")).json()
    assert row["reason"] == "userunknown"
