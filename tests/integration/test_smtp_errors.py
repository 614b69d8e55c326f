"""When the server itself fails: the remote MTA is told to try again (4xx), never 5xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from returnpath.inbound.handler import BounceHandler
from returnpath.inbound.server import SMTPListener
from returnpath.inbound.spool import Spooled, SpoolWriter, read_batch, read_checkpoint
from returnpath.store.db import Store
from returnpath.store.tenants import DomainDirectory, ensure_tenant
from tests.conftest import DOMAIN
from tests.messages import dsn

Listen = Callable[[type[SpoolWriter]], Awaitable[int]]


class FailingOnce(SpoolWriter):
    """A spool whose first append fails with an error nobody foresaw (a bug)."""

    failed = False

    async def append(self, item: Spooled) -> None:
        if not FailingOnce.failed:
            FailingOnce.failed = True
            raise RuntimeError(f"a bug while spooling {item.uid}")
        await super().append(item)


@pytest.fixture
async def listen(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Listen]:
    """Start a bare listener (no API, no stage) spooling to ``tmp_path/w0``."""
    store = Store(sqlite_url)
    await store.create_schema()
    await ensure_tenant(store, "default", [DOMAIN])
    listeners: list[SMTPListener] = []

    async def start(spool: type[SpoolWriter] = SpoolWriter) -> int:
        writer = spool(tmp_path / "w0")
        writer.open()
        handler = BounceHandler(writer, DomainDirectory(store), max_backlog=1 << 30)
        listener = SMTPListener(handler, "127.0.0.1", 0, max_message_size=10_000_000)
        await listener.start()
        listeners.append(listener)
        return listener.port

    yield start
    for listener in listeners:
        await listener.stop(grace=1.0)
    await store.close()


class Dialogue:
    """Raw SMTP over a socket: one command, one (possibly multi-line) reply."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def reply(self) -> bytes:
        line = await self.reader.readline()
        while line[3:4] == b"-":
            line = await self.reader.readline()
        return line

    async def say(self, line: bytes) -> bytes:
        self.writer.write(line + b"\r\n")
        await self.writer.drain()
        return await self.reply()

    async def send(self, raw: bytes, rcpt: str = f"b+tok@{DOMAIN}") -> bytes:
        """One transaction without RSET before or after it."""
        assert (await self.say(b"MAIL FROM:<>")).startswith(b"250")
        assert (await self.say(f"RCPT TO:<{rcpt}>".encode())).startswith(b"250")
        assert (await self.say(b"DATA")).startswith(b"354")
        body = raw.replace(b"\r\n.", b"\r\n..")
        return await self.say(body.rstrip(b"\r\n") + b"\r\n.")


async def dialogue(port: int) -> Dialogue:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    talk = Dialogue(reader, writer)
    assert (await talk.reply()).startswith(b"220")
    assert (await talk.say(b"EHLO client.example")).startswith(b"250")
    return talk


async def test_an_unexpected_error_answers_451_and_the_session_goes_on(
    listen: Listen, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failure nobody foresaw (here a bug while spooling) must not become aiosmtpd's
    "500 Error": the MTA would bounce the bounce. 451 makes it retry."""
    FailingOnce.failed = False
    talk = await dialogue(await listen(FailingOnce))
    message = dsn("once@example.org")

    reply = await talk.send(message)
    assert reply.startswith(b"451 4.3.0 "), reply
    log = capsys.readouterr()
    assert "smtp_command_failed" in log.out + log.err
    assert "Traceback" in log.out + log.err and "a bug while spooling" in log.out + log.err

    # Same connection, no RSET: the failed DATA ended its transaction (RFC 5321 4.1.1.4),
    # and the retry is accepted.
    assert (await talk.send(message)).startswith(b"250 2.0.0 Accepted as ")
    talk.writer.close()


async def test_envelope_addresses_that_are_not_utf8_are_stored_not_retried_forever(
    listen: Listen, tmp_path: Path
) -> None:
    """A broken client's byte 0xFF in MAIL FROM and RCPT TO: the database cannot hold a
    lone surrogate, and a 451 would be retried in vain. The message is accepted."""
    talk = await dialogue(await listen())
    assert (await talk.say(b"MAIL FROM:<\xffsender@example.net>")).startswith(b"250")
    rcpt = b"RCPT TO:<b+\xfftok@" + DOMAIN.encode() + b">"
    assert (await talk.say(rcpt)).startswith(b"250")
    assert (await talk.say(b"DATA")).startswith(b"354")
    reply = await talk.say(dsn("odd@example.org").rstrip(b"\r\n") + b"\r\n.")
    assert reply.startswith(b"250 2.0.0 Accepted as "), reply
    talk.writer.close()
    [spooled] = read_batch(
        tmp_path / "w0", read_checkpoint(tmp_path / "w0"), max_items=10, max_bytes=1 << 20
    ).items
    assert spooled.mail_from == "\\xffsender@example.net"
    assert spooled.rcpt_tos == (f"b+\\xfftok@{DOMAIN}",)
