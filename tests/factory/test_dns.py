"""The factory's tiny DNS server answers the three names as the scenarios need (no socket)."""

from __future__ import annotations

import struct

from tests.factory.dns import NULLMX_NAME, NXDOMAIN_NAME, SERVFAIL_NAME, answer

MX, A = 15, 1


def query(name: str, qtype: int, qid: int = 0x1234) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return (
        struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
        + labels
        + b"\x00"
        + struct.pack("!HH", qtype, 1)
    )


def header(reply: bytes) -> tuple[int, int, int]:
    qid, flags, _qd, ancount = struct.unpack("!HHHH", reply[:8])
    return qid, flags & 0x000F, ancount


def test_an_unknown_domain_is_nxdomain() -> None:
    reply = answer(query(NXDOMAIN_NAME, MX))
    assert reply is not None and header(reply) == (0x1234, 3, 0)


def test_a_null_mx_domain_has_one_mx_of_preference_0_to_the_root() -> None:
    q = query(NULLMX_NAME, MX)
    reply = answer(q)
    assert reply is not None and header(reply) == (0x1234, 0, 1)
    assert reply[len(q) :] == struct.pack("!HHHIHH", 0xC00C, MX, 1, 60, 3, 0) + b"\x00"
    a_reply = answer(query(NULLMX_NAME, A))
    assert a_reply is not None and header(a_reply) == (0x1234, 0, 0)  # no address: NODATA


def test_a_dns_hiccup_is_servfail() -> None:
    reply = answer(query(SERVFAIL_NAME, MX))
    assert reply is not None and header(reply) == (0x1234, 2, 0)


def test_what_is_not_a_query_gets_no_answer() -> None:
    assert answer(b"\x00" * 5) is None
    response = bytearray(query(NXDOMAIN_NAME, MX))
    response[2] |= 0x80  # the QR bit: a response, not a query
    assert answer(bytes(response)) is None
