"""The one home of what the parsers ask of a MIME message: its headers as text,
the addresses in them, its parts, where the report text, the delivery-status
fields and the returned original live.

Why these exist instead of ``msg.walk()`` everywhere: a bounce carries the
*original* message as an attachment, and that message has its own headers,
addresses and text. Every family must read the bounce's own parts and never
mistake the returned message for the report, so ``typed_parts`` stops at
``message/rfc822`` boundaries (``all_parts`` walks into them, for the families
that look for the original). Texts are capped: a 50 MB bounce whose report is
in the first kilobytes must not cost a 50 MB decode.

Every family asks the same questions of the same message, so each answer is
memoised, in one dict per message (``_cache``), dropped by ``parsers.parse``
when it is done with the tree.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from itertools import islice

from returnpath.parsers._types import Msg
from returnpath.parsers.cached_message import DECODED_CTES, lower_name
from returnpath.parsers.fastparse import message_from_string, parsed_text
from returnpath.parsers.gates import gate_text

#: the largest amount of one text part we ever look at
TEXT_CAP = 256 * 1024

DSN_TYPES = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/x-delivery-status",  # seen from old Notes/Domino gateways
    }
)
ORIGINAL_TYPES = frozenset({"message/rfc822", "message/global", "message/partial"})
#: parts that carry only the original's header block: RFC 3462's text/rfc822-headers,
#: RFC 6533's message/global-headers, and "text/rfc822-header", a misspelling some
#: feedback loops write
HEADER_TYPES = frozenset({"text/rfc822-headers", "message/global-headers", "text/rfc822-header"})

#: How many MIME parts ``all_parts`` looks at: reports put their structure in the
#: first few parts; a hostile message with thousands must not slow us down.
MAX_PARTS = 64

#: the one memo per message (``parsers.parse`` drops it when done)
MEMO = "_returnpath_cache"


def _cache(msg: Msg) -> dict[str, object]:
    """Per-message memo: every family asks the same questions of the same message.

    Stored on the Message object itself so that it lives exactly as long as
    the message; keys are the helper names below.
    """
    memo = msg.__dict__.get(MEMO)
    if memo is None:
        memo = {}
        msg.__dict__[MEMO] = memo
    return memo


def _headers(msg: Msg) -> dict[str, str]:
    """The memo's header texts, by lower-case name."""
    memo = _cache(msg)
    found = memo.get("headers")
    if found is None:
        found = memo["headers"] = {}
    return found  # type: ignore[return-value]


# -- headers -------------------------------------------------------------------

#: Charsets tried, in order, for raw 8-bit header bytes (RFC 6532 says UTF-8;
#: older MUAs wrote their local charset unannounced; latin-1 never fails).
RAW_HEADER_CHARSETS: tuple[str, ...] = ("utf-8", "cp1252", "latin-1")


def header_text(msg: Msg, name: str) -> str:
    """A header as readable text: RFC 2047 decoded, never raising on junk.

    Folded lines are kept as written (the Report's ``subject`` shows them so).
    Memoised on the message: every family asks for From: and Subject:, and
    ``Message.get`` scans all headers each time.
    """
    headers = _headers(msg)
    key = lower_name(name)
    found = headers.get(key)
    if found is None:
        found = headers[key] = _header_text(msg, name)
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


def clean_address(addr: str) -> str:
    """Strip the wrapping that MTAs put around addresses (<>, quotes, rfc822;)."""
    addr = addr.strip().strip("<>\"'").strip()
    if addr.lower().startswith("rfc822;"):
        addr = addr[7:].strip().strip("<>")
    return addr.rstrip(".")


# -- addresses -----------------------------------------------------------------

#: the characters no address spans (besides any whitespace): an address is a
#: run of other characters holding exactly one '@'
_NOT_IN_ADDRESS = frozenset("<>()\"',;:[]")
_DOMAIN_RUN_RE = re.compile(r"[A-Za-z0-9.-]*")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _splits(char: str) -> bool:
    return char in _NOT_IN_ADDRESS or char.isspace()


def _address_at(text: str, at: int) -> tuple[str | None, int]:
    """The address around the '@' at ``at``, if any, and where its piece ends.

    A piece is a run of characters no address excludes; it is an address when
    it holds exactly one '@' with a local part before it and a domain after it
    that starts with an ASCII letter or digit (the domain is the run of domain
    characters, trimmed of trailing dots and hyphens). ``foo@@bar.com`` and
    ``a@b@c.org`` are no addresses: an unquoted '@' cannot be in a local part.
    """
    n = len(text)
    start = at
    while start > 0 and not _splits(text[start - 1]):
        start -= 1
    end = at + 1
    while end < n and not _splits(text[end]):
        end += 1
    if start < at and text.find("@", at + 1, end) < 0 and text[at + 1 : at + 2] in _ALNUM:
        domain = _DOMAIN_RUN_RE.match(text, at + 1, end).group(0)  # type: ignore[union-attr]
        return text[start : at + 1] + domain.rstrip(".-"), end
    return None, end


def first_address(text: str | None) -> str | None:
    """The first address in ``text`` (see ``_address_at``), or None.

    Linear: pieces are found from each '@' outwards, never by a regex such as
    ``[^\\s<>]+@[a-z0-9.-]+``, which backtracks over every start position of a
    long run of address characters without a usable '@' (a 40 kB From: took
    seconds). The search starts at the first '@' of each piece: a piece holds
    at most one address.
    """
    if not text or "@" not in text:
        return None
    at = text.find("@")
    while at >= 0:
        found, end = _address_at(text, at)
        if found is not None:
            return found
        at = text.find("@", end)
    return None


def addresses_in(text: str | None) -> list[str]:
    """Every address in ``text``, in order (the first is ``first_address``'s)."""
    if not text or "@" not in text:
        return []
    out: list[str] = []
    at = text.find("@")
    while at >= 0:
        found, end = _address_at(text, at)
        if found is not None:
            out.append(found)
        at = text.find("@", end)
    return out


# -- parts and their text ------------------------------------------------------

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
    # The stored payload, read directly: get_payload() has no public way to say "the
    # text as stored, undecoded" without its interpreted decoding path, which this
    # shortcut exists to skip (about 1,300 calls per corpus round). The stdlib keeps it
    # in Message._payload on 3.11-3.13; tests/parsers/test_fast_patterns.py holds
    # payload_text to get_payload(decode=True) on every sample, so a change fails there.
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


def all_parts(msg: Msg, limit: int = MAX_PARTS) -> list[Msg]:
    """The message and its sub-parts, breadth unlimited but count capped.

    ``msg.walk()`` order (depth first, into attached messages too); the walk
    is done once per message, as every family asks for it.
    """
    if limit > MAX_PARTS:
        return _walk(msg, limit)
    memo = _cache(msg)
    walked = memo.get("walk")
    if walked is None:
        walked = memo["walk"] = _walk(msg, MAX_PARTS)
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


_TAG_RE = re.compile(r"<[^>]{0,2000}>")
_WS_RE = re.compile(r"[ \t]+")  # what collapse_blanks does (tests compare)
_ENTITY = {"&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'"}
_ENTITY_RE = re.compile("|".join(map(re.escape, _ENTITY)))
_BLOCK_TAG_RE = re.compile(r"<\s*(?:br|/p|/div|/tr|/li|/h\d|p|div|tr)\b[^>]{0,500}>", re.I)
_HIDDEN_RE = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.I | re.S)


def normalise_newlines(text: str) -> str:
    """CR LF and bare CR (old Mac mailers, real in the wild) become LF."""
    if "\r" in text:
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def html_to_text(html: str) -> str:
    """Crude but bounded tag stripping: good enough to read a provider's error page."""
    html = _HIDDEN_RE.sub(" ", html)
    html = _BLOCK_TAG_RE.sub("\n", html)
    html = _TAG_RE.sub("", html)
    html = _ENTITY_RE.sub(lambda m: _ENTITY[m.group(0)], html)
    # [ \t]+ never spans a line break: one pass for the whole text
    return "\n".join(line.strip() for line in collapse_blanks(html).split("\n"))


def collapse_blanks(text: str) -> str:
    """``_WS_RE.sub(" ", text)``: every run of spaces and tabs becomes one space.

    Done with ``str.replace``, which finds its target with memchr, instead of
    the regex engine's character class at every position (~20 ns a character).
    """
    if "\t" in text:
        text = text.replace("\t", " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def typed_parts(msg: Msg) -> list[tuple[Msg, str]]:
    """``(part, content type)`` for every part of the bounce itself, in order.

    Does not descend into attached originals (``message/rfc822``) nor into
    delivery-status field groups. Content types are computed once here:
    ``get_content_type`` re-parses the header on every call.
    """
    memo = _cache(msg)
    found = memo.get("parts")
    if found is not None:
        return found  # type: ignore[return-value]
    out: list[tuple[Msg, str]] = []
    stack = [msg]
    while stack:
        part = stack.pop()
        ctype = part.get_content_type()
        out.append((part, ctype))
        if ctype in ORIGINAL_TYPES or ctype in DSN_TYPES:
            continue
        # get_payload() is a list exactly for a multipart; for a leaf it would re-encode
        # the whole body just to look for surrogates
        if part.is_multipart():
            payload = part.get_payload()
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
    memo["parts"] = out
    return out


def own_parts(msg: Msg) -> Iterator[Msg]:
    """Every part of the bounce itself, not descending into attached originals."""
    for part, _ in typed_parts(msg):
        yield part


def part_text(part: Msg) -> str:
    """One leaf's text, newline-normalised and capped, HTML turned into lines."""
    try:
        text = payload_text(part)
    except Exception:  # a broken transfer encoding must not stop the family
        raw = part.get_payload()
        text = raw if isinstance(raw, str) else ""
    text = normalise_newlines(text[:TEXT_CAP])
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text


def report_text(msg: Msg) -> str:
    """The human-readable text of the bounce (plain parts, else HTML parts).

    A single-part message that is text is its own report. Attached originals,
    delivery-status fields and header dumps are left out.
    """
    memo = _cache(msg)
    cached = memo.get("report_text")
    if cached is not None:
        return cached  # type: ignore[return-value]
    plain: list[str] = []
    # HTML parts are decoded and turned into text only when no plain part has any
    # text (most HTML bounces also carry a plain alternative, which wins)
    html: list[Msg] = []
    for part, ctype in typed_parts(msg):
        if part.is_multipart():
            continue
        if ctype.startswith("multipart/"):
            # a multipart whose boundary is missing or broken: compat32 leaves
            # the whole body as one string, and the report is somewhere in it
            raw = part.get_payload()
            if isinstance(raw, str):
                plain.append(normalise_newlines(raw[:TEXT_CAP]))
            continue
        if ctype == "text/html":
            html.append(part)
        elif ctype in HEADER_TYPES or ctype in DSN_TYPES or ctype in ORIGINAL_TYPES:
            continue
        elif ctype.startswith("text/") or (ctype == "application/octet-stream" and part is msg):
            plain.append(part_text(part))
    if any(t and not t.isspace() for t in plain):
        text = "\n".join(plain)
    else:
        text = "\n".join([part_text(part) for part in html])
    memo["report_text"] = text
    return text


#: how much of the report text the families' signature scans read
HEAD_SPAN = 8192


def report_head(msg: Msg) -> tuple[str, str | None]:
    """The first ``HEAD_SPAN`` characters of ``report_text`` and their lower-case
    form for ``parsers.gates`` (``gate_text``: None if they cannot be gated);
    memoised per message."""
    memo = _cache(msg)
    found = memo.get("head")
    if found is None:
        head = report_text(msg)[:HEAD_SPAN]
        found = memo["head"] = (head, gate_text(head))
    return found  # type: ignore[return-value]


def report_low(msg: Msg) -> str | None:
    """``gate_text(report_text(msg))``, memoised per message: families that gate their
    scans of the whole report text share one lower-casing of it."""
    memo = _cache(msg)
    if "report_low" in memo:
        return memo["report_low"]  # type: ignore[return-value]
    low = memo["report_low"] = gate_text(report_text(msg))
    return low


def unsurrogate(text: str) -> str:
    """Undo compat32's surrogate escapes: raw UTF-8 bytes in headers become text again."""
    try:
        return text.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return text


def _block_text(block: Msg) -> str:
    out = []
    for name, value in block.raw_items():  # raw pairs: no per-field policy parsing
        text = str(value)
        out.append(f"{name}: {text if text.isascii() else unsurrogate(text)}\n")
    return "".join(out)


def delivery_status_text(msg: Msg) -> str | None:
    """The raw text of the first delivery-status part, or None if there is none.

    compat32 parses ``message/delivery-status`` into one Message per field
    block; it leaves ``message/global-delivery-status`` (RFC 6533) as text,
    and base64-encoded reports need decoding. All three give the same text.
    """
    memo = _cache(msg)
    if "dsn_text" in memo:
        return memo["dsn_text"]  # type: ignore[return-value]
    text = _find_dsn_text(msg)
    memo["dsn_text"] = text
    return text


def _find_dsn_text(msg: Msg) -> str | None:
    for part, ctype in typed_parts(msg):
        if ctype not in DSN_TYPES:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            if part.get("Content-Transfer-Encoding", "").lower().strip() in (
                "base64",
                "quoted-printable",
            ):
                raw = part.as_string().split("\n\n", 1)
                if len(raw) == 2:
                    return _decode_body(raw[1], part)
            # message/delivery-status: one Message per field group; other
            # message/* types (RFC 6533 global): one Message whose body holds the rest
            chunks = []
            for block in payload:
                if isinstance(block, Message):
                    chunks.append(_block_text(block))
                    # decode=True hands back the raw bytes; without it compat32
                    # turns UTF-8 (RFC 6533 addresses) into U+FFFD
                    body = block.get_payload(decode=True)
                    if isinstance(body, bytes) and body.strip():
                        chunks.append(normalise_newlines(body.decode("utf-8", "replace")))
            return "\n".join(chunks)
        if isinstance(payload, str):
            return _decode_body(payload, part)
    return None


def _decode_body(text: str, part: Msg) -> str:
    cte = str(part.get("Content-Transfer-Encoding", "")).lower().strip()
    if cte in ("base64", "quoted-printable"):
        holder = Message()
        holder["Content-Transfer-Encoding"] = cte
        holder.set_payload(text)
        data = holder.get_payload(decode=True)
        if isinstance(data, bytes):
            text = data.decode("utf-8", errors="replace")
    return normalise_newlines(text)


_RECIPIENT_FIELDS = frozenset({"final-recipient", "original-recipient"})
_FIELD_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")


def split_field(line: str) -> tuple[str, str] | None:
    """``(group(1).lower(), group(2).strip())`` of ``_FIELD_RE.match(line)`` for a line
    without line breaks, or None: by ``str.partition`` instead of the regex engine."""
    head, colon, rest = line.partition(":")
    if not colon:
        return None
    name = head.rstrip(" \t")
    if not (name and name.isascii() and name[0].isalpha() and name.replace("-", "").isalnum()):
        return None
    return name.lower(), rest.strip()


def field_blocks(text: str) -> list[dict[str, str]]:
    """RFC 3464 field groups: blank-line separated ``Name: value`` blocks.

    Names are lower-cased; continuation lines are folded; only the first
    occurrence of a name in a block counts (as RFC 3464 allows only one).
    A folded value is joined once when its block ends (a growing string
    copied at every continuation line made a long fold quadratic).
    """
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    folds: dict[str, list[str]] = {}  # the continuation lines of the current block's fields
    last: str | None = None
    for line in normalise_newlines(text).split("\n"):
        if not line.strip():
            if current:
                blocks.append(_unfolded(current, folds))
            current, folds, last = {}, {}, None
            continue
        if line[0] in " \t" and last is not None:
            folds.setdefault(last, []).append(line.strip())
            continue
        field = split_field(line)
        if field is not None:
            name, value = field
            if name in current:
                if name in _RECIPIENT_FIELDS:
                    # no blank line between two recipients' groups: a new group starts
                    blocks.append(_unfolded(current, folds))
                    current, folds = {}, {}
                else:
                    last = None
                    continue
            current[name] = value
            last = name
        else:
            last = None
    if current:
        blocks.append(_unfolded(current, folds))
    return blocks


def _unfolded(block: dict[str, str], folds: dict[str, list[str]]) -> dict[str, str]:
    for name, more in folds.items():
        block[name] = " ".join([block[name], *more])
    return block


def original_message(msg: Msg) -> Msg | None:
    """The returned original (message/rfc822) or its headers (a header part), the first
    of the bounce's own parts; ``attached_originals`` lists every one, anywhere."""
    memo = _cache(msg)
    if "original" in memo:
        return memo["original"]  # type: ignore[return-value]
    found = _find_original(msg)
    memo["original"] = found
    return found


def _find_original(msg: Msg) -> Msg | None:
    for part, ctype in typed_parts(msg):
        if ctype in ORIGINAL_TYPES:
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
            if isinstance(payload, str):
                return message_from_string(payload.lstrip())
        elif ctype in HEADER_TYPES:
            block = _parsed_block(part)
            if block is not None:
                return block
            text = part_text(part)
            return parsed_text(part, text.lstrip())
    return None


_MSGID_RE = re.compile(r"^Message-Id:[ \t]*(<[^>\s]+>|\S+)", re.I | re.M)


def original_message_id(msg: Msg) -> str | None:
    """Message-ID of the returned original: attachment first, inline copy in the
    report text second."""
    orig = original_message(msg)
    if orig is not None:
        mid = orig.get("Message-ID")
        if mid:
            return str(mid).strip() or None
    text = report_text(msg)
    if text:
        # inline copies ("------ This is a copy of the message ...") come after the report
        own = str(msg.get("Message-ID", "")).strip()
        low = report_low(msg)
        if low is None:
            for m in _MSGID_RE.finditer(text):
                if m.group(1) != own:
                    return m.group(1)
            return None
        # _MSGID_RE.finditer without trying the case-blind pattern at every position:
        # its matches start where the lower-cased text (aligned with the text: see
        # parsers.gates) holds "message-id:", and lie within one line
        at = low.find("message-id:")
        while at >= 0:
            found = _MSGID_RE.match(text, at)
            if found is not None and found.group(1) != own:
                return found.group(1)
            at = low.find("message-id:", at + 1)
    return None


def attached_originals(msg: Msg, limit: int = MAX_PARTS) -> list[Msg]:
    """The messages a report carries (``message/rfc822``, or a header part).

    Returned in document order. A ``message/rfc822`` part that was wrongly
    transfer-encoded (base64 happens) is decoded and parsed; a headers-only
    part becomes a Message with an empty body.
    """
    if limit > MAX_PARTS:
        return [o for _, o in _originals(all_parts(msg, limit))]
    memo = _cache(msg)
    found = memo.get("originals")
    if found is None:
        found = memo["originals"] = _originals(all_parts(msg))
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
        elif ctype in HEADER_TYPES:
            parsed = _parsed_block(part) or _parse_text(part)
            if parsed is not None:
                found.append((n, parsed))
    return found


def _parsed_block(part: Msg) -> Msg | None:
    """The header block of a ``message/global-headers`` part (RFC 6533), which the
    stdlib parses like any ``message/*`` part: into a Message, not text."""
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        return inner[0]
    return None


def _parse_text(part: Msg) -> Msg | None:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes) or not raw.strip():
        return None
    # message_from_bytes(raw.lstrip()), shared with mime.original_message when the texts agree
    return parsed_text(part, raw.lstrip().decode("ascii", "surrogateescape"))
