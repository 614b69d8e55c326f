"""A real HTTP/1.1 receiver on 127.0.0.1 for the webhook tests: records requests, answers as told."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    hang: bool = False  # never answer (until release is set)
    location: str = ""  # a Location header (redirects)


@dataclass
class Receiver:
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    #: decides the answer to each request (default 200 ok)
    answer: Callable[[Received], Answer] = lambda _r: Answer()
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    hanging: int = 0
    keep: bool = True  # False: count requests, keep none (benchmarks)
    count: int = 0
    server: asyncio.Server | None = None
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    def close(self) -> None:
        """Stop listening and drop every open connection: the receiver is down."""
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.transport.abort()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def wait_for(self, count: int, within: float = 30) -> None:
        async with asyncio.timeout(within):
            while self.count < count:
                self.arrived.clear()
                await self.arrived.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                _method, path, _version = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, value = raw.decode().split(":", 1)
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(path, headers, body)
                self.count += 1
                if self.keep:
                    self.requests.append(request)
                self.arrived.set()
                answer = self.answer(request)
                if answer.hang:
                    self.hanging += 1
                    await self.release.wait()
                    return
                location = f"location: {answer.location}\r\n" if answer.location else ""
                head = f"HTTP/1.1 {answer.status} X\r\n{location}content-length: {len(answer.body)}"
                writer.write(f"{head}\r\n\r\n".encode() + answer.body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self.writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def receiver(
    port: int = 0, answer: Callable[[Received], Answer] | None = None
) -> AsyncIterator[Receiver]:
    rec = Receiver()
    if answer is not None:
        rec.answer = answer
    server = rec.server = await asyncio.start_server(rec._serve, "127.0.0.1", port)
    rec.port = server.sockets[0].getsockname()[1]
    try:
        yield rec
    finally:
        rec.release.set()
        rec.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await server.wait_closed()
