"""The SMTP listener in the service's own event loop, with a clean shutdown.

aiosmtpd's ``Controller`` runs a second loop in a thread; we create the
server in our loop instead, so storage and relay share one loop (async end to
end). On shutdown: stop accepting, let transactions in DATA finish for a
grace period, then tell every remaining client ``421`` and close.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any, AnyStr, cast

import structlog
from aiosmtpd.smtp import SMTP

from returnpath.inbound.envelope import TenantEnvelope
from returnpath.inbound.handler import BounceHandler

log = structlog.get_logger("returnpath.inbound")

_REWRITES = {
    # aiosmtpd's own wording lacks the RFC 3463 enhanced code our peers log.
    "552 Error: Too much mail data": "552 5.3.4 Message too big for system",
    "552 Error: message size exceeds fixed maximum message size": (
        "552 5.3.4 Message size exceeds fixed maximum message size"
    ),
}


def _say(transport: Any, line: bytes) -> bool:
    """Write a last line to a live transport. Duck-typed: uvloop's transports do not
    inherit from asyncio's classes."""
    if transport is None or transport.is_closing():
        return False
    transport.write(line)
    return True


class ReturnpathSMTP(SMTP):
    """aiosmtpd's protocol with our envelope, a connection limit, and enhanced status
    codes on its own size and timeout replies.

    RFC 5321 caps lines at 1,000 octets, but broken bounce generators exceed
    it, and refusing a bounce loses it for good. We accept lines up to 64 KiB
    (the message size limit still bounds the whole message).
    """

    line_length_limit = 64 * 1024

    def __init__(
        self,
        handler: BounceHandler,
        *,
        connections: set[ReturnpathSMTP],
        max_connections: int,
        **kw: Any,
    ) -> None:
        super().__init__(handler, **kw)
        self.connections = connections
        self.max_connections = max_connections
        self.refused = False

    def _create_envelope(self) -> TenantEnvelope:
        # Not private despite its name: aiosmtpd's SMTP reference documents it as the
        # method "subclasses can override to return custom Envelope instances". Were it
        # no longer called, every RCPT would fail on `envelope.tenant` (and every
        # delivery test with it).
        return TenantEnvelope()

    def connection_made(self, transport: Any) -> None:
        # Called a second time on the same connection after STARTTLS: not a new client.
        if self not in self.connections and len(self.connections) >= self.max_connections:
            # Refuse politely before the greeting: the client retries later (RFC 5321 4.3.2).
            transport.write(b"421 4.7.0 Too many connections, try again later\r\n")
            transport.close()
            self.refused = True
            return
        self.connections.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self.refused:
            return  # never started: nothing of aiosmtpd's to tear down
        self.connections.discard(self)
        super().connection_lost(error)

    async def smtp_DATA(self, arg: str) -> None:
        try:
            await super().smtp_DATA(arg)
        except Exception:
            # The end of the data ends the transaction whatever the reply (RFC 5321
            # 4.1.1.4), but aiosmtpd starts a new envelope only when the DATA hook
            # returns: after one that raised (answered by handle_exception), the next
            # MAIL would meet this transaction's sender ("503 nested MAIL command").
            self.envelope = TenantEnvelope()
            raise

    def _timeout_cb(self) -> None:
        # RFC 5321 4.5.3.2: say why before closing an idle session. aiosmtpd has no
        # public way to do that: its `timeout` closes the connection without a word, and
        # no handler hook is called. So we extend its timer callback; the test
        # test_an_idle_client_is_told_421_and_disconnected fails if aiosmtpd renames it.
        _say(self.transport, b"421 4.4.2 Idle timeout, closing connection\r\n")
        super()._timeout_cb()  # type: ignore[no-untyped-call]

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            status = _REWRITES.get(status, status)
        await super().push(status)


class SMTPListener:
    def __init__(
        self,
        handler: BounceHandler,
        host: str,
        port: int,
        *,
        max_message_size: int,
        hostname: str | None = None,
        timeout: float = 300.0,
        max_connections: int = 1000,
        tls_context: ssl.SSLContext | None = None,
        reuse_port: bool = False,
    ) -> None:
        self.handler = handler
        self.host, self.port = host, port
        self.max_message_size = max_message_size
        self.hostname = hostname or socket.getfqdn()
        self.timeout = timeout
        self.max_connections = max_connections
        self.tls_context = tls_context
        self.reuse_port = reuse_port
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[ReturnpathSMTP] = set()

    def _factory(self) -> ReturnpathSMTP:
        return ReturnpathSMTP(
            self.handler,
            connections=self._connections,
            max_connections=self.max_connections,
            data_size_limit=self.max_message_size,
            hostname=self.hostname,
            timeout=self.timeout,
            enable_SMTPUTF8=True,
            ident="returnpath",
            tls_context=self.tls_context,
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._factory, self.host, self.port, reuse_port=self.reuse_port or None
        )
        sock = self._server.sockets[0].getsockname()
        self.port = sock[1]
        log.info("smtp_listening", host=self.host, port=self.port)

    async def stop(self, grace: float) -> None:
        if self._server is None:
            return
        self._server.close()
        deadline = asyncio.get_running_loop().time() + grace
        while self.handler.in_flight and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        for proto in list(self._connections):
            if _say(proto.transport, b"421 4.3.2 Service shutting down, try again later\r\n"):
                cast(asyncio.BaseTransport, proto.transport).close()
        await self._server.wait_closed()
        log.info("smtp_stopped", open_connections=len(self._connections))
