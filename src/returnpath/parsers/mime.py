"""MIME helpers shared by the bounce families: where the report text, the
delivery-status fields and the original message live in a bounce.

Why these exist instead of ``msg.walk()`` everywhere: a bounce carries the
*original* message as an attachment, and that message has its own headers,
addresses and text. Every family must read the bounce's own parts and never
mistake the returned message for the report, so the walk here stops at
``message/rfc822`` boundaries. Texts are capped: a 50 MB bounce whose report
is in the first kilobytes must not cost a 50 MB decode.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message

from returnpath.parsers._types import Msg
from returnpath.parsers.base import payload_text
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
HEADER_TYPES = frozenset({"text/rfc822-headers", "message/global-headers", "text/rfc822-header"})

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


_CACHE = "_returnpath_cache"


def _cache(msg: Msg) -> dict[str, object]:
    """Per-message memo: every family asks the same questions of the same message.

    Stored on the Message object itself so that it lives exactly as long as
    the message; keys are the helper names below.
    """
    memo = msg.__dict__.get(_CACHE)
    if memo is None:
        memo = {}
        msg.__dict__[_CACHE] = memo
    return memo


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
    """
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in normalise_newlines(text).split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
            continue
        if line[0] in " \t" and last is not None:
            current[last] += " " + line.strip()
            continue
        field = split_field(line)
        if field is not None:
            name, value = field
            if name in current:
                if name in _RECIPIENT_FIELDS:
                    # no blank line between two recipients' groups: a new group starts
                    blocks.append(current)
                    current = {}
                else:
                    last = None
                    continue
            current[name] = value
            last = name
        else:
            last = None
    if current:
        blocks.append(current)
    return blocks


def original_message(msg: Msg) -> Msg | None:
    """The returned original (message/rfc822) or its headers (text/rfc822-headers)."""
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
