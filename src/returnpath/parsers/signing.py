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

Pure library: no I/O, no clock except when ``now`` is omitted.
``make_return_path`` raises ``ValueError`` on bad *arguments* (they come from
the sender's own code); ``verify_return_path`` and ``decode_unverified``
never raise on any input (it comes from the Internet): they return a status.

The token's layout, field by field, is in ``token_layout``; what the MAC
covers, in ``token_signature``. Why it is so:

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
* **Recipients are normalised as suppressions are keyed**
  (``parsers.addresses``: local part folded to lower case, Unicode domains as
  IDNA 2008 A-labels): the channel may fold case anyway, and the suppression
  list does. What that module refuses is not a recipient (ValueError).
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
  message-id hint is ignored when the token carries none (``dropped``).
  64 bits: to make one of their own addresses collide with a victim's, an attacker would need us to mail ~2^63 of their addresses.
  The message-id hash is 32 bits: a consistency check, the MAC guards it.
* **Version and key id** let secrets rotate: each tenant secret has an id,
  the newest signs, older ones stay in ``secrets`` (and so verify) during a
  grace period — at least the maximum age plus the longest queue lifetime —
  and are then retired: their tokens answer ``unknown_key``. The version is a
  digit so that a future format is told apart before anything is decoded.
* **Issue time in hours** since 2025-01-01 (20 bits, until 2144): expiry is
  exact to the hour (a token may expire up to an hour early), the maximum
  age is ``MAX_TOKEN_AGE`` (45 days, the one the listener applies and the
  README states), configurable per call. A token dated more than
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
always False for it. ``parsers.verp`` reads the tokens in bounces this
way (its ``signed_decoder``, tried before classic VERP).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from returnpath.parsers.addresses import try_normalise, try_normalise_domain
from returnpath.parsers.token_layout import (
    DOT_ATOM,
    EPOCH,
    HEAD,
    LEN_BITS,
    M_BYTES,
    M_DROPPED,
    M_HASH,
    M_NONE,
    MAC_CHARS,
    MAX_KEY_ID,
    MID_FORMS,
    PLAIN_DOMAIN,
    R_BYTES,
    R_HASH,
    R_PLAIN,
    VERSION,
    Fields,
    Malformed,
    check_stream,
    decode_fields,
    encode_body,
    hours_since_epoch,
    is_plain,
    plain_tail,
)
from returnpath.parsers.token_signature import (
    mac,
    message_id_hash,
    new_secret,
    recipient_hash,
    signed_text,
)

__all__ = [
    "FUTURE_SKEW",
    "MAX_LOCAL_PART",
    "MAX_TOKEN_AGE",
    "Status",
    "Verification",
    "decode_unverified",
    "make_return_path",
    "new_secret",
    "verify_return_path",
]

MAX_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1
MAX_ADDRESS = 254  # RFC 5321 path limit (256) minus the angle brackets
#: How long a token is evidence: bounces arrive within days. The one maximum age: the
#: listener verifies with it (store.verification), a key rotation keeps the old keys this
#: long (store.signing_keys), the README states it. (One-click unsubscribe links, read
#: long after the send, ask for their own: 400 days.)
MAX_TOKEN_AGE = timedelta(days=45)
FUTURE_SKEW = timedelta(hours=2)
_PREFIX = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_MAX_LABEL = 63  # RFC 1035 2.3.4


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
    if not isinstance(key_id, int) or not 0 <= key_id <= MAX_KEY_ID:
        raise ValueError(f"key_id must be an int in 0..{MAX_KEY_ID}")
    dom = _bounce_domain(domain)
    if dom is None:
        raise ValueError(f"not a bounce domain: {domain!r}")
    pfx = prefix.lower()
    if not _PREFIX.fullmatch(pfx):
        raise ValueError(f"prefix must be a dot-atom of [a-z0-9._-]: {prefix!r}")
    rcpt = _recipient(recipient)
    if rcpt is None:
        raise ValueError(f"not an email address: {recipient!r}")
    mid = _normalise_message_id(message_id) if message_id is not None else None
    strm = check_stream(stream)
    hours = hours_since_epoch(_aware(now))

    rcpt_forms = [R_PLAIN if is_plain(rcpt) else R_BYTES, R_HASH]
    mid_forms = [M_BYTES, M_HASH, M_DROPPED] if mid else [M_NONE]
    for rform in rcpt_forms:
        for mform in mid_forms:
            if rform == R_BYTES and len(rcpt.encode()) >= 1 << LEN_BITS:
                continue
            if mform == M_BYTES and mid and len(mid.encode()) >= 1 << LEN_BITS:
                continue
            local = _assemble(secret, dom, pfx, rform, mform, key_id, hours, strm, rcpt, mid)
            if len(local.encode()) <= MAX_LOCAL_PART:
                if not DOT_ATOM.fullmatch(local):  # a bug, never a sender's input
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
    max_age: timedelta = MAX_TOKEN_AGE,
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
        return _result(decoded, Status.UNVERIFIED, "read without verification")
    except Exception as exc:  # defensive
        return Verification(Status.MALFORMED, detail=f"decoding failed: {exc!r}")


# --------------------------------------------------------------------------- internals


@dataclass(frozen=True, slots=True)
class _Parts:
    prefix: str
    tail: str | None  # plain recipient text before the last '=', if any
    head: str  # "1" body mac
    address_domain: str | None


def _result(
    fields: Fields,
    status: Status,
    detail: str,
    *,
    recipient: str | None = None,
    recipient_matches: bool | None = None,
    message_id_matches: bool | None = None,
) -> Verification:
    """The decoded fields as a Verification; ``recipient`` names the hint that matched a hash."""
    return Verification(
        status,
        detail,
        key_id=fields.key_id,
        issued_at=EPOCH + timedelta(hours=fields.hours),
        stream=fields.stream,
        recipient=recipient or fields.recipient,
        recipient_form="hash" if fields.rform == R_HASH else "full",
        recipient_hash=fields.recipient_hash.hex() if fields.recipient_hash else None,
        recipient_matches=recipient_matches,
        message_id=fields.message_id,
        message_id_form=MID_FORMS[fields.mform],
        message_id_hash=fields.message_id_hash.hex() if fields.message_id_hash else None,
        message_id_matches=message_id_matches,
    )


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
    dom = _bounce_domain(domain)
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
    signed = signed_text(parts.tail, parts.head[:-MAC_CHARS])
    expected = mac(secret, dom, parts.prefix, signed)
    if not hmac.compare_digest(expected, parts.head[-MAC_CHARS:]):
        return Verification(Status.TAMPERED, "MAC does not match", key_id=decoded.key_id)

    # From here on the token is ours: its fields are authentic.
    current = _aware(now)
    issued = EPOCH + timedelta(hours=decoded.hours)
    if current - issued > max_age:
        return _result(
            decoded, Status.EXPIRED, f"issued {issued:%Y-%m-%dT%H}Z, older than {max_age}"
        )
    if issued - current > FUTURE_SKEW:
        return _result(decoded, Status.EXPIRED, f"issued {issued:%Y-%m-%dT%H}Z, in the future")

    problems: list[str] = []
    attributed: str | None = None
    rcpt_match: bool | None = None
    if recipient_hint is not None:
        hint = _recipient(recipient_hint)
        if decoded.recipient is not None:
            rcpt_match = hint == decoded.recipient
        elif decoded.recipient_hash is not None:
            rcpt_match = hint is not None and hmac.compare_digest(
                recipient_hash(hint), decoded.recipient_hash
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
            mid_match = hmac.compare_digest(message_id_hash(mid_hint), decoded.message_id_hash)
        if mid_match is False:
            problems.append("message id differs from the token's")
    if problems:
        status, detail = Status.MISMATCH, "; ".join(problems)
    elif decoded.rform == R_HASH and not rcpt_match:
        status, detail = Status.UNATTRIBUTED, "token carries only a hash of the recipient"
    else:
        status, detail = Status.VALID, ""
    return _result(
        decoded,
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
    if not HEAD.fullmatch(head):
        return Verification(Status.NOT_SIGNED, "not a signed return-path token")
    return _Parts(prefix, tail if sep else None, head, address_domain)


def _decode(tail: str | None, head: str) -> Fields | Verification:
    try:
        return decode_fields(tail, head)
    except Malformed as exc:
        return Verification(Status.MALFORMED, str(exc))


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
    """The local part for one choice of forms: prefix, plain recipient, head (body and MAC)."""
    fields = Fields(
        rform,
        mform,
        key_id,
        hours,
        stream,
        recipient if rform == R_BYTES else None,
        recipient_hash(recipient) if rform == R_HASH else None,
        message_id if mform == M_BYTES else None,
        message_id_hash(message_id) if mform == M_HASH and message_id is not None else None,
    )
    tail = plain_tail(recipient) if rform == R_PLAIN else None
    unsigned = VERSION + encode_body(fields)
    signature = mac(secret, domain, prefix, signed_text(tail, unsigned))
    return f"{prefix}+{tail + '=' if tail else ''}{unsigned}{signature}"


def _bounce_domain(domain: str) -> str | None:
    """A return path's domain as signed: a host name in A-labels, labels of 1-63 characters."""
    if not isinstance(domain, str):
        return None
    dom = try_normalise_domain(domain)
    if dom is None or not PLAIN_DOMAIN.fullmatch(dom):
        return None
    return dom if max(map(len, dom.split("."))) <= _MAX_LABEL else None


def _recipient(address: str) -> str | None:
    """A recipient as carried and compared: its suppression key (local part folded), or None."""
    return try_normalise(address) if isinstance(address, str) else None


def _normalise_message_id(message_id: str) -> str:
    mid = message_id.strip()
    if mid.startswith("<") and mid.endswith(">"):
        mid = mid[1:-1].strip()
    return mid


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)
