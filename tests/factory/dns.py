"""A tiny DNS server on loopback for the factory's DNS scenarios (no network needed).

It answers three names and nothing else (RFC 1035 wire format, UDP):

* ``nx.test``       NXDOMAIN (RCODE 3): the domain does not exist.
* ``nullmx.test``   ``MX 0 .``, the RFC 7505 null MX: the domain accepts no mail.
* ``servfail.test`` SERVFAIL (RCODE 2): a resolver failure, temporary by nature.

Every other name is NXDOMAIN. The MTAs are pointed at it by a private
/etc/resolv.conf bind-mounted in their own mount namespace
(tests/factory/mtas.py), so the machine's resolver is never touched.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

DNS_HOST = "127.0.0.153"
NXDOMAIN_NAME = "nx.test"
NULLMX_NAME = "nullmx.test"
SERVFAIL_NAME = "servfail.test"
RESOLV_CONF = f"nameserver {DNS_HOST}\noptions timeout:1 attempts:2\n"

_MX = 15
_NOERROR, _SERVFAIL, _NXDOMAIN = 0, 2, 3


def _question(packet: bytes) -> tuple[str, int, int] | None:
    """(name, qtype, offset after the question) of a query, or None."""
    labels, at = [], 12
    while at < len(packet):
        size = packet[at]
        at += 1
        if size == 0:
            break
        if size > 63 or at + size > len(packet):
            return None
        labels.append(packet[at : at + size].decode("ascii", "replace").lower())
        at += size
    if at + 4 > len(packet):
        return None
    qtype = struct.unpack("!H", packet[at : at + 2])[0]
    return ".".join(labels), qtype, at + 4


def answer(packet: bytes) -> bytes | None:
    """The reply to one query packet (None for what is not a query)."""
    if len(packet) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    parsed = _question(packet)
    if parsed is None:
        return None
    name, qtype, end = parsed
    rcode, answers = _NXDOMAIN, b""
    if name == SERVFAIL_NAME:
        rcode = _SERVFAIL
    elif name == NULLMX_NAME:
        rcode = _NOERROR  # NODATA for anything but MX
        if qtype == _MX:
            # pointer to the question's name, MX IN, TTL 60, RDATA: preference 0, root name
            answers = struct.pack("!HHHIHH", 0xC00C, _MX, 1, 60, 3, 0) + b"\x00"
    count = 1 if answers else 0
    header = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | rcode, 1, count, 0, 0)
    return header + packet[12:end] + answers


class DnsServer:
    """Serves ``answer`` on DNS_HOST:53/udp in a thread."""

    def __init__(self, host: str = DNS_HOST, port: int = 53) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.2)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="factory-dns", daemon=True)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                packet, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = answer(packet)
            if reply is not None:
                with contextlib.suppress(OSError):
                    self._sock.sendto(reply, peer)

    def start(self) -> DnsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._sock.close()

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
