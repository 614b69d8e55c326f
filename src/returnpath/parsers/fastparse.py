"""A faster drop-in for ``email.message_from_bytes(raw, policy=compat32)``.

Why: the stdlib's ``FeedParser`` is an incremental parser; it hands every
line through a generator, a ``deque`` and a stack of end-of-part predicates,
which is about 150 µs per bounce here, more than half of the parsing budget.
This module runs the *same algorithm* over a list of lines it already has in
full: the same header-line test, the same rules for boundaries, preambles,
epilogues, ``message/delivery-status`` field groups, ``multipart/digest``
defaults, stripped line ends and defects. Where the feed parser reads one
line at a time to find the end of a body, this one looks only at the lines
that could end it (lines starting with ``--``, and blank lines inside a
delivery-status part), found once per message. The result is a tree of
``Message`` objects equal, attribute for attribute, to the stdlib's
(``tests/parsers/test_fastparse.py`` compares them on the corpus and on
generated messages).

Anything this module does not reproduce exactly falls back to the stdlib:
line breaks other than CR, LF and CRLF (``str.splitlines`` would split on
them, the feed parser does not), a "From " line pushed back after a blank
line (the feed parser's ``unreadline`` then reorders lines), nesting deeper
than ``MAX_DEPTH``, and any exception at all.

The messages are ``CachedMessage`` instances (``parsers.cached_message``);
the header block is found and split by ``parsers.header_lines``.
"""

from __future__ import annotations

import email
import re
from bisect import bisect_left
from email import errors
from email.policy import compat32
from typing import Any

from returnpath.parsers._types import Msg
from returnpath.parsers.cached_message import CachedMessage
from returnpath.parsers.header_lines import (
    header_block_end,
    header_fields,
    lf_or_crlf_only,
    source_parse,
    strip_eol,
)

#: nesting of multiparts/messages handled here; deeper ones go to the stdlib
MAX_DEPTH = 60

#: a line that starts with "--" (``_Parser.dash``): after LF, or after any line break
_DASH_LF_RE = re.compile(r"\n--")
_DASH_RE = re.compile(r"[\r\n]--")


class _Fallback(Exception):
    """This message needs the stdlib parser."""


#: stands for the feed parser's ``NLCRE.match`` end predicate (a blank line)
_BLANK = ""


class _Parser:
    """The feed parser's algorithm over a text held in full."""

    def __init__(self, text: str) -> None:
        # Line breaks str.splitlines knows and the feed parser (which splits on CR,
        # LF and CRLF only) does not. Text decoded from bytes with surrogateescape
        # holds no character above U+007F except surrogates, so these are all.
        for odd in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":
            if odd in text:
                raise _Fallback
        self.text = text
        self.lf_lines = lf_or_crlf_only(text)
        self.n = len(text)
        self._dash: list[int] | None = None
        # end-of-part predicates, innermost last: "--" + boundary, or _BLANK
        self.eofs: list[str] = []
        self.pos = 0
        self.stack: list[Msg] = []
        self.cur: Msg | None = None
        self.last: Msg | None = None

    # -- lines ------------------------------------------------------------
    def _line_end(self, p: int) -> int:
        text = self.text
        lf = text.find("\n", p)
        cr = text.find("\r", p, self.n if lf < 0 else lf)
        if cr >= 0:
            return cr + 2 if cr + 1 == lf else cr + 1
        return self.n if lf < 0 else lf + 1

    @property
    def dash(self) -> list[int]:
        """Offsets of the lines that start with "--": only these can be boundaries."""
        found = self._dash
        if found is None:
            text = self.text
            found = [0] if text.startswith("--") else []
            # one pass of the regex engine (it skips to each line break) is faster than
            # str.find with a three-character needle; a lone CR also ends a line
            pattern = _DASH_LF_RE if self.lf_lines else _DASH_RE
            for m in pattern.finditer(text):
                found.append(m.start() + 1)
            self._dash = found
        return found

    def _next_blank(self, p: int) -> int:
        """Offset of the first blank line starting at or after line start ``p``."""
        text = self.text
        if p >= self.n or text[p] in "\r\n":
            return p
        best = self.n
        for pat in ("\n\n", "\n\r", "\r\r"):
            i = text.find(pat, p, best)
            if i >= 0:
                best = i + 1
        return best

    def _boundary(self, p: int, sep: str) -> tuple[bool, str] | None:
        """The line at ``p`` against the feed parser's boundary regex for ``sep``:
        ``--SEP(--)?[ \\t]*(\\r\\n|\\r|\\n)?$``; returns (close, line ending) or None."""
        text = self.text
        if not text.startswith(sep, p):
            return None
        q = p + len(sep)
        close = text.startswith("--", q)
        if close:
            q += 2
        n = self.n
        while q < n and text[q] in " \t":
            q += 1
        if q >= n:
            return close, ""
        c = text[q]
        if c == "\n":
            return close, "\n"
        if c == "\r":
            return close, "\r\n" if text.startswith("\n", q + 1) else "\r"
        return None

    def _is_eof(self, p: int) -> bool:
        c = self.text[p]
        for sep in self.eofs:
            if sep is _BLANK:
                if c in "\r\n":
                    return True
            elif c == "-" and self._boundary(p, sep) is not None:
                return True
        return False

    def _at_end(self, p: int) -> bool:
        """What the feed parser's readline says with an empty string."""
        return p >= self.n or (bool(self.eofs) and self._is_eof(p))

    def _scan(self, p: int, own: str | None = None) -> int:
        """First line start >= p that ends the current part (or is an ``own`` boundary)."""
        eofs = self.eofs
        n = self.n
        if not eofs and own is None:
            return n
        limit = n
        if _BLANK in eofs:
            limit = self._next_blank(p)
        dash = self.dash
        k = bisect_left(dash, p)
        while k < len(dash):
            d = dash[k]
            if d >= limit:
                break
            if own is not None and self._boundary(d, own) is not None:
                return d
            for sep in eofs:
                if sep is not _BLANK and self._boundary(d, sep) is not None:
                    return d
            k += 1
        return limit

    # -- the FeedParser part ------------------------------------------------
    def _new_message(self) -> Msg:
        msg = CachedMessage(policy=compat32)
        cur = self.cur
        # ``if self.cur`` (the feed parser's test) is len(headers) > 0: a part without
        # headers has a default type, never multipart/digest
        if (
            cur is not None
            and cur._headers  # type: ignore[attr-defined]
            and cur.get_content_type() == "multipart/digest"
        ):
            msg.set_default_type("message/rfc822")
        if self.stack:
            self.stack[-1].attach(msg)
        self.stack.append(msg)
        if len(self.stack) > MAX_DEPTH:
            raise _Fallback
        self.cur = msg
        self.last = msg
        return msg

    def _pop_message(self) -> Msg:
        msg = self.stack.pop()
        self.cur = self.stack[-1] if self.stack else None
        return msg

    def parse(self) -> Msg:
        self._parsegen()
        root = self._pop_message()
        if root.get_content_maintype() == "multipart" and not root.is_multipart():
            root.defects.append(errors.MultipartInvariantViolationDefect())
        return root

    def _parsegen(self) -> None:
        msg = self._new_message()
        text = self.text
        n = self.n
        start = self.pos
        end = header_block_end(text, start, self.lf_lines)
        stopped = False  # an end-of-part line inside or right after the headers
        if self.eofs:
            dash = self.dash
            k = bisect_left(dash, start)
            while k < len(dash) and dash[k] < end:
                if self._is_eof(dash[k]):
                    end = dash[k]
                    stopped = True
                    break
                k += 1
        blank_ended = False
        if end >= n or stopped or (self.eofs and self._is_eof(end)):
            self.pos = end
        elif text[end] in "\r\n":
            blank_ended = True
            self.pos = self._line_end(end)
        else:
            msg.defects.append(errors.MissingHeaderBodySeparatorDefect())
            self.pos = end
        if end > start:
            self._headers(msg, start, end, blank_ended)
        ctype = msg.get_content_type()
        if ctype == "message/delivery-status":
            self._delivery_status()
            return
        maintype = ctype.split("/")[0]
        if maintype == "message":
            self._parsegen()
            self._pop_message()
            return
        if maintype == "multipart":
            self._multipart(msg)
            return
        stop = self._scan(self.pos)
        msg._payload = text[self.pos : stop]  # type: ignore[attr-defined]
        self.pos = stop

    def _headers(self, msg: Msg, start: int, end: int, blank_ended: bool) -> None:
        text = self.text
        if text.startswith("From ", start):
            first_end = self._line_end(start)
            msg.set_unixfrom(strip_eol(text[start:first_end]))
            if first_end >= end:
                return
            rest = text[first_end:end]
        else:
            rest = text[start:end]
        fields = header_fields(rest)
        if fields is not None:
            msg._headers = fields  # type: ignore[attr-defined]
            msg._memo = None  # type: ignore[attr-defined]
            return
        self._parse_headers(msg, text[start:end].splitlines(True), blank_ended, end)

    def _parse_headers(self, msg: Msg, lines: list[str], blank_ended: bool, end: int) -> None:
        """The feed parser's ``_parse_headers``, for header blocks with defects."""
        headers = msg._headers  # type: ignore[attr-defined]
        defects = msg.defects
        lastheader = ""
        lastvalue: list[str] = []
        for lineno, line in enumerate(lines):
            if line[0] in " \t":
                if not lastheader:
                    defects.append(errors.FirstHeaderLineIsContinuationDefect(line))
                    continue
                lastvalue.append(line)
                continue
            if lastheader:
                headers.append(source_parse(lastvalue))
                lastheader, lastvalue = "", []
            if line.startswith("From "):
                if lineno == 0:
                    msg.set_unixfrom(strip_eol(line))
                    continue
                if lineno == len(lines) - 1:
                    if blank_ended:
                        raise _Fallback  # the feed parser would reorder lines here
                    self.pos = end - len(line)
                    return
                defects.append(errors.MisplacedEnvelopeHeaderDefect(line))
                continue
            i = line.find(":")
            if i == 0:
                defects.append(errors.InvalidHeaderDefect("Missing header name."))
                continue
            lastheader = line[:i]
            lastvalue = [line]
        if lastheader:
            headers.append(source_parse(lastvalue))
        msg._memo = None  # type: ignore[attr-defined]

    def _delivery_status(self) -> None:
        while True:
            self.eofs.append(_BLANK)
            self._parsegen()
            self._pop_message()
            self.eofs.pop()
            if not self._at_end(self.pos):  # the blank line after the group
                self.pos = self._line_end(self.pos)
            if self._at_end(self.pos):
                break

    def _multipart(self, msg: Msg) -> None:
        text = self.text
        boundary = msg.get_boundary()
        if boundary is None:
            msg.defects.append(errors.NoBoundaryInMultipartDefect())
            stop = self._scan(self.pos)
            msg._payload = text[self.pos : stop]  # type: ignore[attr-defined]
            self.pos = stop
            return
        if str(msg.get("content-transfer-encoding", "8bit")).lower() not in (
            "7bit",
            "8bit",
            "binary",
        ):
            msg.defects.append(errors.InvalidMultipartContentTransferEncodingDefect())
        sep = "--" + boundary
        capturing_preamble = True
        preamble_start = preamble_end = self.pos
        linesep = ""
        close_boundary_seen = False
        while True:
            j = self._scan(self.pos, sep)
            if capturing_preamble:
                preamble_end = j
            elif j != self.pos:
                raise _Fallback  # cannot happen: parts end at a boundary line
            self.pos = j
            if self._at_end(j):
                break
            found = self._boundary(j, sep)
            if found is None:
                raise _Fallback  # cannot happen: _scan stops only at these
            self.pos = self._line_end(j)
            if found[0]:
                close_boundary_seen = True
                linesep = found[1]
                break
            if capturing_preamble:
                if preamble_end > preamble_start:
                    msg.preamble = strip_eol(text[preamble_start:preamble_end])
                capturing_preamble = False
                self.pos = j
                continue
            # repeated boundary lines delimit no part
            while not self._at_end(self.pos) and self._boundary(self.pos, sep) is not None:
                self.pos = self._line_end(self.pos)
            self.eofs.append(sep)
            self._parsegen()
            last = self.last
            assert last is not None
            if last.get_content_maintype() == "multipart":
                epilogue = last.epilogue
                if epilogue == "":
                    last.epilogue = None
                elif epilogue is not None:
                    last.epilogue = strip_eol(epilogue)
            else:
                payload = last._payload  # type: ignore[attr-defined]
                if isinstance(payload, str):
                    last._payload = strip_eol(payload)  # type: ignore[attr-defined]
            self.eofs.pop()
            self._pop_message()
            self.last = self.cur
        if capturing_preamble:
            msg.defects.append(errors.StartBoundaryNotFoundDefect())
            msg._payload = text[preamble_start:preamble_end]  # type: ignore[attr-defined]
            self.pos = self._scan(self.pos)
            msg.epilogue = ""
            return
        if not close_boundary_seen:
            msg.defects.append(errors.CloseBoundaryNotFoundDefect())
            return
        stop = self._scan(self.pos)
        epilogue = text[self.pos : stop]
        self.pos = stop
        if not linesep:
            for eol in ("\r\n", "\r", "\n"):
                if epilogue.startswith(eol):
                    epilogue = epilogue[len(eol) :]
                    break
        msg.epilogue = epilogue


def message_from_string(text: str) -> Msg:
    """``email.message_from_string(text, policy=compat32)``, faster, same tree."""
    try:
        return _Parser(text).parse()
    except Exception:  # _Fallback, or anything unforeseen: the stdlib decides
        return email.message_from_string(text, _class=CachedMessage, policy=compat32)


def parsed_text(owner: Msg, text: str) -> Msg:
    """``message_from_string(text)`` memoised on ``owner`` (the part the text came from).

    Why: a headers-only part (text/rfc822-headers) is parsed into a Message by
    two readers, one from its decoded text and one from its raw bytes; for
    the usual ASCII part without transfer encoding both give the same text,
    and the same (read-only) tree serves both.
    """
    memo = owner.__dict__.setdefault("_returnpath_parsed", {})
    found = memo.get(text)
    if found is None:
        found = memo[text] = message_from_string(text)
    return found  # type: ignore[no-any-return]  # the feed parser's root is untyped


def message_from_bytes(raw: Any) -> Msg:
    """``email.message_from_bytes(raw, policy=compat32)``, faster, same tree.

    ``raw``: bytes or any other buffer (``Any``, so that compiled code converts
    it as plain Python does instead of refusing all but bytes on entry)."""
    return message_from_string(bytes(raw).decode("ascii", "surrogateescape"))
