"""The one small interface every bounce family implements, and shared helpers.

Why the ``policy.compat32`` Message tree: measured on the corpus the stdlib
builds it at ~6,600 msg/s against ~750 msg/s for ``policy.default`` and
~3,800 msg/s for flanker, and it never raises on broken MIME (defects are
recorded instead). ``parsers.fastparse`` builds the very same tree about
twice as fast again. Families decode only the parts they need.
"""

from __future__ import annotations

import codecs
import re
from email.header import decode_header, make_header
from typing import Protocol

from returnpath.parsers import (  # none imports base: no cycle
    phrase_index,
    reasons,
    smtp_codes,
)
from returnpath.parsers._types import Msg
from returnpath.parsers.cached_message import DECODED_CTES, lower_name
from returnpath.parsers.heads import token_heads
from returnpath.parsers.model import Finding
from returnpath.parsers.providers import provider_reason  # imports only gates and heads


class Family(Protocol):
    """A bounce family: recognise a message, then extract its findings.

    ``detect`` must be cheap (headers, content type): it runs for every family
    in registry order until one says yes. ``extract`` may return an empty list,
    in which case the next family is tried.
    """

    @property
    def name(self) -> str:
        """Short family name, recorded on every finding (read-only: families may be frozen)."""
        ...

    def detect(self, msg: Msg) -> bool: ...

    def extract(self, msg: Msg) -> list[Finding]: ...


# An address as ``first_address`` reads it: local-part characters, '@', a
# domain that starts and ends with an ASCII letter or digit. Kept as the
# reference the linear scan below must agree with (tests compare them).
_ADDR_RE = re.compile(r"[^\s<>()\"',;:\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?", re.ASCII)
#: the characters no address spans (``_ADDR_RE``'s excluded class; \s is ASCII there)
_NOT_LOCAL = frozenset(" \t\n\r\f\v<>()\"',;:[]")
_DOMAIN_RUN_RE = re.compile(r"[A-Za-z0-9.-]*")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def header_text(msg: Msg, name: str) -> str:
    """A header as readable text: RFC 2047 decoded, never raising on junk.

    Memoised on the message: every family asks for From: and Subject:, and
    ``Message.get`` scans all headers each time.
    """
    memo = msg.__dict__.setdefault("_returnpath_headers", {})
    key = lower_name(name)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _header_text(msg, name)
    return found


def _header_text(msg: Msg, name: str) -> str:
    raw = raw_header(msg, name)
    if raw is None:
        return ""
    raw = decode_8bit(raw)
    if "=?" not in raw:
        return raw.strip()
    try:
        return str(make_header(decode_header(raw))).strip()
    except Exception:  # malformed encoded-words are common in bounces
        return raw.strip()


#: Charsets tried, in order, for raw 8-bit header bytes (RFC 6532 says UTF-8;
#: older MUAs wrote their local charset unannounced; latin-1 never fails).
RAW_HEADER_CHARSETS: tuple[str, ...] = ("utf-8", "cp1252", "latin-1")


def raw_header(msg: Msg, name: str) -> str | None:
    """The first ``name`` header exactly as parsed (8-bit bytes as surrogates), or None.

    ``Message.get`` would wrap a value holding 8-bit bytes in a ``Header`` of
    charset unknown-8bit, whose text has U+FFFD for every such byte.
    """
    raw_get = getattr(msg, "raw_get", None)  # parsers.fastparse.CachedMessage: indexed
    if raw_get is not None:
        value = raw_get(name)
        return value if value is None or isinstance(value, str) else str(value)
    key = lower_name(name)
    for field, value in msg.raw_items():
        if field.lower() == key:
            return value if isinstance(value, str) else str(value)
    return None


def decode_8bit(raw: str) -> str:
    """Raw 8-bit bytes in a header value (surrogate escapes) decoded as text."""
    if raw.isascii():
        return raw
    data = raw.encode("utf-8", "surrogateescape")
    for charset in RAW_HEADER_CHARSETS:
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            continue
    return raw  # not reached: latin-1 decodes anything


def first_address(text: str | None) -> str | None:
    """The first thing in ``text`` that looks like an email address, cleaned.

    What ``_ADDR_RE.search`` finds, in linear time: the regex backtracks
    over every start position of a long run of address characters without
    a usable '@' (a 40 kB From: took seconds). A match never spans a
    character outside the local-part class (``_NOT_LOCAL``), so it lies in
    one piece between such characters: in the first piece with an '@' that
    has a local part before it and an ASCII letter or digit after it, the
    local part is everything up to the *last* such '@' (the regex is greedy)
    and the domain is the run of domain characters after it, trimmed to end
    with a letter or digit. Pieces are found from each '@' outwards, so the
    pieces without one are never looked at.
    """
    if not text or "@" not in text:
        return None
    n = len(text)
    at = text.find("@")
    while at >= 0:
        start = at
        while start > 0 and text[start - 1] not in _NOT_LOCAL:
            start -= 1
        end = at + 1
        while end < n and text[end] not in _NOT_LOCAL:
            end += 1
        # the last '@' of the piece with a local part before it (``piece.rfind("@", 1)``)
        last = text.rfind("@", start + 1, end)
        while last > start:
            if last + 1 < end and text[last + 1] in _ALNUM:
                domain = _DOMAIN_RUN_RE.match(text, last + 1, end).group(0)  # type: ignore[union-attr]
                return clean_address(text[start : last + 1] + domain.rstrip(".-"))
            last = text.rfind("@", start + 1, last)
        at = text.find("@", end)
    return None


def clean_address(addr: str) -> str:
    """Strip the wrapping that MTAs put around addresses (<>, quotes, rfc822;)."""
    addr = addr.strip().strip("<>\"'").strip()
    if addr.lower().startswith("rfc822;"):
        addr = addr[7:].strip().strip("<>")
    return addr.rstrip(".")


#: codecs that decode every ASCII byte string to the same text (stateless, ASCII-based)
_ASCII_CODECS = frozenset(
    {
        "ascii",
        "utf-8",
        "latin-1",
        "cp1250",
        "cp1251",
        "cp1252",
        "cp1253",
        "cp1254",
        "cp1255",
        "cp1256",
        "cp1257",
        "cp1258",
        "koi8-r",
        "koi8-u",
        "euc_jp",
        "euc_kr",
        "gb2312",
        "gbk",
        "gb18030",
        "big5",
        "shift_jis",
        "cp932",
        "cp949",
        "cp950",
    }
    | {f"iso8859-{n}" for n in range(1, 17)}
)
_ASCII_CHARSETS: dict[str, bool] = {}


def _ascii_charset(charset: str) -> bool:
    """Whether ``charset`` decodes ASCII bytes to themselves (memoised by name)."""
    known = _ASCII_CHARSETS.get(charset)
    if known is None:
        try:
            known = codecs.lookup(charset).name in _ASCII_CODECS
        except (LookupError, ValueError, TypeError):
            known = False
        if len(_ASCII_CHARSETS) < 1024:
            _ASCII_CHARSETS[charset] = known
    return known


def payload_text(part: Msg) -> str:
    """A leaf part's body as text, decoding transfer encoding and charset leniently."""
    raw = part.__dict__.get("_payload")
    if type(raw) is str and raw.isascii():
        # what get_payload(decode=True) and .decode(charset) give for ASCII text that
        # needs no transfer decoding in an ASCII-based charset: the text itself
        cte = str(part.get("content-transfer-encoding", "")).lower()
        if cte not in DECODED_CTES and _ascii_charset(part.get_content_charset() or "utf-8"):
            return raw
    payload = part.get_payload(decode=True)
    if payload is None:
        inner = part.get_payload()
        return inner if isinstance(inner, str) else ""
    if not isinstance(payload, bytes):
        return str(payload)
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # unknown charset names are common in the wild
        return payload.decode("utf-8", errors="replace")


_DIAG_TYPE_RE = re.compile(r"^\s*(?:smtp|x-[a-z0-9-]+|x400|unix|mta|local)\s*;\s*", re.I)
_SPACE_RE = re.compile(r"\s+")


def strip_diagnostic_type(value: str | None) -> str | None:
    """``smtp; 550 5.1.1 ...`` → ``550 5.1.1 ...`` (RFC 3464 diagnostic-type prefix)."""
    if not value:
        return None
    value = " ".join(_DIAG_TYPE_RE.sub("", value, count=1).split())  # = \s+ -> " ", stripped
    return value or None


def make_finding(
    family: str,
    recipient: str | None,
    diagnostic: str | None,
    *,
    status: str | None = None,
    smtp_code: str | None = None,
    action: str | None = None,
    reason: str | None = None,
    command: str | None = None,
    diagnostic_type: str | None = None,
    context: str | None = None,
    **extra: str | None,
) -> Finding:
    """One bounce finding, classified from whatever clues the family found.

    Families only *collect* clues; the decision lives in ``parsers.reasons``
    so every MTA's words are judged by the same table. A status that says
    nothing beyond its class (``5.0.0``, as Exim writes) yields to a code
    found in the diagnostic. ``reason`` forces a reason the family knows for
    certain (a provider's own error page). ``context`` is nearby report text
    that may name the SMTP command the remote host refused when the
    diagnostic itself does not.
    """
    # str.split() and the regex \s agree on what is whitespace (Py_UNICODE_ISSPACE):
    # same text as _SPACE_RE.sub(" ", ...).strip(), without the regex engine
    diagnostic = " ".join(diagnostic.split()) if diagnostic else None
    # "Status: 5.1.1 (user unknown)", "Status: 550", junk: keep only a real code
    status = smtp_codes.find_status(status)
    if smtp_codes.is_vague(status):
        status = smtp_codes.find_status(diagnostic) or status
    if not smtp_code:
        smtp_code = smtp_codes.find_reply_code(diagnostic)
    # one scan of the diagnostic's words (parsers/heads.py) serves the command, the
    # provider and the phrase lookups, which would otherwise search it literal by literal
    # (computed when first needed: a family that knows the command and the reason
    # needs none of them)
    low = diagnostic.lower() if diagnostic else ""
    heads: set[str] | None = None
    if command is None:
        heads = token_heads(low)
        command = smtp_codes.find_command(diagnostic, heads) or smtp_codes.find_command(context)
    if not reason and (action or "").lower() not in ("delivered", "relayed", "expanded"):
        if heads is None:
            heads = token_heads(low)
        reason = provider_reason(diagnostic, extra.get("remote_mta"), recipient, heads=heads)
    if reason:
        kind = reasons.kind_for(reason, status, action, smtp_code)
    else:
        # the phrase text is the lower-case diagnostic unless a reply's continuation
        # codes were dropped or it was cut (make_finding collapsed its whitespace)
        text = phrase_index.reason_text(diagnostic, collapsed=True)
        if heads is None or text != low:
            heads = token_heads(text)
        kind, reason = reasons.classify(
            diagnostic, status, smtp_code, action, command, diagnostic_type, text, heads
        )
    return Finding(
        kind=kind,
        reason=reason,
        recipient=recipient,
        status=status,
        smtp_code=smtp_code,
        diagnostic=diagnostic[:1000] if diagnostic else None,
        action=action,
        family=family,
        **extra,
    )
