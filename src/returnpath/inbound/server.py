"""The SMTP listener in the service's own event loop, with a clean shutdown.

aiosmtpd's ``Controller`` runs a second loop in a thread; we create the
server in our loop instead, so storage and relay share one loop (async end to
end). On shutdown: stop accepting, let transactions in DATA finish for a
grace period, then tell every remaining client ``421`` and close.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections import Counter
from typing import Any, AnyStr, cast

import structlog
from aiosmtpd.smtp import MISSING, SMTP, syntax

from returnpath.inbound.envelope import TenantEnvelope
from returnpath.inbound.handler import BounceHandler

log = structlog.get_logger("returnpath.inbound")

# A path in its everyday shape (RFC 5321 4.1.2: a Dot-string local part at a domain of
# letter-digit-hyphen labels), then the parameters. aiosmtpd parses every path with the
# stdlib's RFC 5322 header parser, and defines a typing.Protocol class on each call:
# together about a sixth of the listener's CPU per message. For this shape the parser's
# answer is the path itself; tests/integration/test_edge_smtp.py compares the two on
# generated paths. Anything else (quoted, source-routed, literal, odd) takes the parser.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
PLAIN_PATH = re.compile(
    rf"<({_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})*)>(?:[ \t]+([!-'*-~][\t -~]*))?[ \t]*\Z"
)

_REWRITES = {
    # aiosmtpd's own wording lacks the RFC 3463 enhanced code our peers log.
    "552 Error: Too much mail data": "552 5.3.4 Message too big for system",
    "552 Error: message size exceeds fixed maximum message size": (
        "552 5.3.4 Message size exceeds fixed maximum message size"
    ),
}


# RFC 3463 codes for aiosmtpd's own refusals, which carry none ("501 Syntax: ...",
# "502 EXPN not implemented", "500 Error: command ... not recognized").
_ENHANCED = {
    "500": "5.5.2",  # syntax error, command unrecognised
    "501": "5.5.4",  # invalid command arguments
    "502": "5.5.1",  # command not implemented
    "503": "5.5.1",  # bad sequence of commands
    "504": "5.5.4",  # parameter not implemented
    "550": "5.0.0",
    "553": "5.1.3",  # bad address syntax
    "555": "5.5.4",  # MAIL/RCPT parameters not recognised
}


def _with_enhanced_code(status: str) -> str:
    """``status`` with an RFC 3463 code after the reply code when it has none."""
    if status[3:4] != " " or status[4:5].isdigit():
        return status
    code = _ENHANCED.get(status[:3])
    return f"{status[:3]} {code} {status[4:]}" if code else status


def _peer_ip(transport: Any) -> str:
    """The client's IP address (the port differs per connection). An IPv6 address
    counts as it is: a peer spreading over its /64 is bounded by the global cap."""
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else str(peer)


def _say(transport: Any, line: bytes) -> bool:
    """Write a last line to a live transport. Duck-typed: uvloop's transports do not
    inherit from asyncio's classes."""
    if transport is None or transport.is_closing():
        return False
    transport.write(line)
    return True


END_OF_LINE_DOT = b".\r\n"


async def read_data(
    reader: asyncio.StreamReader, *, size_limit: int | None, line_limit: int
) -> bytes | str:
    """The body of one DATA, up to its ``CRLF.CRLF``, dot-unstuffed; or the refusal.

    Reads up to each ``.CRLF`` instead of each line: a body's lines rarely end
    in a dot, so a 4 KB DSN takes a handful of reads instead of one per line,
    and the search runs in C. A ``.CRLF`` is the end when it starts a line. As
    in aiosmtpd (RFC 5321 4.2.5), a body over ``size_limit`` or with a line over
    ``line_limit`` octets is read to its end, not kept, and refused after it:
    ``552``, ``500`` (when both hold, ``552``, where aiosmtpd says whichever it met
    first).
    """
    data = bytearray()
    total = 0  # octets read, the end's ".CRLF" included
    tail = b""  # the last octets read, to see whether a ".CRLF" starts a line
    too_much = False
    while True:
        try:
            chunk = await reader.readuntil(END_OF_LINE_DOT)
            complete = True
        except asyncio.LimitOverrunError as exc:  # no ".CRLF" within the reader's limit
            chunk = await reader.read(exc.consumed)
            complete = False
        total += len(chunk)
        if complete:
            before = (tail + chunk)[-5:-3]
            if total == 3 or before == b"\r\n":
                if not too_much:
                    data += chunk
                break
        tail = (tail + chunk)[-4:]
        if too_much:
            continue
        data += chunk
        if size_limit and total > size_limit + 3:
            too_much = True
            data = bytearray()
    if too_much or (size_limit and total - 3 > size_limit):
        return "552 Error: Too much mail data"
    del data[-3:]
    if data.startswith(b"."):
        del data[0]
    body = bytes(data).replace(b"\r\n.", b"\r\n")
    if len(body) + 2 > line_limit and any(
        len(line) + 2 > line_limit for line in body.split(b"\r\n")
    ):
        return "500 Line too long (see RFC5321 4.5.3.1.6)"
    return body


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
        per_peer: Counter[str],
        max_per_peer: int,
        **kw: Any,
    ) -> None:
        super().__init__(handler, **kw)
        self.connections = connections
        self.max_connections = max_connections
        self.per_peer = per_peer
        self.max_per_peer = max_per_peer
        self.peer_ip = ""
        self.refused = False

    def _create_envelope(self) -> TenantEnvelope:
        # Not private despite its name: aiosmtpd's SMTP reference documents it as the
        # method "subclasses can override to return custom Envelope instances". Were it
        # no longer called, every RCPT would fail on `envelope.tenant` (and every
        # delivery test with it).
        return TenantEnvelope()

    def connection_made(self, transport: Any) -> None:
        # Called a second time on the same connection after STARTTLS: not a new client.
        if self not in self.connections:
            ip = _peer_ip(transport)
            if len(self.connections) >= self.max_connections:
                self._refuse(transport, b"421 4.7.0 Too many connections, try again later\r\n")
                return
            if self.per_peer[ip] >= self.max_per_peer:
                # One address must not take every slot from the others (issue 16, item 9).
                self._refuse(
                    transport, b"421 4.7.0 Too many connections from your address, try later\r\n"
                )
                return
            self.peer_ip = ip
            self.per_peer[ip] += 1
            self.connections.add(self)
        super().connection_made(transport)

    def _refuse(self, transport: Any, line: bytes) -> None:
        # Refuse politely before the greeting: the client retries later (RFC 5321 4.3.2).
        transport.write(line)
        transport.close()
        self.refused = True

    def connection_lost(self, error: Exception | None) -> None:
        if self.refused:
            return  # never started: nothing of aiosmtpd's to tear down
        if self in self.connections:
            self.connections.discard(self)
            left = self.per_peer[self.peer_ip] - 1
            if left > 0:
                self.per_peer[self.peer_ip] = left
            else:
                del self.per_peer[self.peer_ip]
        super().connection_lost(error)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd's parser (email._header_value_parser) raises IndexError on "a@",
        # AttributeError on "a@[", UnboundLocalError on "a@[ " where aiosmtpd
        # expects only HeaderParseError: the command then ended in handle_exception
        # (a traceback, and a 451 for MAIL or RCPT that can never succeed). Any
        # failure to parse is what aiosmtpd's None means: a malformed address, which
        # MAIL, RCPT and VRFY answer 5xx. Not public, but the one place all three
        # commands parse; test_edge_smtp's address shapes fail if it is renamed.
        if arg.startswith("<>"):  # the null reverse-path of every bounce; the parser's answer
            return "<>", arg[2:]
        plain = PLAIN_PATH.match(arg)
        if plain is not None and not (
            self.local_part_limit and plain[1].index("@") > self.local_part_limit
        ):
            return plain[1], plain[2] or ""
        try:
            return super()._getaddr(arg)
        except Exception:
            return None, None

    @syntax("VRFY <address>")
    async def smtp_VRFY(self, arg: str | None) -> None:
        """RFC 5321 3.5.3: a server that does not verify answers 252 (we never tell
        who exists: a bounce processor has no mailboxes to disclose). Whatever the
        argument's shape: it is never parsed, so it cannot fail."""
        if await self.check_auth_needed("VRFY"):
            return
        if not arg or not arg.strip():
            await self.push("501 5.5.4 Syntax: VRFY <address>")
            return
        await self.push("252 2.1.5 Cannot VRFY user, but will accept message and attempt delivery")

    async def smtp_EXPN(self, arg: str | None) -> None:
        await self.push("502 5.5.1 EXPN not implemented")

    async def smtp_DATA(self, arg: str) -> None:
        try:
            await self._data(arg)
        except Exception:
            # The end of the data ends the transaction whatever the reply (RFC 5321
            # 4.1.1.4), but aiosmtpd starts a new envelope only when the DATA hook
            # returns: after one that raised (answered by handle_exception), the next
            # MAIL would meet this transaction's sender ("503 nested MAIL command").
            self.envelope = TenantEnvelope()
            raise

    async def _data(self, arg: str) -> None:
        """aiosmtpd's DATA with the body read by ``read_data``, in one piece.

        aiosmtpd reads the body line by line (about 60 reads, debug-log calls and
        copies for a 4 KB DSN): the largest single cost of its protocol per message
        (bench/results/NOTES.md). The checks, replies and hook calls are aiosmtpd's
        own, in its order; ``tests/integration/test_smtp_data.py`` holds the replies
        and bodies to aiosmtpd's for the same sessions, so a change on either side
        fails there. ``_call_handler_hook`` and ``_set_post_data_state`` are its
        private names; every delivery test fails if they change.
        """
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            body = await read_data(
                self._reader, size_limit=self.data_size_limit, line_limit=self.line_length_limit
            )
        except asyncio.CancelledError:
            log.info("connection_lost_during_data")
            self._writer.close()
            raise
        if isinstance(body, str):
            await self.push(body)
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        self.envelope.content = body
        self.envelope.original_content = body
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)

    def _timeout_cb(self) -> None:
        # RFC 5321 4.5.3.2: say why before closing an idle session. aiosmtpd has no
        # public way to do that: its `timeout` closes the connection without a word, and
        # no handler hook is called. So we extend its timer callback; the test
        # test_an_idle_client_is_told_421_and_disconnected fails if aiosmtpd renames it.
        _say(self.transport, b"421 4.4.2 Idle timeout, closing connection\r\n")
        super()._timeout_cb()  # type: ignore[no-untyped-call]

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            status = _with_enhanced_code(_REWRITES.get(status, status))
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
        max_connections_per_peer: int = 20,
        tls_context: ssl.SSLContext | None = None,
        reuse_port: bool = False,
    ) -> None:
        self.handler = handler
        self.host, self.port = host, port
        self.max_message_size = max_message_size
        self.hostname = hostname or socket.getfqdn()
        self.timeout = timeout
        self.max_connections = max_connections
        self.max_per_peer = max_connections_per_peer
        self.tls_context = tls_context
        self.reuse_port = reuse_port
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[ReturnpathSMTP] = set()
        self._per_peer: Counter[str] = Counter()

    def _factory(self) -> ReturnpathSMTP:
        return ReturnpathSMTP(
            self.handler,
            connections=self._connections,
            max_connections=self.max_connections,
            per_peer=self._per_peer,
            max_per_peer=self.max_per_peer,
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
