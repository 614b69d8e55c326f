"""What a hostile or broken SMTP client gets: a clear answer, and the service stays up."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import aiosmtplib
import pytest
import trustme

from tests.conftest import DOMAIN, StartService
from tests.integration.test_smtp_loop import send
from tests.messages import dsn


async def _dialogue(port: int, lines: list[bytes]) -> list[bytes]:
    """Raw SMTP: send each line, read one reply per line (after the greeting)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    replies = [await reader.readline()]
    for line in lines:
        writer.write(line)
        await writer.drain()
        reply = await reader.readline()
        while reply[3:4] == b"-":  # multi-line reply
            reply = await reader.readline()
        replies.append(reply)
    writer.close()
    return replies


async def test_garbage_and_overlong_commands_get_5xx_and_the_session_survives(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    replies = await _dialogue(
        svc.smtp_port,
        [
            b"EHLO client.example\r\n",
            b"\x00\xff\xfe\x80 binary junk\r\n",
            b"FROB the server\r\n",
            b"MAIL FROM:<" + b"a" * 2000 + b"@example.com>\r\n",
            b"DATA\r\n",  # before MAIL/RCPT
            b"RCPT TO:<x@bounces.example.com>\r\n",  # before MAIL
            b"NOOP\r\n",
        ],
    )
    codes = [r[:3] for r in replies]
    assert codes[0] == b"220" and codes[1] == b"250"
    assert codes[2].startswith(b"5") and codes[3] == b"500" and codes[4] == b"500"
    assert codes[5] == b"503" and codes[6] == b"503"
    assert codes[7] == b"250"  # still alive and answering


async def test_too_many_recipients_get_452(sqlite_url: str, start_service: StartService) -> None:
    svc = await start_service(sqlite_url)
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=svc.smtp_port) as client:
        await client.mail("")
        for i in range(100):
            response = await client.rcpt(f"b{i}@{DOMAIN}")
            assert response.code == 250
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as info:
            await client.rcpt(f"one-too-many@{DOMAIN}")
        assert info.value.code == 452 and "4.5.3" in info.value.message


async def test_connections_over_the_limit_get_421(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url, smtp_max_connections=2)
    held = [await asyncio.open_connection("127.0.0.1", svc.smtp_port) for _ in range(2)]
    for reader, _ in held:
        assert (await reader.readline()).startswith(b"220")
    reader, writer = await asyncio.open_connection("127.0.0.1", svc.smtp_port)
    assert (await reader.readline()).startswith(b"421 4.7.0")
    assert await reader.read() == b""  # and closed
    writer.close()
    for _, w in held:
        w.close()
    await asyncio.sleep(0.1)
    # Once the others are gone, mail flows again.
    _, reply = await send(svc.smtp_port, dsn("after@example.org"))
    assert "Accepted as" in reply


async def test_an_idle_client_is_told_421_and_disconnected(
    sqlite_url: str, start_service: StartService
) -> None:
    """Pins ReturnpathSMTP._timeout_cb: aiosmtpd's own timeout closes without a word (RFC
    5321 4.5.3.2 asks for a 421), and no public hook runs when it fires."""
    svc = await start_service(sqlite_url, smtp_timeout=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", svc.smtp_port)
    assert (await reader.readline()).startswith(b"220")
    rest = await asyncio.wait_for(reader.read(), timeout=5)  # the server hangs up on its own
    assert rest == b"421 4.4.2 Idle timeout, closing connection\r\n"
    writer.close()


async def test_starttls_is_offered_and_works_even_at_the_connection_limit(
    sqlite_url: str, start_service: StartService, tmp_path: Path
) -> None:
    """STARTTLS hands the same connection a new transport: it is not one more client."""
    ca = trustme.CA()
    cert = ca.issue_cert("mx.bounces.example.com", "127.0.0.1")
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    svc = await start_service(
        sqlite_url, tls_cert=str(chain), tls_key=str(key), smtp_max_connections=1
    )
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=svc.smtp_port, tls_context=client_ctx, start_tls=False
    ) as client:
        await client.ehlo()
        assert client.supports_extension("starttls")
        await client.starttls()
        errors, reply = await client.sendmail("", [f"b@{DOMAIN}"], dsn("tls@example.org"))
        assert not errors and "Accepted as" in reply
