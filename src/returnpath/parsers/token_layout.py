"""The characters of a signed return-path token (version 1): which field sits in which bits.

Only the encoding: packing the fields into base32 and reading them back. What
the MAC covers is ``token_signature``; making, verifying and what each status
means is ``signing``, which explains why the format is as it is.

Layout (version 1)
==================

::

    local part = prefix "+" [ recipient "=" ] head           (<= 64 octets)
    head       = "1" body mac
    body       = base32( flags | key id | issued | [stream] | [recipient] | [message id] )
    mac        = base32( HMAC-SHA256(secret, context | local part before mac)[:65 bits] )

e.g. ``b+ann=example.org=1adaj7csed5muu7x4lwv@bounces.example.com``.

Budget in characters of the local part, prefix ``b`` (base32 carries 5 bits
per character; bits of the body are packed, then zero-padded to a character):

========================  ==========  ====================================
field                     size        notes
========================  ==========  ====================================
prefix ``b`` and ``+``    2 chars     prefix configurable, ``[a-z0-9._-]``
recipient and ``=``       L+1 chars   only in the plain form (below)
version ``1``             1 char      a digit, outside the base32 alphabet
flags                     5 bits      recipient form 2, message id form 2,
                                      stream present 1
key id                    5 bits      varint, 4 bits per 5: ids 0-15; 10
                                      bits to 255, 15 to 4095, 20 to 65535
issued                    20 bits     hours since 2025-01-01 UTC (to 2144)
stream (optional)         4+6n bits   n <= 16 chars of ``[a-z0-9._-]``
recipient as bytes        6+8n bits   UTF-8, when it is not plain-able
recipient as hash         64 bits     truncated SHA-256 of the address
message id as bytes       6+8n bits   rarely fits: ids are long
message id as hash        32 bits     truncated SHA-256 of the id
zero padding              0-4 bits    to a whole base32 character
mac                       13 chars    65 bits of HMAC-SHA256
========================  ==========  ====================================

The fixed cost is 2 + 1 + 6 + 13 = 22 characters; with the usual 32-bit
message-id hash and no stream, a plain recipient of up to 34 characters is
carried in full (41 without a message id, 29 with the stream ``news``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

VERSION = "1"
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

MAX_KEY_ID = 0xFFFF
MAX_STREAM = 16
MAC_CHARS = 13  # 65 bits
RCPT_HASH_BITS = 64
MID_HASH_BITS = 32
LEN_BITS = 6  # byte strings of 1..63 bytes
_HOUR_BITS = 20

_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B32_INDEX = {c: i for i, c in enumerate(_B32)}
_STREAM_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_."
_STREAM_INDEX = {c: i for i, c in enumerate(_STREAM_ALPHABET)}

# Recipient / message-id forms, as stored in the flags.
R_PLAIN, R_BYTES, R_HASH = 0, 1, 2
M_NONE, M_BYTES, M_HASH, M_DROPPED = 0, 1, 2, 3
MID_FORMS = {M_NONE: "none", M_BYTES: "full", M_HASH: "hash", M_DROPPED: "dropped"}

_ATOM = r"[a-z0-9_+=-]+"
_PLAIN_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
#: a host name of two labels or more, in A-labels: the only domains a plain recipient
#: and a return path may have
PLAIN_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
#: what a whole local part we write must be (a bug otherwise, never a sender's input)
DOT_ATOM = re.compile(r"[a-z0-9_+=-]+(?:\.[a-z0-9_+=-]+)*")
HEAD = re.compile(rf"{VERSION}[a-z2-7]{{{MAC_CHARS + 6},}}")


class Malformed(Exception):
    """Shaped like a token of ours, but its fields do not decode."""


@dataclass(frozen=True, slots=True)
class Fields:
    """What a token carries, as laid out (forms as in the flags)."""

    rform: int
    mform: int
    key_id: int
    hours: int
    stream: str | None
    recipient: str | None  # plain or bytes form
    recipient_hash: bytes | None
    message_id: str | None
    message_id_hash: bytes | None


def encode_body(fields: Fields) -> str:
    """The base32 body (between the version digit and the MAC).

    A recipient in plain form is not in the body (it stands before the head);
    a hash form carries ``recipient_hash`` / ``message_id_hash``.
    """
    writer = _BitWriter()
    writer.write(fields.rform, 2)
    writer.write(fields.mform, 2)
    writer.write(1 if fields.stream else 0, 1)
    writer.write_varint(fields.key_id)
    writer.write(fields.hours, _HOUR_BITS)
    if fields.stream:
        writer.write(len(fields.stream) - 1, 4)
        for c in fields.stream:
            writer.write(_STREAM_INDEX[c], 6)
    if fields.rform == R_BYTES and fields.recipient is not None:
        writer.write_bytes(fields.recipient.encode())
    elif fields.rform == R_HASH and fields.recipient_hash is not None:
        writer.write_raw(fields.recipient_hash)
    if fields.mform == M_BYTES and fields.message_id is not None:
        writer.write_bytes(fields.message_id.encode())
    elif fields.mform == M_HASH and fields.message_id_hash is not None:
        writer.write_raw(fields.message_id_hash)
    return writer.text()


def decode_fields(tail: str | None, head: str) -> Fields:
    """The fields of ``[tail "="] head`` (head: version, body, MAC). Raises Malformed."""
    reader = _BitReader(head[1:-MAC_CHARS])
    rform = reader.read(2)
    mform = reader.read(2)
    has_stream = reader.read(1)
    key_id = reader.read_varint()
    hours = reader.read(_HOUR_BITS)
    stream = None
    if has_stream:
        n = reader.read(4) + 1
        chars = []
        for _ in range(n):
            index = reader.read(6)
            if index >= len(_STREAM_ALPHABET):
                raise Malformed("bad stream character")
            chars.append(_STREAM_ALPHABET[index])
        stream = "".join(chars)
    recipient = None
    rhash = None
    if rform == R_PLAIN:
        if tail is None:
            raise Malformed("plain recipient missing")
        recipient = _read_plain(tail)
    elif tail is not None:
        raise Malformed("unexpected text before the token")
    elif rform == R_BYTES:
        recipient = _text(reader.read_bytes())
        if "@" not in recipient:
            raise Malformed("recipient without '@'")
    elif rform == R_HASH:
        rhash = reader.read_raw(RCPT_HASH_BITS)
    else:
        raise Malformed("unknown recipient form")
    message_id = None
    mhash = None
    if mform == M_BYTES:
        message_id = _text(reader.read_bytes())
    elif mform == M_HASH:
        mhash = reader.read_raw(MID_HASH_BITS)
    reader.finish()
    return Fields(rform, mform, key_id, hours, stream, recipient, rhash, message_id, mhash)


def is_plain(recipient: str) -> bool:
    """Whether a (normalised) recipient can stand in the token as ``local=domain``."""
    local, _, dom = recipient.rpartition("@")
    return bool(_PLAIN_LOCAL.fullmatch(local) and PLAIN_DOMAIN.fullmatch(dom))


def plain_tail(recipient: str) -> str:
    """A plain-able recipient as it stands before the head: ``ann=example.org``."""
    return recipient.replace("@", "=")


def check_stream(stream: str | None) -> str | None:
    """The stream as carried (lower case), None for none; ValueError if it cannot be."""
    if stream is None or stream == "":
        return None
    strm = stream.lower()
    if len(strm) > MAX_STREAM or any(c not in _STREAM_INDEX for c in strm):
        raise ValueError(f"stream must be 1-{MAX_STREAM} characters of [a-z0-9._-]: {stream!r}")
    return strm


def hours_since_epoch(now: datetime) -> int:
    """The issue time as carried; ValueError outside what 20 bits of hours can date."""
    hours = int((now - EPOCH).total_seconds() // 3600)
    if not 0 <= hours < 1 << _HOUR_BITS:
        raise ValueError("clock outside 2025-01-01 .. 2144: cannot date a token")
    return hours


def to_base32(value: int, chars: int) -> str:
    return "".join(_B32[(value >> (5 * (chars - 1 - i))) & 31] for i in range(chars))


def _read_plain(tail: str) -> str:
    local, sep, dom = tail.rpartition("=")
    if not sep:
        raise Malformed("plain recipient without '='")
    recipient = f"{local}@{dom}"
    if not is_plain(recipient):
        raise Malformed("plain recipient is not a dot-atom address")
    return recipient


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed("bytes are not UTF-8") from exc


class _BitWriter:
    def __init__(self) -> None:
        self.value = 0
        self.bits = 0

    def write(self, value: int, width: int) -> None:
        assert 0 <= value < 1 << width
        self.value = (self.value << width) | value
        self.bits += width

    def write_varint(self, value: int) -> None:
        groups = [value & 15]
        value >>= 4
        while value:
            groups.append(value & 15)
            value >>= 4
        for i, group in enumerate(reversed(groups)):
            more = 1 if i < len(groups) - 1 else 0
            self.write((more << 4) | group, 5)

    def write_raw(self, data: bytes) -> None:
        self.write(int.from_bytes(data, "big"), 8 * len(data))

    def write_bytes(self, data: bytes) -> None:
        self.write(len(data), LEN_BITS)
        self.write_raw(data)

    def text(self) -> str:
        chars = -(-self.bits // 5)
        return to_base32(self.value << (5 * chars - self.bits), chars)


class _BitReader:
    def __init__(self, text: str) -> None:
        value = 0
        for c in text:
            value = (value << 5) | _B32_INDEX[c]
        self.value = value
        self.total = 5 * len(text)
        self.pos = 0

    def read(self, width: int) -> int:
        if self.pos + width > self.total:
            raise Malformed("token too short")
        self.pos += width
        return (self.value >> (self.total - self.pos)) & ((1 << width) - 1)

    def read_varint(self) -> int:
        value = 0
        for i in range(5):
            symbol = self.read(5)
            group = symbol & 15
            if i == 0 and group == 0 and symbol & 16:
                raise Malformed("non-canonical key id")
            value = (value << 4) | group
            if not symbol & 16:
                if value > MAX_KEY_ID:
                    raise Malformed("key id out of range")
                return value
        raise Malformed("key id too long")

    def read_raw(self, bits: int) -> bytes:
        return self.read(bits).to_bytes(bits // 8, "big")

    def read_bytes(self) -> bytes:
        n = self.read(LEN_BITS)
        if n == 0:
            raise Malformed("empty field")
        return self.read_raw(8 * n)

    def finish(self) -> None:
        rest = self.total - self.pos
        if rest >= 5 or self.value & ((1 << rest) - 1):
            raise Malformed("trailing data after the fields")
