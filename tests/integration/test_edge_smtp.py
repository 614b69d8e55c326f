"""The SMTP edge under hostile clients (issue 16, items 7 and 9): RFC answers for every
argument shape, no traceback, every log line JSON, and no peer taking every slot."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import StartService
from tests.integration.test_cli import _serve
from tests.integration.test_smtp_abuse import _dialogue
from tests.integration.test_smtp_loop import send
from tests.messages import dsn

# (command, the reply code it must get). The address shapes are those aiosmtpd's parser
# raised IndexError, AttributeError or UnboundLocalError on: "500 Error: (IndexError) ...",
# or a 451 and a traceback once a handler answered its exceptions.
HOSTILE: list[tuple[bytes, bytes]] = [
    (b"EHLO client.example\r\n", b"250"),
    (b"VRFY a@\r\n", b"252"),
    (b"VRFY <\r\n", b"252"),
    (b"VRFY a@[\r\n", b"252"),
    (b"VRFY a@[ \r\n", b"252"),
    (b"VRFY \xff\xfe\x00\r\n", b"252"),
    (b"VRFY\r\n", b"501"),
    (b"EXPN\r\n", b"502"),
    (b"EXPN staff\x00\r\n", b"502"),
    (b"HELP \x00\xff\r\n", b"501"),
    (b"HELP VRFY\r\n", b"250"),
    (b"NOOP \x00\x1b[2J\r\n", b"250"),
    (b"MAIL FROM:<a@>\r\n", b"553"),
    (b"MAIL FROM:<a@[>\r\n", b"553"),
    (b"MAIL FROM:<\r\n", b"553"),
    (b"MAIL FROM:<> SIZE=abc\r\n", b"501"),
    (b"MAIL FROM:<> =x\r\n", b"501"),
    (b"MAIL FROM:<> BODY=\x00\r\n", b"501"),
    (b"MAIL FROM:<> SIZE=99999999999999999999999\r\n", b"552"),
    (b"MAIL FROM:<>\r\n", b"250"),
    (b"RCPT TO:<a@[ >\r\n", b"553"),
    (b"RCPT TO:<\r\n", b"553"),
    (b"RCPT TO:<b@bounces.localhost> X=\x00\r\n", b"555"),
    (b"\x00\x00\r\n", b"500"),
    (b"\xff\xfe garbage\r\n", b"500"),
    (b"RSET\r\n", b"250"),
]


def test_hostile_smtp_gets_rfc_answers_and_every_log_line_is_json(tmp_path: Path) -> None:
    # stdout and stderr in one pipe: every line of either must be JSON.
    proc, smtp_port, api_port = _serve(tmp_path, api_key="k", shutdown_grace="0.5")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{api_port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.1)
        replies = asyncio.run(_dialogue(smtp_port, [line for line, _ in HOSTILE]))
        assert replies[0].startswith(b"220")
        for (line, code), reply in zip(HOSTILE, replies[1:], strict=True):
            assert reply[:3] == code, (line, reply)
            # Every refusal carries an RFC 3463 code, and no exception's text.
            if code[:1] in b"45":
                assert reply[4:5].isdigit() and reply[5:6] == b".", reply
            assert b"Error: (" not in reply
        # After all that the session's owner is still served.
        asyncio.run(send(smtp_port, dsn("after@example.org"), rcpt="b@bounces.localhost"))
        # A broken HTTP request: uvicorn logs a warning through stdlib logging.
        with socket.create_connection(("127.0.0.1", api_port)) as raw:
            raw.sendall(b"\x00\x01 NOT HTTP\r\n\r\n")
            raw.recv(1000)
    finally:
        proc.send_signal(signal.SIGTERM)
        text, _ = proc.communicate(timeout=30)
    records = [json.loads(line) for line in text.splitlines()]  # every line, or this fails
    assert "\x00" not in text and "\x1b" not in text
    assert "Traceback" not in text
    assert not [r for r in records if "exception" in r or r.get("level") == "error"]
    loggers = {r.get("logger") for r in records}
    assert "mail.log" in loggers, loggers  # aiosmtpd's own lines, as JSON
    assert "uvicorn.error" in loggers, loggers
    assert any("\x00" in str(r.get("event")) for r in records)  # escaped, and kept


async def _greeting(
    host: str, port: int, local: str | None = None
) -> tuple[bytes, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(
        host, port, local_addr=(local, 0) if local else None
    )
    return await reader.readline(), writer


async def test_one_peer_cannot_take_every_connection_slot(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url, smtp_max_connections_per_peer=2)
    port = svc.smtp_port
    held = [await _greeting("127.0.0.1", port) for _ in range(2)]
    assert [g for g, _ in held] == [g for g, _ in held if g.startswith(b"220")]
    refused, writer = await _greeting("127.0.0.1", port)
    assert refused.startswith(b"421 4.7.0 ")
    writer.close()
    # Another address is still served: the cap is per peer, not global.
    other, other_writer = await _greeting("127.0.0.1", port, local="127.0.0.2")
    assert other.startswith(b"220")
    other_writer.close()
    # A slot freed by the peer is its own again.
    held.pop()[1].close()
    for _ in range(100):
        again, writer = await _greeting("127.0.0.1", port)
        writer.close()
        if again.startswith(b"220"):
            break
        await asyncio.sleep(0.05)  # the server has not seen the close yet
    assert again.startswith(b"220")
    for _, w in held:
        w.close()
    # The refused connections left no count behind: mail flows from this peer.
    await asyncio.sleep(0.1)
    _, reply = await send(port, dsn("capped@example.org"))
    assert "Accepted as" in reply


async def test_the_per_peer_cap_counts_ipv6_peers_too(
    sqlite_url: str, start_service: StartService
) -> None:
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    svc = await start_service(sqlite_url, smtp_host="::1", smtp_max_connections_per_peer=1)
    first, first_writer = await _greeting("::1", svc.smtp_port)
    assert first.startswith(b"220")
    second, second_writer = await _greeting("::1", svc.smtp_port)
    assert second.startswith(b"421 4.7.0 ")
    for w in (first_writer, second_writer):
        w.close()
