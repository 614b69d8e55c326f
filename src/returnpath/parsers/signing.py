"""Signed return paths: VERP tokens that carry an HMAC.

The sending side puts ``b+TOKEN@bounces.example.com`` on every message as its
envelope sender (``make_return_path``); whatever comes back to that address
is checked here (``verify_return_path``) with the tenant's secrets. A valid
token proves that *we* sent a message to the recipient it names (or hashes),
recently, from this tenant's bounce domain. Anything else — a flipped
character, a token older than the tenant's maximum age, a retired key, a
token moved to another tenant's domain, a bounce that names a different
recipient than the token — is reported with a status that is never ``valid``,
so the finding is recorded as unverified and can never suppress on its own
(DESIGN.md, "Suppression policy").

Pure library: stdlib only, no I/O, no clock except when ``now`` is omitted.
``make_return_path`` raises ``ValueError`` on bad *arguments* (they come from
the sender's own code); ``verify_return_path`` and ``decode_unverified``
never raise on any input (it comes from the Internet): they return a status.

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

Why each choice
===============

* **Case-insensitive alphabet.** MTAs and mailbox providers lower-case (or
  upper-case) local parts in bounces. Everything we write is lower case
  (base32 ``a-z2-7``, lowercase recipient, digits); the verifier folds the
  token to lower case before anything else, and the MAC is computed over the
  lower-case text, so ``B+ANN=EXAMPLE.ORG=1AAA…`` verifies.
* **Recipient in plain VERP form first.** ``ann=example.org`` costs one
  character per character (base32 costs 1.6), is readable in logs, and is
  what operators expect. It stands *before* the head and is followed by ``=``
  so that the classic VERP decoder (``parsers.verp.decode_verp``, which reads
  ``local=domain`` from the last ``=``) sees the head as a "domain" without
  a dot and declines, instead of attributing the bounce to a made-up address.
  The plain form is used only when the folded address is a dot-atom of
  ``[a-z0-9._+=-]`` at an ASCII (IDNA A-label) domain; other recipients
  (quotes, ``&``, UTF-8 local parts) go into the body as UTF-8 bytes.
* **Recipients are folded to lower case** (local part and domain; Unicode
  domains as IDNA A-labels), exactly as ``store.addresses`` keys suppressions:
  the channel may fold case anyway, and the suppression list does.
* **Honest degradation, never truncation.** A long recipient plus a message
  id cannot always fit in 64 octets. ``make_return_path`` tries, in order:
  recipient in full + message id in full; recipient in full + message id
  hash; recipient in full + message id dropped (flagged as *dropped*, not
  silently absent); recipient hash + message id in full / hash / dropped.
  The recipient comes first because attributing a bounce that names nobody
  is the token's job; the message id is a consistency check. What was
  carried, and how, is reported (``recipient_form``, ``message_id_form``).
* **A hash is a check, not an attribution on its own.** When only the
  recipient's hash is carried, the bounce's own recipient
  (``recipient_hint``) must hash to it (then it is the attributed
  ``recipient``); with no hint the status is ``unattributed``, with a
  different one ``mismatch``. Any hint that disagrees with what the token
  carries — full or hashed, recipient or message id — gives ``mismatch``; a
  message-id hint is ignored when the token carries none (``dropped``). 64 bits: to make one of their own addresses collide with a
  victim's, an attacker would need us to mail ~2^63 of their addresses.
  The message-id hash is 32 bits: a consistency check, the MAC guards it.
* **Version and key id** let secrets rotate: each tenant secret has an id,
  the newest signs, older ones stay in ``secrets`` (and so verify) during a
  grace period — at least the maximum age plus the longest queue lifetime —
  and are then retired: their tokens answer ``unknown_key``. The version is a
  digit so that a future format is told apart before anything is decoded.
* **Issue time in hours** since 2025-01-01 (20 bits, until 2144): expiry is
  exact to the hour (a token may expire up to an hour early), the default
  maximum age is 30 days, configurable per call. A token dated more than
  ``FUTURE_SKEW`` ahead of the verifier's clock is outside its validity
  window too and reports ``expired``.
* **What the MAC covers:** a context string with the version, the tenant's
  bounce domain and the prefix, then every character of the local part
  before the MAC. A token presented on another tenant's domain, or with the
  prefix changed, fails as ``tampered`` even if the two tenants shared a
  secret. 65 bits (13 characters) of HMAC-SHA256, compared in constant time
  (``hmac.compare_digest``): an online forger needs ~2^64 bounces.

What a valid token does not prove
=================================

That the bounce is genuine. Whoever saw the original message (its recipient,
their mailbox provider) knows its return path and can send a bounce to it
until it expires; the token binds that bounce to *that* recipient, so the
worst such a replay can do is suppress the address the replayer received at.
The plain-form recipient is readable by anyone who sees the return path (the
recipient's own address, in their own message's headers).

Unverified attribution
======================

``decode_unverified`` reads what a token carries without a secret (status
``unverified``, or ``not_signed``/``malformed``). Anyone can write such a
token, so a caller that attributes a finding to the recipient read this way
must record that finding as *unverified*; ``Verification.verified`` is
always False for it. ``verp_decoder`` adapts it to
``parsers.verp.register_decoder``, e.g.
``verp.register_decoder("signed-v1", signing.verp_decoder)``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as _secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from returnpath.parsers.verp import Token

__all__ = [
    "DEFAULT_MAX_AGE",
    "FUTURE_SKEW",
    "MAX_LOCAL_PART",
    "Status",
    "Verification",
    "decode_unverified",
    "make_return_path",
    "new_secret",
    "verify_return_path",
    "verp_decoder",
]

MAX_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1
MAX_ADDRESS = 254  # RFC 5321 path limit (256) minus the angle brackets
DEFAULT_MAX_AGE = timedelta(days=30)
FUTURE_SKEW = timedelta(hours=2)
VERSION = "1"
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B32_INDEX = {c: i for i, c in enumerate(_B32)}
_STREAM_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_."
_STREAM_INDEX = {c: i for i, c in enumerate(_STREAM_ALPHABET)}
_MAX_STREAM = 16
_MAX_KEY_ID = 0xFFFF
_HOUR_BITS = 20
_MAC_CHARS = 13  # 65 bits
_RCPT_HASH_BITS = 64
_MID_HASH_BITS = 32
_LEN_BITS = 6  # byte strings of 1..63 bytes

# Recipient / message-id forms, as stored in the flags.
_R_PLAIN, _R_BYTES, _R_HASH = 0, 1, 2
_M_NONE, _M_BYTES, _M_HASH, _M_DROPPED = 0, 1, 2, 3

_ATOM = r"[a-z0-9_+=-]+"
_PLAIN_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_PLAIN_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_PREFIX = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_DOT_ATOM = re.compile(r"[a-z0-9_+=-]+(?:\.[a-z0-9_+=-]+)*")
_HEAD = re.compile(rf"{VERSION}[a-z2-7]{{{_MAC_CHARS + 6},}}")


class Status(StrEnum):
    """What verification concluded. Only ``valid`` is trusted."""

    VALID = "valid"
    TAMPERED = "tampered"  # MAC wrong: altered, forged, other domain or prefix
    EXPIRED = "expired"  # MAC right, issued outside [now - max_age, now + skew]
    UNKNOWN_KEY = "unknown_key"  # key id not (or no longer) among the secrets
    MALFORMED = "malformed"  # looks like a signed token but does not decode
    NOT_SIGNED = "not_signed"  # not this format (classic VERP, empty, junk)
    MISMATCH = "mismatch"  # MAC right, but a hint disagrees with the token
    UNATTRIBUTED = "unattributed"  # MAC right, recipient hashed and no hint
    UNVERIFIED = "unverified"  # decode_unverified: read, MAC not checked


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of ``verify_return_path`` or ``decode_unverified``.

    Carried fields (``stream``, ``recipient``, ``message_id``, ``issued_at``)
    are filled when the MAC checked out (``valid``, ``expired``, ``mismatch``,
    ``unattributed``) and by ``decode_unverified``; for ``tampered`` and
    ``unknown_key`` only ``key_id`` (as read, for logs) is set.

    ``recipient`` is the carried address, or — when only its hash is carried —
    the hint that matched the hash. ``*_form`` says what the token carried:
    ``full``, ``hash``, ``none`` (not given) or ``dropped`` (given, no room).
    ``*_matches`` is None when no hint was given or nothing can be compared.
    """

    status: Status
    detail: str = ""
    key_id: int | None = None
    issued_at: datetime | None = None
    stream: str | None = None
    recipient: str | None = None
    recipient_form: str | None = None
    recipient_hash: str | None = None  # hex, when only the hash is carried
    recipient_matches: bool | None = None
    message_id: str | None = None
    message_id_form: str | None = None
    message_id_hash: str | None = None  # hex, when only the hash is carried
    message_id_matches: bool | None = None

    @property
    def verified(self) -> bool:
        return self.status is Status.VALID


def new_secret() -> bytes:
    """A fresh 32-byte tenant secret."""
    return _secrets.token_bytes(32)


def make_return_path(
    *,
    secret: bytes,
    key_id: int,
    domain: str,
    recipient: str,
    message_id: str | None = None,
    stream: str | None = None,
    prefix: str = "b",
    now: datetime | None = None,
) -> str:
    """``prefix+TOKEN@domain`` for one message to one recipient.

    The local part is always at most 64 octets; what did not fit is hashed
    or dropped as described in the module docstring. ``now`` defaults to the
    clock; a naive datetime is taken as UTC. Raises ValueError on bad
    arguments, or when prefix, stream and key id leave no room at all.
    """
    if not isinstance(secret, bytes) or len(secret) < 16:
        raise ValueError("secret must be at least 16 bytes")
    if not isinstance(key_id, int) or not 0 <= key_id <= _MAX_KEY_ID:
        raise ValueError(f"key_id must be an int in 0..{_MAX_KEY_ID}")
    dom = _normalise_domain(domain)
    if dom is None:
        raise ValueError(f"not a bounce domain: {domain!r}")
    pfx = prefix.lower()
    if not _PREFIX.fullmatch(pfx):
        raise ValueError(f"prefix must be a dot-atom of [a-z0-9._-]: {prefix!r}")
    rcpt = _normalise_address(recipient)
    if rcpt is None:
        raise ValueError(f"not an email address: {recipient!r}")
    mid = _normalise_message_id(message_id) if message_id is not None else None
    strm = _check_stream(stream)
    hours = _hours(now)

    rcpt_forms = [_R_PLAIN if _plain(rcpt) else _R_BYTES, _R_HASH]
    mid_forms = [_M_BYTES, _M_HASH, _M_DROPPED] if mid else [_M_NONE]
    for rform in rcpt_forms:
        for mform in mid_forms:
            if rform == _R_BYTES and len(rcpt.encode()) >= 1 << _LEN_BITS:
                continue
            if mform == _M_BYTES and mid and len(mid.encode()) >= 1 << _LEN_BITS:
                continue
            local = _assemble(secret, dom, pfx, rform, mform, key_id, hours, strm, rcpt, mid)
            if len(local.encode()) <= MAX_LOCAL_PART:
                if not _DOT_ATOM.fullmatch(local):  # a bug, never a sender's input
                    raise RuntimeError(f"return path is not a dot-atom: {local!r}")
                address = f"{local}@{dom}"
                if len(address) > MAX_ADDRESS:
                    raise ValueError("domain too long for a return path")
                return address
    raise ValueError("prefix, stream and key id leave no room for a token in 64 octets")


def verify_return_path(
    address_or_token: str,
    *,
    secrets: Mapping[int, bytes],
    domain: str,
    max_age: timedelta = DEFAULT_MAX_AGE,
    now: datetime | None = None,
    recipient_hint: str | None = None,
    message_id_hint: str | None = None,
    prefix: str = "b",
) -> Verification:
    """Check a return path (``b+TOKEN@domain``) or a bare token (``TOKEN``).

    ``domain`` is the tenant bounce domain the bounce arrived on; ``prefix``
    is used for a bare token (an address brings its own). An address on
    another domain is ``tampered``. ``recipient_hint`` / ``message_id_hint``
    are what the bounce itself says; a hint that disagrees with the token
    gives ``mismatch``, and a token carrying only the recipient's hash needs a
    matching ``recipient_hint`` to be ``valid`` (else ``unattributed``).
    Only ``valid`` is trusted (``Verification.verified``). Never raises.
    """
    try:
        return _verify(
            address_or_token,
            secrets=secrets,
            domain=domain,
            max_age=max_age,
            now=now,
            recipient_hint=recipient_hint,
            message_id_hint=message_id_hint,
            prefix=prefix,
        )
    except Exception as exc:  # defensive: a bug here must not lose a bounce
        return Verification(Status.MALFORMED, detail=f"verification failed: {exc!r}")


def decode_unverified(address_or_token: str) -> Verification:
    """What a token carries, read without any secret. Status ``unverified``.

    Anyone can write such a token: a finding attributed through it must be
    recorded as unverified. ``not_signed`` / ``malformed`` otherwise; never
    raises.
    """
    try:
        parts = _split(address_or_token, "b")
        if isinstance(parts, Verification):
            return parts
        decoded = _decode(parts.tail, parts.head)
        if isinstance(decoded, Verification):
            return decoded
        return decoded.result(Status.UNVERIFIED, "read without verification")
    except Exception as exc:  # defensive
        return Verification(Status.MALFORMED, detail=f"decoding failed: {exc!r}")


def verp_decoder(token: str) -> Token | None:
    """A ``parsers.verp`` decoder: signed tokens read *unverified* (see above)."""
    result = decode_unverified(token)
    if result.status is Status.NOT_SIGNED:
        return None
    return Token(recipient=result.recipient, message_id=result.message_id, scheme="signed-v1")


# --------------------------------------------------------------------------- internals


@dataclass(frozen=True, slots=True)
class _Parts:
    prefix: str
    tail: str | None  # plain recipient text before the last '=', if any
    head: str  # "1" body mac
    address_domain: str | None


@dataclass(frozen=True, slots=True)
class _Decoded:
    rform: int
    mform: int
    key_id: int
    hours: int
    stream: str | None
    recipient: str | None  # plain or bytes form
    recipient_hash: bytes | None
    message_id: str | None
    message_id_hash: bytes | None

    def result(
        self,
        status: Status,
        detail: str,
        *,
        recipient: str | None = None,
        recipient_matches: bool | None = None,
        message_id_matches: bool | None = None,
    ) -> Verification:
        """As a Verification; ``recipient`` names the hint that matched a hash."""
        return Verification(
            status,
            detail,
            key_id=self.key_id,
            issued_at=EPOCH + timedelta(hours=self.hours),
            stream=self.stream,
            recipient=recipient or self.recipient,
            recipient_form="hash" if self.rform == _R_HASH else "full",
            recipient_hash=self.recipient_hash.hex() if self.recipient_hash else None,
            recipient_matches=recipient_matches,
            message_id=self.message_id,
            message_id_form=_MID_FORMS[self.mform],
            message_id_hash=self.message_id_hash.hex() if self.message_id_hash else None,
            message_id_matches=message_id_matches,
        )


_MID_FORMS = {_M_NONE: "none", _M_BYTES: "full", _M_HASH: "hash", _M_DROPPED: "dropped"}


class _Malformed(Exception):
    pass


def _verify(
    address_or_token: str,
    *,
    secrets: Mapping[int, bytes],
    domain: str,
    max_age: timedelta,
    now: datetime | None,
    recipient_hint: str | None,
    message_id_hint: str | None,
    prefix: str,
) -> Verification:
    parts = _split(address_or_token, prefix)
    if isinstance(parts, Verification):
        return parts
    decoded = _decode(parts.tail, parts.head)
    if isinstance(decoded, Verification):
        return decoded
    dom = _normalise_domain(domain)
    if dom is None:
        return Verification(Status.TAMPERED, "no valid bounce domain to verify against")
    if parts.address_domain is not None and parts.address_domain != dom:
        return Verification(
            Status.TAMPERED, f"token on {parts.address_domain}, not {dom}", key_id=decoded.key_id
        )
    secret = secrets.get(decoded.key_id)
    if not secret:
        return Verification(
            Status.UNKNOWN_KEY, f"key {decoded.key_id} unknown or retired", key_id=decoded.key_id
        )
    signed = _signed_text(parts.tail, parts.head[:-_MAC_CHARS])
    expected = _mac(secret, dom, parts.prefix, signed)
    if not hmac.compare_digest(expected, parts.head[-_MAC_CHARS:]):
        return Verification(Status.TAMPERED, "MAC does not match", key_id=decoded.key_id)

    # From here on the token is ours: its fields are authentic.
    current = _aware(now)
    issued = EPOCH + timedelta(hours=decoded.hours)
    if current - issued > max_age:
        return decoded.result(Status.EXPIRED, f"issued {issued:%Y-%m-%dT%H}Z, older than {max_age}")
    if issued - current > FUTURE_SKEW:
        return decoded.result(Status.EXPIRED, f"issued {issued:%Y-%m-%dT%H}Z, in the future")

    problems: list[str] = []
    attributed: str | None = None
    rcpt_match: bool | None = None
    if recipient_hint is not None:
        hint = _normalise_address(recipient_hint)
        if decoded.recipient is not None:
            rcpt_match = hint == decoded.recipient
        elif decoded.recipient_hash is not None:
            rcpt_match = hint is not None and hmac.compare_digest(
                _recipient_hash(hint), decoded.recipient_hash
            )
            attributed = hint if rcpt_match else None
        if rcpt_match is False:
            problems.append("recipient differs from the token's")
    mid_match: bool | None = None
    if message_id_hint is not None:
        mid_hint = _normalise_message_id(message_id_hint)
        if decoded.message_id is not None:
            mid_match = mid_hint == decoded.message_id
        elif decoded.message_id_hash is not None:
            mid_match = hmac.compare_digest(_message_id_hash(mid_hint), decoded.message_id_hash)
        if mid_match is False:
            problems.append("message id differs from the token's")
    if problems:
        status, detail = Status.MISMATCH, "; ".join(problems)
    elif decoded.rform == _R_HASH and not rcpt_match:
        status, detail = Status.UNATTRIBUTED, "token carries only a hash of the recipient"
    else:
        status, detail = Status.VALID, ""
    return decoded.result(
        status,
        detail,
        recipient=attributed,
        recipient_matches=rcpt_match,
        message_id_matches=mid_match,
    )


def _split(address_or_token: str, default_prefix: str) -> _Parts | Verification:
    if not isinstance(address_or_token, str):
        return Verification(Status.NOT_SIGNED, "not a string")
    text = address_or_token.strip().strip("<>").strip()
    if not text.isascii():
        return Verification(Status.NOT_SIGNED, "token is not ASCII")
    text = text.lower()
    address_domain: str | None = None
    prefix = default_prefix.lower()
    if "@" in text:
        local, _, address_domain = text.rpartition("@")
        address_domain = address_domain.rstrip(".")
        if "+" not in local:
            return Verification(Status.NOT_SIGNED, "no '+' token in the local part")
        prefix, _, text = local.partition("+")
    if len(text) > MAX_LOCAL_PART:
        return Verification(Status.NOT_SIGNED, "longer than a local part")
    tail, sep, head = text.rpartition("=")
    if not _HEAD.fullmatch(head):
        return Verification(Status.NOT_SIGNED, "not a signed return-path token")
    return _Parts(prefix, tail if sep else None, head, address_domain)


def _decode(tail: str | None, head: str) -> _Decoded | Verification:
    try:
        return _decode_fields(tail, head)
    except _Malformed as exc:
        return Verification(Status.MALFORMED, str(exc))


def _decode_fields(tail: str | None, head: str) -> _Decoded:
    reader = _BitReader(head[1:-_MAC_CHARS])
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
                raise _Malformed("bad stream character")
            chars.append(_STREAM_ALPHABET[index])
        stream = "".join(chars)
    recipient = None
    rhash = None
    if rform == _R_PLAIN:
        if tail is None:
            raise _Malformed("plain recipient missing")
        recipient = _read_plain(tail)
    elif tail is not None:
        raise _Malformed("unexpected text before the token")
    elif rform == _R_BYTES:
        recipient = _text(reader.read_bytes())
        if "@" not in recipient:
            raise _Malformed("recipient without '@'")
    elif rform == _R_HASH:
        rhash = reader.read_raw(_RCPT_HASH_BITS)
    else:
        raise _Malformed("unknown recipient form")
    message_id = None
    mhash = None
    if mform == _M_BYTES:
        message_id = _text(reader.read_bytes())
    elif mform == _M_HASH:
        mhash = reader.read_raw(_MID_HASH_BITS)
    reader.finish()
    return _Decoded(rform, mform, key_id, hours, stream, recipient, rhash, message_id, mhash)


def _read_plain(tail: str) -> str:
    local, sep, dom = tail.rpartition("=")
    if not sep:
        raise _Malformed("plain recipient without '='")
    recipient = f"{local}@{dom}"
    if not _plain(recipient):
        raise _Malformed("plain recipient is not a dot-atom address")
    return recipient


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Malformed("bytes are not UTF-8") from exc


def _assemble(
    secret: bytes,
    domain: str,
    prefix: str,
    rform: int,
    mform: int,
    key_id: int,
    hours: int,
    stream: str | None,
    recipient: str,
    message_id: str | None,
) -> str:
    writer = _BitWriter()
    writer.write(rform, 2)
    writer.write(mform, 2)
    writer.write(1 if stream else 0, 1)
    writer.write_varint(key_id)
    writer.write(hours, _HOUR_BITS)
    if stream:
        writer.write(len(stream) - 1, 4)
        for c in stream:
            writer.write(_STREAM_INDEX[c], 6)
    if rform == _R_BYTES:
        writer.write_bytes(recipient.encode())
    elif rform == _R_HASH:
        writer.write_raw(_recipient_hash(recipient))
    if message_id is not None:
        if mform == _M_BYTES:
            writer.write_bytes(message_id.encode())
        elif mform == _M_HASH:
            writer.write_raw(_message_id_hash(message_id))
    body = writer.text()
    tail = recipient.replace("@", "=") if rform == _R_PLAIN else None
    unsigned = VERSION + body
    mac = _mac(secret, domain, prefix, _signed_text(tail, unsigned))
    return f"{prefix}+{tail + '=' if tail else ''}{unsigned}{mac}"


def _signed_text(tail: str | None, unsigned_head: str) -> str:
    """The token's characters before the MAC: ``[recipient "="] "1" body``."""
    return f"{tail}={unsigned_head}" if tail is not None else unsigned_head


def _mac(secret: bytes, domain: str, prefix: str, signed: str) -> str:
    context = f"returnpath-verp-v{VERSION}\0{domain}\0{prefix}\0{signed}".encode()
    digest = hmac.new(secret, context, hashlib.sha256).digest()
    value = int.from_bytes(digest[:9], "big") >> (72 - 5 * _MAC_CHARS)
    return _to_base32(value, _MAC_CHARS)


def _recipient_hash(recipient: str) -> bytes:
    digest = hashlib.sha256(b"returnpath-rcpt\0" + recipient.encode()).digest()
    return digest[: _RCPT_HASH_BITS // 8]


def _message_id_hash(message_id: str) -> bytes:
    data = message_id.encode("utf-8", "surrogatepass")  # hints come from the Internet
    digest = hashlib.sha256(b"returnpath-mid\0" + data).digest()
    return digest[: _MID_HASH_BITS // 8]


def _plain(recipient: str) -> bool:
    local, _, dom = recipient.rpartition("@")
    return bool(_PLAIN_LOCAL.fullmatch(local) and _PLAIN_DOMAIN.fullmatch(dom))


def _normalise_domain(domain: str) -> str | None:
    if not isinstance(domain, str):
        return None
    dom = domain.strip().rstrip(".").lower()
    try:
        dom = dom.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return dom if _PLAIN_DOMAIN.fullmatch(dom) else None


def _normalise_address(address: str) -> str | None:
    """As ``store.addresses.normalise_address`` (folded local part), or None.

    Except that a ``mailto:`` prefix is *not* stripped: a return path's
    recipient is the address we are about to send to, never a URI, and
    ``MAILTO:@example.org`` is a (quotable) local part plus a domain, not a
    link to an empty one. The store still folds such a string to its own key
    when it records a suppression.
    """
    if not isinstance(address, str):
        return None
    addr = address.strip().strip("<>").strip()
    try:
        addr.encode()
    except UnicodeEncodeError:  # lone surrogates
        return None
    local, sep, domain = addr.rpartition("@")
    if not sep:
        return None
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        local = local[1:-1]
    domain = domain.strip().rstrip(".").lower()
    if not local or not domain or any(c.isspace() or c == "\0" for c in local + domain):
        return None
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        if not domain.isascii():
            return None
    return f"{local.lower()}@{domain}"


def _normalise_message_id(message_id: str) -> str:
    mid = message_id.strip()
    if mid.startswith("<") and mid.endswith(">"):
        mid = mid[1:-1].strip()
    return mid


def _check_stream(stream: str | None) -> str | None:
    if stream is None or stream == "":
        return None
    strm = stream.lower()
    if len(strm) > _MAX_STREAM or any(c not in _STREAM_INDEX for c in strm):
        raise ValueError(f"stream must be 1-{_MAX_STREAM} characters of [a-z0-9._-]: {stream!r}")
    return strm


def _hours(now: datetime | None) -> int:
    hours = int((_aware(now) - EPOCH).total_seconds() // 3600)
    if not 0 <= hours < 1 << _HOUR_BITS:
        raise ValueError("clock outside 2025-01-01 .. 2144: cannot date a token")
    return hours


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _to_base32(value: int, chars: int) -> str:
    return "".join(_B32[(value >> (5 * (chars - 1 - i))) & 31] for i in range(chars))


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
        self.write(len(data), _LEN_BITS)
        self.write_raw(data)

    def text(self) -> str:
        chars = -(-self.bits // 5)
        return _to_base32(self.value << (5 * chars - self.bits), chars)


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
            raise _Malformed("token too short")
        self.pos += width
        return (self.value >> (self.total - self.pos)) & ((1 << width) - 1)

    def read_varint(self) -> int:
        value = 0
        for i in range(5):
            symbol = self.read(5)
            group = symbol & 15
            if i == 0 and group == 0 and symbol & 16:
                raise _Malformed("non-canonical key id")
            value = (value << 4) | group
            if not symbol & 16:
                if value > _MAX_KEY_ID:
                    raise _Malformed("key id out of range")
                return value
        raise _Malformed("key id too long")

    def read_raw(self, bits: int) -> bytes:
        return self.read(bits).to_bytes(bits // 8, "big")

    def read_bytes(self) -> bytes:
        n = self.read(_LEN_BITS)
        if n == 0:
            raise _Malformed("empty field")
        return self.read_raw(8 * n)

    def finish(self) -> None:
        rest = self.total - self.pos
        if rest >= 5 or self.value & ((1 << rest) - 1):
            raise _Malformed("trailing data after the fields")
