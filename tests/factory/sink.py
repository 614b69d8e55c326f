"""The scripted remote server of the bounce factory, and a server that never answers.

``ScriptedSink`` plays every receiving server at once: for each recipient
local part it has a step (answer RCPT with this reply, or accept RCPT and
answer the end of DATA with it), and it accepts and records whatever is sent
to the bounce domain: the DSNs the MTAs under test write. ``mail_reply``
makes it refuse MAIL FROM for everyone (the "TLS required" server). It listens
on many loopback addresses at once (one port, one event loop): the MTAs keep
state per remote IP (see tests/factory/scenarios.py), so each scripted reply
is served on an address of its own.

``SilentServer`` accepts TCP connections and never says a word: the
"timeout" scenario.

Both listen on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiosmtpd.smtp import SMTP

from tests.mta import LOOPBACK, Received, free_port


class Phase(StrEnum):
    RCPT = "rcpt"  # the reply answers RCPT TO
    DATA = "data"  # RCPT is accepted; the reply answers the end of DATA


@dataclass(frozen=True, slots=True)
class Step:
    phase: Phase
    reply: str  # the full reply as sent (multi-line replies joined with CRLF)


@dataclass
class _Handler:
    script: Mapping[str, Step]
    capture_domain: str
    mail_reply: str | None
    received: list[Received] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        if self.mail_reply is not None:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        local, _, domain = address.rpartition("@")
        if domain.lower() != self.capture_domain:
            step = self.script.get(local.lower())
            if step is None:
                return f"550 5.1.1 <{address}>: no script for this recipient (factory bug)"
            if step.phase is Phase.RCPT:
                return step.reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            local, _, domain = rcpt.rpartition("@")
            step = self.script.get(local.lower())
            if domain.lower() != self.capture_domain and step is not None:
                return step.reply  # one recipient per message: its reply is the message's
        raw = envelope.original_content or envelope.content
        with self.cond:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw))
            self.cond.notify_all()
        return "250 2.0.0 Ok: queued"


class ScriptedSink:
    """Answers each recipient as scripted; records what it accepts (the DSNs).

    One event loop in its own thread serves every address of ``hosts`` on one port.
    """

    def __init__(
        self,
        script: Mapping[str, Step],
        *,
        capture_domain: str,
        mail_reply: str | None = None,
        hosts: Sequence[str] = (LOOPBACK,),
    ) -> None:
        self.hosts = tuple(hosts)
        self.port = free_port()  # the same port on every host
        self.handler = _Handler(dict(script), capture_domain.lower(), mail_reply)
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="scripted-sink")

    @property
    def host(self) -> str:
        return self.hosts[0]

    def _protocol(self) -> SMTP:
        return SMTP(
            self.handler,
            hostname="mx.remote.example.org",
            decode_data=False,
            data_size_limit=10 * 1024 * 1024,
            command_call_limit=100_000,  # one MTA may send all its DSNs in one session
            loop=self._loop,
        )

    def start(self) -> ScriptedSink:
        self._thread.start()
        serve = self._loop.create_server(self._protocol, host=list(self.hosts), port=self.port)
        self._server = asyncio.run_coroutine_threadsafe(serve, self._loop).result(30)
        return self

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None

            async def close() -> None:
                server.close()
                await server.wait_closed()

            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self) -> ScriptedSink:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def received(self) -> list[Received]:
        with self.handler.cond:
            return list(self.handler.received)

    def wait_until(self, done: Any, timeout: float) -> list[Received]:
        """Block until ``done(received)`` is true or ``timeout`` passes; return what came."""
        with self.handler.cond:
            self.handler.cond.wait_for(lambda: done(self.handler.received), timeout=timeout)
            return list(self.handler.received)


class SilentServer:
    """Accepts connections on loopback and never answers (until stopped)."""

    def __init__(self, host: str = LOOPBACK) -> None:
        self.host = host
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.port = int(self._sock.getsockname()[1])
        self._held: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="silent-server", daemon=True)

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)

    def start(self) -> SilentServer:
        self._sock.listen(64)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for conn in self._held:
            with contextlib.suppress(OSError):
                conn.close()
        self._sock.close()

    def __enter__(self) -> SilentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    return free_port()
