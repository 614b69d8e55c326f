"""Text that no database column can hold, arriving by SMTP or by the API: stored, visibly.

PostgreSQL refuses U+0000 in text, and no UTF-8 encoder writes a lone surrogate (what
Python makes of a byte that is not UTF-8). Refused by the database, a bounce would be
answered 451 on every retry until the sending MTA drops it. So every text column
escapes them (``store.models.StoredString``): NUL as ``\\x00``, a byte that was not
UTF-8 as ``\\xNN``; the raw message keeps the exact bytes. Each test runs on SQLite and
on PostgreSQL, against the real listener or the real store.
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from returnpath.parsers import parse
from returnpath.store.db import Store
from returnpath.store.ingest import Received, record
from returnpath.store.models import Event, Message
from returnpath.store.tenants import ensure_tenant
from tests.conftest import DOMAIN, Running, StartService
from tests.integration.test_smtp_errors import dialogue
from tests.integration.test_smtp_fuzz import stored_uids
from tests.messages import dsn

MESSAGES: sa.Table = Message.__table__  # type: ignore[attr-defined]
EVENTS: sa.Table = Event.__table__  # type: ignore[attr-defined]
RCPT = f"b+tok@{DOMAIN}".encode()


async def deliver(
    svc: Running, message: bytes, *, mail: bytes = b"MAIL FROM:<>", rcpt: bytes = RCPT
) -> str:
    """One transaction over a raw socket; the uid its 250 names."""
    talk = await dialogue(svc.smtp_port)
    try:
        assert (await talk.say(mail)).startswith(b"250")
        assert (await talk.say(b"RCPT TO:<" + rcpt + b">")).startswith(b"250")
        assert (await talk.say(b"DATA")).startswith(b"354")
        reply = await talk.say(message.replace(b"\r\n.", b"\r\n..").rstrip(b"\r\n") + b"\r\n.")
    finally:
        talk.writer.close()
    found = re.match(rb"250 2\.0\.0 Accepted as ([0-9a-f]{32})", reply)
    assert found, reply  # not 451: no retry could ever store it
    return found.group(1).decode()


async def stored(svc: Running, uid: str) -> tuple[Any, list[Any]]:
    """The message row and its events."""
    assert uid in await stored_uids(svc, [uid])
    async with svc.store.engine.connect() as conn:
        message = (await conn.execute(sa.select(MESSAGES).where(MESSAGES.c.uid == uid))).one()
        events = (
            await conn.execute(sa.select(EVENTS).where(EVENTS.c.message_id == message.id))
        ).all()
    return message, list(events)


async def test_a_nul_in_the_message_id_is_stored_visibly(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    uid = await deliver(svc, dsn("mid@example.org", message_id="<nul\x00id@mx.example.net>"))
    message, [event] = await stored(svc, uid)
    assert message.header_message_id == "<nul\\x00id@mx.example.net>"
    assert b"<nul\x00id@mx.example.net>" in message.raw  # the evidence keeps the bytes
    assert event.kind == "hard_bounce"


async def test_a_nul_in_the_diagnostic_is_stored_visibly(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    uid = await deliver(svc, dsn("diag@example.org", diagnostic="550 5.1.1 no\x00such user"))
    _, [event] = await stored(svc, uid)
    assert event.diagnostic == "550 5.1.1 no\\x00such user"
    assert (event.recipient, event.kind) == ("diag@example.org", "hard_bounce")


async def test_a_nul_in_the_subject_is_stored_visibly(
    database_url: str, start_service: StartService
) -> None:
    """An unsubscribe request: its Subject is the event's diagnostic."""
    svc = await start_service(database_url)
    request = (
        b"From: Eve <eve@example.org>\r\n"
        b"To: unsubscribe@" + DOMAIN.encode() + b"\r\n"
        b"Subject: unsubscribe\x00 me\r\n"
        b"Message-ID: <leave-1@example.org>\r\n"
        b"\r\n"
        b"Please take me off the list.\r\n"
    )
    uid = await deliver(svc, request, rcpt=f"unsubscribe@{DOMAIN}".encode())
    _, [event] = await stored(svc, uid)
    # Only what this test is about: how item 3 of issue 16 treats such a request may change.
    assert (event.recipient, event.diagnostic) == ("eve@example.org", "unsubscribe\\x00 me")


async def test_a_nul_in_mail_from_is_stored_visibly(
    database_url: str, start_service: StartService
) -> None:
    """aiosmtpd takes the command (250): a broken MTA can send it, so it must be stored."""
    svc = await start_service(database_url)
    uid = await deliver(svc, dsn("from@example.org"), mail=b"MAIL FROM:<se\x00nder@example.net>")
    message, _ = await stored(svc, uid)
    assert message.mail_from == "se\\x00nder@example.net"


async def test_envelope_bytes_that_are_not_utf8_are_stored_visibly(
    database_url: str, start_service: StartService
) -> None:
    """With SMTPUTF8 the envelope is UTF-8, but a broken client sends any byte; aiosmtpd
    keeps it as a lone surrogate (surrogateescape), which no database column takes."""
    svc = await start_service(database_url)
    uid = await deliver(
        svc,
        dsn("odd@example.org"),
        mail=b"MAIL FROM:<\xffsender@example.net> SMTPUTF8",
        rcpt=b"b+\xfetok@" + DOMAIN.encode(),
    )
    message, _ = await stored(svc, uid)
    assert message.mail_from == "\\xffsender@example.net"
    assert json.loads(message.rcpt_tos) == [f"b+\\xfetok@{DOMAIN}"]


async def test_api_text_with_nul_is_stored_visibly(
    database_url: str, start_service: StartService
) -> None:
    """The API's writes go through the same columns: a NUL in a note or a stream name is
    not a 500. An escape lengthens the text; the column's length still holds."""
    svc = await start_service(database_url)
    put = await svc.api.put(
        "/v1/suppressions/nul@example.com", json={"note": "why\x00not", "stream": "news\x00"}
    )
    assert put.status_code == 201, put.text
    [row] = (await svc.api.get("/v1/suppressions/nul@example.com")).json()
    assert (row["note"], row["stream"]) == ("why\\x00not", "news\\x00")
    listed = await svc.api.get("/v1/suppressions", params={"stream": "news\x00"})
    assert [r["address"] for r in listed.json()["items"]] == ["nul@example.com"]

    put = await svc.api.put("/v1/suppressions/long@example.com", json={"note": "\x00" * 1000})
    assert put.status_code == 201, put.text
    [row] = (await svc.api.get("/v1/suppressions/long@example.com")).json()
    assert row["note"] == "\\x00" * 250  # cut to the column's 1,000 characters


async def test_the_store_takes_lone_surrogates_in_its_text_columns(database_url: str) -> None:
    """Whoever writes (here the ingest, called directly): a surrogate that a byte became
    is written as that byte, ``\\xNN``; any other lone surrogate as ``\\uXXXX``."""
    store = Store(database_url)
    try:
        await store.create_schema()
        tenant = await ensure_tenant(store, "default", [DOMAIN])
        raw = dsn("surrogate@example.org")
        received = Received(
            tenant=tenant,
            raw=raw,
            peer="192.0.2.1:25\udcff",
            mail_from="x\udcffy\ud800@example.net",
            rcpt_tos=(f"b+tok@{DOMAIN}",),
        )
        result = await record(store, received, parse(raw), publish=True)
        query = sa.select(MESSAGES.c.mail_from, MESSAGES.c.peer).where(
            MESSAGES.c.uid == result.message_uid
        )
        async with store.engine.connect() as conn:
            row = (await conn.execute(query)).one()
        assert tuple(row) == ("x\\xffy\\ud800@example.net", "192.0.2.1:25\\xff")
    finally:
        await store.close()


def test_every_text_column_of_the_store_escapes_what_it_cannot_hold() -> None:
    """A text column added later as a plain ``sa.String``/``sa.Text`` would let the next
    NUL through to PostgreSQL: every one must be a ``StoredString``."""
    plain = [
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, sa.String)  # a StoredString is a TypeDecorator
    ]
    assert plain == []
