"""The listener's DATA reader (``inbound.server.read_data``) against aiosmtpd's own.

Two servers on real loopback sockets, aiosmtpd's ``SMTP`` and the same class with
returnpath's DATA, get the same sessions: generated bodies (dots at line starts and
ends, empty lines, bare CR and LF, lines past the limit, bodies past the size limit),
sent in random pieces with pauses between them, and with the next command in the same
packet as the end of the data (pipelining). Both must answer the same replies and
hand the handler the same bytes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from returnpath.inbound.server import ReturnpathSMTP

SIZE_LIMIT = 100_000  # above one long line: one refusal per body (552 first when both)
LINE_LIMIT = ReturnpathSMTP.line_length_limit


class Recorder:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.bodies.append(envelope.original_content or b"")
        return "250 OK"


class Reference(SMTP):
    line_length_limit = LINE_LIMIT


class Ours(Reference):
    async def smtp_DATA(self, arg: str) -> None:
        await ReturnpathSMTP._data(self, arg)  # type: ignore[arg-type]


async def _serve(cls: type[SMTP], recorder: Recorder) -> tuple[asyncio.Server, int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: cls(recorder, data_size_limit=SIZE_LIMIT, enable_SMTPUTF8=True),
        "127.0.0.1",
        0,
    )
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def servers() -> AsyncIterator[list[tuple[int, Recorder]]]:
    started = []
    for cls in (Reference, Ours):
        recorder = Recorder()
        server, port = await _serve(cls, recorder)
        started.append((server, port, recorder))
    yield [(port, recorder) for _, port, recorder in started]
    for server, _, _ in started:
        server.close()
        await server.wait_closed()


async def _session(port: int, body: bytes, pieces: list[int], pipelined: bool) -> list[bytes]:
    """Replies to DATA's body and to the command after it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await reader.readline()
        writer.write(b"EHLO client.example\r\n")
        while not (await reader.readline()).startswith(b"250 "):
            pass
        for command in (b"MAIL FROM:<>\r\n", b"RCPT TO:<b@bounces.example>\r\n", b"DATA\r\n"):
            writer.write(command)
            await reader.readline()
        wire = body + (b"NOOP\r\n" if pipelined else b"")
        at = 0
        for size in pieces:
            writer.write(wire[at : at + size])
            await writer.drain()
            at += size
            await asyncio.sleep(0)
        writer.write(wire[at:])
        replies = [await asyncio.wait_for(reader.readline(), 10)]
        if not pipelined:
            writer.write(b"NOOP\r\n")
        replies.append(await asyncio.wait_for(reader.readline(), 10))
        writer.write(b"QUIT\r\n")
        await reader.readline()
        return [r.split(b" ", 1)[0] for r in replies]
    finally:
        writer.close()


# a line of one dot would end the data: the client stuffs it to ".." (RFC 5321 4.5.2)
LINES = [b"", b"..", b"...", b"a.", b".a", b"a", b"x" * 80, b"a\rb", b"a\nb", b"\n.", b".\n",
         b"\r", b"end.", b". .", b"\x00\xff"]  # fmt: skip


def _body(rng: random.Random) -> bytes:
    lines = [rng.choice(LINES) for _ in range(rng.randint(0, 30))]
    shape = rng.random()
    if shape < 0.06:
        lines.insert(rng.randint(0, len(lines)), b"y" * (LINE_LIMIT + rng.randint(-3, 3)))
    elif shape < 0.12:
        lines += [b"z" * 998] * rng.randint(98, 101)  # about the size limit
    return b"".join(line + b"\r\n" for line in lines) + b".\r\n"


async def test_read_data_answers_and_keeps_what_aiosmtpd_does(
    servers: list[tuple[int, Recorder]],
) -> None:
    rng = random.Random(5321)
    (ref_port, ref), (our_port, ours) = servers
    seen: set[bytes] = set()
    for _ in range(160):
        body = _body(rng)
        pieces = sorted(rng.sample(range(1, len(body)), min(len(body) - 1, rng.randint(0, 6))))
        steps = [b - a for a, b in zip([0, *pieces], pieces, strict=False)]
        pipelined = rng.random() < 0.5
        expected = await _session(ref_port, body, steps, pipelined)
        got = await _session(our_port, body, steps, pipelined)
        assert got == expected, body[:200]
        assert ours.bodies == ref.bodies, body[:200]
        seen.add(expected[0])
    # the generator reached both refusals, not only the 250s
    assert seen == {b"250", b"500", b"552"}


async def test_an_empty_body_and_a_one_line_body(servers: list[tuple[int, Recorder]]) -> None:
    for port, recorder in servers:
        assert await _session(port, b".\r\n", [], pipelined=True) == [b"250", b"250"]
        assert await _session(port, b"only\r\n.\r\n", [1, 1, 1, 1, 1, 1], False) == [b"250", b"250"]
        assert recorder.bodies == [b"", b"only\r\n"]
