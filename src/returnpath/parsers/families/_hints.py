"""Shared signals for the complaint, auto-reply and unsubscribe families.

These three families must each say "not mine" to a delivery failure, so the
markers of a bounce live here once, as tables. They are deliberately broad:
a bounce that slips past them would be recorded as a complaint or a vacation
reply and never suppress a dead address, while an auto-reply wrongly refused
here merely falls through to the bounce families (which ignore it).

Also here: finding the original message a report carries, because ARF
reports, forwarded complaints and return-path token lookup all need it.
"""

from __future__ import annotations

import contextlib
import re
from email.header import decode_header, make_header
from email.message import Message
from itertools import islice

from returnpath.parsers import base as _base
from returnpath.parsers._types import Msg
from returnpath.parsers.base import decode_8bit, raw_header
from returnpath.parsers.fastparse import parsed_text

# Charsets tried, in order, for raw 8-bit header bytes: see parsers.base.
RAW_HEADER_CHARSETS: tuple[str, ...] = _base.RAW_HEADER_CHARSETS

# Sender local parts that only ever send delivery reports (never a human, never
# an auto-responder of a mailbox): RFC 5321 postmaster, the sendmail/qmail/
# Exchange daemon names.
BOUNCE_SENDER_LOCALS: frozenset[str] = frozenset(
    {
        "mailer-daemon",
        "mailerdaemon",
        "mailer_daemon",
        "postmaster",
        "mail-daemon",
        "maildaemon",
        "root",
        "mdaemon",
        "mail.delivery.system",
        "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e",
    }
)

# Display names used by daemons that write from an ordinary-looking address.
BOUNCE_SENDER_NAMES: re.Pattern[str] = re.compile(
    r"mail\s*delivery\s*(?:sub)?system|mailer[-_ ]?daemon|postmaster|"
    r"mail\s*administrator|delivery\s*status\s*notification",
    re.IGNORECASE,
)

# Subject lines of delivery reports, in the languages MTAs localise them to.
# Anchored loosely: providers prefix them ("[SPAM]", "Fwd:").
BOUNCE_SUBJECTS: re.Pattern[str] = re.compile(
    r"undeliver|undelivered|not\s+delivered|delivery\s+(?:status|failure|failed|"
    r"notification|problem|report|has\s+failed|incomplete)|failure\s+notice|"
    r"returned\s+mail|returned\s+to\s+sender|mail\s+delivery\s+failed|"
    r"delivery\s+(?:to\s+the\s+following|failure)|could\s+not\s+be\s+delivered|"
    r"warning:\s+message|message\s+(?:not\s+delivered|delayed|blocked|rejected)|"
    r"nondeliverable|non[- ]?delivery|mail\s+failure|delayed\s+mail|"
    r"unzustellbar|nicht\s+zustellbar|non\s+remis|non\s+distribuable|"
    r"no\s+entregado|non\s+recapitabile|niet\s+bezorgd|"
    r"rejected:|bounced?\s+(?:mail|message)|mail\s+system\s+error|"
    r"配信不能|配送エラー|退信|退回|未送达|недоставленное|не\s+доставлено",
    re.IGNORECASE,
)

# Content types that only delivery and feedback reports use.
REPORT_PART_TYPES: frozenset[str] = frozenset(
    {"message/delivery-status", "message/global-delivery-status", "message/feedback-report"}
)

# Headers whose mere presence marks a delivery report (Exim, Postfix, qmail).
BOUNCE_HEADERS: tuple[str, ...] = ("X-Failed-Recipients", "X-Postfix-Queue-ID-Bounce")

# Parts that carry only the original's header block ("text/rfc822-header" is
# a misspelling some FBLs write).
HEADER_PART_TYPES: frozenset[str] = frozenset(
    {"text/rfc822-headers", "text/rfc822-header", "text/global-headers"}
)

# How many MIME parts a signal scan looks at: reports put their structure in
# the first few parts; a hostile message with thousands must not slow us down.
MAX_PARTS = 64


# Address scanning in two linear steps: split on characters no address
# contains, then check the pieces holding an '@'. A single regex such as
# ``[^\s<>]+@[a-z0-9.-]+`` backtracks quadratically on a long run of address
# characters without an '@' (a 50 kB header line took seconds).
_NOT_IN_ADDRESS = re.compile(r"[\s<>()\"',;:\[\]]+")
_DOMAIN_START = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*", re.ASCII)


def addresses_in(text: str | None) -> list[str]:
    """Every address-looking ``local@domain`` in ``text``, in order, cleaned."""
    if not text or "@" not in text:
        return []
    found = []
    for piece in _NOT_IN_ADDRESS.split(text):
        local, at, rest = piece.partition("@")
        if not at or not local:
            continue
        domain = _DOMAIN_START.match(rest)
        if domain is None:
            continue
        host = domain.group(0).rstrip(".-")
        if host:
            found.append(f"{local}@{host}")
    return found


def first_address(text: str | None) -> str | None:
    """The first address in ``text``, or None (linear-time ``base.first_address``)."""
    if not text or "@" not in text:
        return None
    for piece in _NOT_IN_ADDRESS.split(text):
        if "@" in piece:
            found = addresses_in(piece)
            if found:
                return found[0]
    return None


def header_text(msg: Msg, name: str) -> str:
    """A header as readable text: raw 8-bit bytes and RFC 2047 words decoded.

    ``parsers.base.header_text`` turns raw 8-bit bytes (UTF-8 subjects of
    RFC 6532 mail, Latin-1 of old clients) into U+FFFD, which would blind the
    multilingual subject tables here; this reads the stored raw value instead.
    Never raises; memoised per message.
    """
    memo = _memo(msg)
    key = ("header", name.lower())
    found = memo.get(key)
    if found is None:
        found = memo[key] = _header_text(msg, name)
    return found  # type: ignore[return-value]


def _header_text(msg: Msg, name: str) -> str:
    raw = raw_header(msg, name)
    if raw is None:
        return ""
    raw = " ".join(decode_8bit(raw).split())  # unfold
    if "=?" in raw:
        with contextlib.suppress(Exception):  # malformed encoded-words are common
            raw = str(make_header(decode_header(raw)))
    return raw.strip()


def leaf_text(part: Msg, limit: int) -> str:
    """The first ``limit`` characters (about) of a leaf part, decoded leniently.

    Slices the bytes before decoding the charset so that a 50 MB attachment
    costs one transfer decoding, not a 50 MB string as well.
    """
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        inner = part.get_payload()
        return inner[:limit] if isinstance(inner, str) else ""
    charset = str(part.get_content_charset() or "utf-8")
    try:
        return payload[: limit * 4].decode(charset, errors="replace")[:limit]
    except (LookupError, ValueError):  # unknown charset names are common in the wild
        return payload[: limit * 4].decode("utf-8", errors="replace")[:limit]


def _memo(msg: Msg) -> dict[object, object]:
    """Per-message memo of the helpers below (the message is never changed here)."""
    memo = msg.__dict__.get("_returnpath_hints")
    if memo is None:
        memo = msg.__dict__["_returnpath_hints"] = {}
    return memo


def parts(msg: Msg, limit: int = MAX_PARTS) -> list[Msg]:
    """The message and its sub-parts, breadth unlimited but count capped.

    ``msg.walk()`` order (depth first, into attached messages too); the walk
    is done once per message, as every family asks for it.
    """
    if limit > MAX_PARTS:
        return _walk(msg, limit)
    memo = _memo(msg)
    walked = memo.get("parts")
    if walked is None:
        walked = memo["parts"] = _walk(msg, MAX_PARTS)
    return walked[:limit] if limit < MAX_PARTS else walked  # type: ignore[index,return-value]


def _walk(msg: Msg, limit: int) -> list[Msg]:
    """``list(islice(msg.walk(), limit))`` without a generator per part."""
    out: list[Msg] = []
    stack = [msg]
    while stack and len(out) < limit:
        part = stack.pop()
        out.append(part)
        if part.is_multipart():
            payload = part.get_payload()
            subparts = [p for p in payload if isinstance(p, Message)]
            if len(subparts) != len(payload):
                return list(islice(msg.walk(), limit))  # let the stdlib walk (and fail) its way
            stack.extend(reversed(subparts))
    return out


def sender_local(msg: Msg) -> str:
    """Lower-case local part of From:, or "" when there is none."""
    addr = first_address(header_text(msg, "From"))
    if not addr:
        return ""
    return addr.rsplit("@", 1)[0].lower()


def is_delivery_report(msg: Msg, *, by_subject: bool = True) -> bool:
    """True when ``msg`` looks like a bounce/DSN rather than a person's mail.

    A DSN also carries ``Auto-Submitted: auto-replied`` (RFC 3834 asks for it),
    so the auto-reply and unsubscribe families ask this first. ``by_subject``
    False skips the subject table: "Automatic reply: Your delivery status"
    quotes *our* subject after the responder's prefix.
    """
    ctype = msg.get_content_type()
    if ctype == "multipart/report":
        return True
    if any(msg.get(h) is not None for h in BOUNCE_HEADERS):
        return True
    if sender_local(msg) in BOUNCE_SENDER_LOCALS:
        return True
    if BOUNCE_SENDER_NAMES.search(header_text(msg, "From")):
        return True
    if by_subject and BOUNCE_SUBJECTS.search(header_text(msg, "Subject")):
        return True
    return any(p.get_content_type() in REPORT_PART_TYPES for p in parts(msg))


def attached_originals(msg: Msg, limit: int = MAX_PARTS) -> list[Msg]:
    """The messages a report carries: ``message/rfc822`` or ``text/rfc822-headers``.

    Returned in document order. A ``message/rfc822`` part that was wrongly
    transfer-encoded (base64 happens) is decoded and parsed; a headers-only
    part becomes a Message with an empty body.
    """
    if limit > MAX_PARTS:
        return [o for _, o in _originals(parts(msg, limit))]
    memo = _memo(msg)
    found = memo.get("originals")
    if found is None:
        found = memo["originals"] = _originals(parts(msg))
    return [o for n, o in found if n < limit]  # type: ignore[attr-defined]


def _originals(walked: list[Msg]) -> list[tuple[int, Msg]]:
    """``(index in the walk, original)`` for the parts that carry one."""
    found: list[tuple[int, Msg]] = []
    for n, part in enumerate(walked):
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found.append((n, inner[0]))
            else:
                parsed = _parse_text(part)
                if parsed is not None:
                    found.append((n, parsed))
        elif ctype in HEADER_PART_TYPES:
            parsed = _parse_text(part)
            if parsed is not None:
                found.append((n, parsed))
    return found


def _parse_text(part: Msg) -> Msg | None:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes) or not raw.strip():
        return None
    # message_from_bytes(raw.lstrip()), shared with mime.original_message when the texts agree
    return parsed_text(part, raw.lstrip().decode("ascii", "surrogateescape"))
