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

The messages are ``CachedMessage`` instances: ``Message`` with the header
lookups every family repeats (``get``, ``get_all``, ``in``,
``get_content_type``, ``get_param``) memoised, and the memo dropped by every
method that changes headers.
"""

from __future__ import annotations

import email
import re
from bisect import bisect_left
from email import errors
from email import message as _stdlib_message
from email.message import Message
from email.policy import compat32
from email.utils import collapse_rfc2231_value
from typing import Any

from returnpath.parsers._types import Msg

__all__ = ["CachedMessage", "message_from_bytes", "message_from_string", "parsed_text"]

#: nesting of multiparts/messages handled here; deeper ones go to the stdlib
MAX_DEPTH = 60

# The feed parser's own patterns (email/feedparser.py).
_HEADER_RE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")
_NLCRE_EOL = re.compile(r"(\r\n|\r|\n)\Z")
_NLCRE_BOL = re.compile(r"(\r\n|\r|\n)")
# Line breaks str.splitlines knows and the feed parser (which splits on CR,
# LF and CRLF only) does not. Text decoded from bytes with surrogateescape
# holds no character above U+007F except surrogates, so these are all.
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")

_MISSING = object()
#: the stdlib's, for what CachedMessage.get_payload does not answer itself
_GET_PAYLOAD: Any = Message.get_payload
#: what Message.get_param applies to a value it returns
_UNQUOTE = _stdlib_message._unquotevalue  # type: ignore[attr-defined]


#: a line that starts with "--" (``_Parser.dash``): after LF, or after any line break
_DASH_LF_RE = re.compile(r"\n--")
_DASH_RE = re.compile(r"[\r\n]--")
#: transfer encodings ``Message.get_payload(decode=True)`` undoes; any other leaves
#: the text as it is (as ASCII bytes)
DECODED_CTES = frozenset({"quoted-printable", "base64", "x-uuencode", "uuencode", "uue", "x-uue"})


def _unquote(value: str) -> str:
    """``email.utils.unquote``, compiled: parameters are unquoted thousands of times."""
    if len(value) > 1:
        if value.startswith('"') and value.endswith('"'):
            return value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
        if value.startswith("<") and value.endswith(">"):
            return value[1:-1]
    return value


class _Fallback(Exception):
    """This message needs the stdlib parser."""


#: header names -> lower case, both as callers ask for them (string constants, whose
#: hash Python keeps) and as messages spell them (a few dozen names make up nearly
#: all traffic: Received, From, Content-Type, ...): one dict hit instead of a new
#: string, which then needs hashing. Bounded in entries and length: made-up names
#: cannot grow it far.
_LOWER_NAMES: dict[str, str] = {}


def lower_name(name: str) -> str:
    """``name.lower()``, memoised for header names."""
    low = _LOWER_NAMES.get(name)
    if low is None:
        low = name.lower()
        if len(name) <= 64 and len(_LOWER_NAMES) < 4096:
            _LOWER_NAMES[name] = low
    return low


class CachedMessage(Message):
    """``Message`` whose header lookups are memoised until a header changes."""

    _memo: dict[Any, Any] | None = None

    # -- stdlib methods the parsers call thousands of times per corpus round,
    # copied so that they run compiled too (tests/parsers/test_fastparse.py
    # holds them to the stdlib's) ------------------------------------------
    def __init__(self, policy: Any = compat32) -> None:
        # Message.__init__, same attributes in the same order, set through Any:
        # plain instance attributes (declared ones would be mypyc's own slots)
        me: Any = self
        me.policy = policy
        me._headers = []
        me._unixfrom = None
        me._payload = None
        me._charset = None
        me.preamble = me.epilogue = None
        me.defects = []
        me._default_type = "text/plain"

    def is_multipart(self) -> bool:
        return isinstance(self._payload, list)  # type: ignore[attr-defined]

    def attach(self, payload: Any) -> None:
        me: Any = self
        if me._payload is None:
            me._payload = [payload]
        else:
            try:
                me._payload.append(payload)
            except AttributeError:
                raise TypeError(
                    "Attach is not valid on a message with a non-multipart payload"
                ) from None

    def keys(self) -> list[str]:
        return [k for k, _ in self._headers]  # type: ignore[attr-defined]

    def get_payload(self, i: Any = None, decode: bool = False) -> Any:
        payload = self._payload  # type: ignore[attr-defined]
        # the answers Message.get_payload gives without decoding anything: a
        # multipart's list, an ASCII leaf's text as it is, and with decode=True, the
        # bytes of an ASCII leaf whose transfer encoding is none that it undoes
        if i is None and type(payload) is str and payload.isascii():
            if not decode:
                return payload
            cte = str(self.get("content-transfer-encoding", "")).lower()
            if cte not in DECODED_CTES:
                return payload.encode("ascii")
        elif i is None and not decode and isinstance(payload, list):
            return payload
        return _GET_PAYLOAD(self, i, decode)

    def get_boundary(self, failobj: Any = None) -> Any:
        # Message.get_boundary: collapse_rfc2231_value of a str is utils.unquote
        boundary = self.get_param("boundary", _MISSING)
        if boundary is _MISSING:
            return failobj
        if type(boundary) is str:
            return _unquote(boundary).rstrip()
        return collapse_rfc2231_value(boundary).rstrip()

    # -- memoised readers -------------------------------------------------
    def _names(self) -> list[str]:
        """The header names in lower case, in order (parallel to ``_headers``)."""
        memo = self._memo
        if memo is None or "names" not in memo:
            self._index()
            memo = self._memo
            assert memo is not None
        names: list[str] = memo["names"]
        return names

    def _first(self) -> dict[str, int]:
        """Lower-case header name -> index of its first occurrence in ``_headers``."""
        memo = self._memo
        if memo is None or "first" not in memo:
            self._index()
            memo = self._memo
            assert memo is not None
        first: dict[str, int] = memo["first"]
        return first

    def _index(self) -> None:
        """Both of the above, in one pass over the headers."""
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        names: list[str] = []
        first: dict[str, int] = {}
        for i, (k, _) in enumerate(self._headers):  # type: ignore[attr-defined]
            low = lower_name(k)
            names.append(low)
            if low not in first:
                first[low] = i
        memo["names"] = names
        memo["first"] = first

    def _fetch(self, k: str, v: Any) -> Any:
        if type(v) is str and self.policy is compat32 and v.isascii():
            return v  # what compat32's header_fetch_parse returns for it
        # Through Any: typeshed says str, but compat32 returns email.header.Header
        # for 8-bit values, and mypyc would check the declared type at run time.
        policy: Any = self.policy
        return policy.header_fetch_parse(k, v)

    def get(self, name: str, failobj: Any = None) -> Any:
        index = self._first().get(lower_name(name))
        if index is None:
            return failobj
        return self._fetch(*self._headers[index])  # type: ignore[attr-defined]

    def raw_get(self, name: str) -> Any:
        """The first ``name`` header's stored value, without the policy's fetch step."""
        index = self._first().get(lower_name(name))
        if index is None:
            return None
        return self._headers[index][1]  # type: ignore[attr-defined]

    def get_all(self, name: str, failobj: Any = None) -> Any:
        key = lower_name(name)
        if key not in self._first():
            return failobj
        headers = self._headers  # type: ignore[attr-defined]
        return [self._fetch(*headers[i]) for i, n in enumerate(self._names()) if n == key]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return super().__contains__(name)  # type: ignore[operator]
        return lower_name(name) in self._first()

    def get_param(
        self, param: str, failobj: Any = None, header: str = "content-type", unquote: bool = True
    ) -> Any:
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        key = ("param", param, header, unquote)
        found = memo.get(key, _MISSING)
        if found is _MISSING:
            # Message.get_param, inlined over the memoised parameter list
            if lower_name(header) in self._first():
                params = self._params(header)
                if params is None:
                    found = super().get_param(param, _MISSING, header, unquote)
                else:
                    low = param.lower()
                    for k, v in params:
                        if k.lower() == low:
                            if not unquote:
                                found = v
                            elif type(v) is str:
                                found = _unquote(v)  # what _unquotevalue does to a str
                            else:
                                found = _UNQUOTE(v)
                            break
            memo[key] = found
        return failobj if found is _MISSING else found

    def get_content_type(self) -> str:
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        found = memo.get("ctype")
        if found is None:
            # Message.get_content_type, inlined (``_splitparam(value)[0].lower()``)
            value = self.get("content-type", _MISSING)
            if value is _MISSING:
                found = self.get_default_type()
            else:
                found = str(value).partition(";")[0].strip().lower()
                if found.count("/") != 1:
                    found = "text/plain"
            memo["ctype"] = found
        return found

    def get_content_maintype(self) -> str:
        return self.get_content_type().split("/")[0]

    def get_content_subtype(self) -> str:
        return self.get_content_type().split("/")[1]

    def _params(self, header: str) -> list[tuple[str, Any]] | None:
        """The memoised ``_get_params_preserve`` list (not a copy), None without the header."""
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        key = ("params", lower_name(header))
        found = memo.get(key, _MISSING)
        if found is _MISSING:
            value = self.get(header, _MISSING)
            if value is _MISSING:
                found = None
            else:
                found = _simple_params(value) if type(value) is str else None
                if found is None:
                    found = super()._get_params_preserve(None, header)  # type: ignore[misc]
            memo[key] = found
        return found

    def _get_params_preserve(self, failobj: Any, header: str) -> Any:
        found = self._params(header)
        return failobj if found is None else list(found)

    def get_content_charset(self, failobj: Any = None) -> Any:
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        found = memo.get("charset", _MISSING)
        if found is _MISSING:
            # Message.get_content_charset: a plain ASCII parameter is lower-cased;
            # anything else (RFC 2231 tuples, 8-bit values) takes the stdlib's path
            param = self.get_param("charset", _MISSING)
            if param is _MISSING:
                found = _MISSING
            elif type(param) is str and param.isascii():
                found = param.lower()
            else:
                found = super().get_content_charset(_MISSING)
            memo["charset"] = found
        return failobj if found is _MISSING else found

    # -- every writer drops the memo ------------------------------------------
    def _forget(self) -> None:
        self._memo = None

    def __setitem__(self, name: str, val: Any) -> None:
        self._memo = None
        super().__setitem__(name, val)

    def __delitem__(self, name: str) -> None:
        self._memo = None
        super().__delitem__(name)

    def set_raw(self, name: str, value: Any) -> None:
        self._memo = None
        super().set_raw(name, value)

    def add_header(self, _name: str, _value: str, **_params: Any) -> None:
        self._memo = None
        super().add_header(_name, _value, **_params)

    def replace_header(self, _name: str, _value: Any) -> None:
        self._memo = None
        super().replace_header(_name, _value)

    def set_default_type(self, ctype: str) -> None:
        self._memo = None
        super().set_default_type(ctype)

    def set_param(self, *args: Any, **kwargs: Any) -> None:
        self._memo = None
        super().set_param(*args, **kwargs)
        self._memo = None

    def del_param(self, *args: Any, **kwargs: Any) -> None:
        self._memo = None
        super().del_param(*args, **kwargs)
        self._memo = None

    def set_type(self, *args: Any, **kwargs: Any) -> None:
        self._memo = None
        super().set_type(*args, **kwargs)
        self._memo = None

    def set_boundary(self, boundary: str) -> None:
        self._memo = None
        super().set_boundary(boundary)
        self._memo = None

    def set_charset(self, charset: Any) -> None:
        self._memo = None
        super().set_charset(charset)
        self._memo = None

    def set_payload(self, payload: Any, charset: Any = None) -> None:
        self._memo = None
        super().set_payload(payload, charset)
        self._memo = None


def _simple_params(value: str) -> list[tuple[str, str]] | None:
    """``Message._get_params_preserve`` for a value without backslashes or RFC 2231
    stars (nearly all of them), or None to let the stdlib do it.

    When no quoted string holds a ';' (every piece has an even number of
    quotes), ``_parseparam`` splits at every ';'; ``decode_params`` then
    unquotes each value (``"..."`` or ``<...>``) and quotes it again.
    """
    if "\\" in value or "*" in value:
        return None
    pieces = value.split(";")
    if '"' in value and any(piece.count('"') % 2 for piece in pieces):
        return None
    params = []
    for piece in pieces:
        name, eq, val = piece.partition("=")
        if eq:
            params.append((name.strip().lower(), val.strip()))
        else:
            params.append((piece.strip(), ""))
    out = [params[0]]
    for name, val in params[1:]:
        if len(val) > 1 and (val[0], val[-1]) in (('"', '"'), ("<", ">")):
            val = val[1:-1]
        out.append((name, '"' + val.replace('"', '\\"') + '"'))
    return out


# Offsets into the text stand for lines. A line starts at 0, after LF, and
# after a CR not followed by LF; it ends after its CRLF, CR or LF (or at the
# end of the text), as ``StringIO(newline="").readlines()`` in the feed
# parser splits it. The two regexes below define the header block and its
# fields; header_block_end and header_fields compute the same with str.find
# (several times faster) and tests/parsers/test_fastparse_lines.py holds them
# to these definitions.
_HEADER_BLOCK_RE = re.compile(
    r"(?:(?:[\041-\071\073-\176]*+:|From |[\t ])[^\r\n]*+(?:\r\n?|\n|\Z))*+"
)
# One header and its continuation lines, as compat32's header_source_parse
# reads them: name up to the first colon, value without leading blanks and
# without the final line break.
# The start of a header line, and a LF before anything else (header_block_end).
_HEADER_LINE_RE = re.compile(r"[\t ]|From |[\041-\071\073-\176]*+:")
_NOT_HEADER_LINE_RE = re.compile(r"\n(?![\t ]|From |[\041-\071\073-\176]*+:)")
_FIELD_RE = re.compile(
    r"([^:\r\n]*+):[ \t]*+([^\r\n]*+(?:(?:\r\n?|\n)[ \t][^\r\n]*+)*+)(?:\r\n?|\n)?"
)


def header_block_end(text: str, p: int, lf_lines: bool | None = None) -> int:
    """``_HEADER_BLOCK_RE.match(text, p).end()``, several times faster.

    The regex walks every character of every value through a character class.
    When lines end in LF or CRLF only (``lf_lines``; computed when not given),
    a search for the first LF not followed by a header line start looks at the
    field names only; otherwise lines are found with ``str.find`` and only the
    field names are checked. Either way a line that is not a header line (name
    and colon, ``From ``, or a continuation) ends the block. The tests hold
    both to the regex.
    """
    if lf_lines is None:
        lf_lines = _lf_lines(text)
    if lf_lines:
        if p >= len(text) or _HEADER_LINE_RE.match(text, p) is None:
            return p
        found = _NOT_HEADER_LINE_RE.search(text, p)
        return len(text) if found is None else found.end()
    n = len(text)
    has_cr = "\r" in text
    while p < n:
        eol, nxt = _eol_next(text, p, n, has_cr)
        c = text[p]
        if c != " " and c != "\t" and not text.startswith("From ", p):
            colon = text.find(":", p, eol)
            if colon < 0:
                return p
            if colon > p:
                name = text[p:colon]
                if not (name.isascii() and name.isprintable()) or " " in name:
                    return p
        p = nxt
    return p


def _eol_next(text: str, p: int, n: int, has_cr: bool) -> tuple[int, int]:
    """(end, start of the next) of the line at ``p``, lines ending in CR, LF or CRLF
    (``has_cr``: the text holds a CR at all)."""
    lf = text.find("\n", p)
    if lf < 0:
        lf = n
    eol = lf
    if has_cr:
        cr = text.find("\r", p, lf)
        if cr >= 0:
            eol = cr
    return eol, n if eol >= n else eol + 2 if text.startswith("\r\n", eol) else eol + 1


def header_fields(block: str) -> list[tuple[str, str]] | None:
    """``_FIELD_RE.findall(block)`` for a clean header block, else None.

    Clean (what ``_Parser._headers`` reads this way): every line is
    ``name:value`` or a continuation starting with a blank, the first is not a
    continuation, and no line starts with ``:`` or ``From ``. The value starts
    after the colon and its blanks and runs to the end of its last
    continuation line, without the final line break. Lines are found with
    ``str.find``, several times faster than the regex's character classes.
    """
    if not block or block[0] == " " or block[0] == "\t":
        return None
    if "\r" not in block:
        return _split_fields(block, "\n")
    crlf = block.count("\r\n")
    if crlf == block.count("\r") == block.count("\n"):
        return _split_fields(block, "\r\n")
    out: list[tuple[str, str]] = []
    n = len(block)
    has_cr = "\r" in block
    p = 0
    while p < n:
        if block[p] == ":" or block.startswith("From ", p):
            return None
        colon = block.find(":", p)
        if colon < 0:
            return None
        q = colon + 1
        while q < n and (block[q] == " " or block[q] == "\t"):
            q += 1
        e = q
        while True:
            eol, nxt = _eol_next(block, e, n, has_cr)
            if nxt < n and (block[nxt] == " " or block[nxt] == "\t"):
                e = nxt
                continue
            break
        out.append((block[p:colon], block[q:eol]))
        p = nxt
    return out


def _split_fields(block: str, eol: str) -> list[tuple[str, str]] | None:
    """``header_fields`` for a block whose every line ends in ``eol`` (LF, or CRLF):
    split once, one partition per field."""
    lines = block.split(eol)
    if not lines[-1]:
        lines.pop()
    out: list[tuple[str, str]] = []
    name: str | None = None
    value = ""
    for line in lines:
        if not line:
            return None
        c = line[0]
        if c == " " or c == "\t":
            value = value + eol + line
            continue
        if c == ":" or (c == "F" and line.startswith("From ")):
            return None
        if name is not None:
            out.append((name, value))
        # line.partition(":") and rest.lstrip(" \t"), with one new string for each of
        # name and value (no 3-tuple, no intermediate rest): a message has dozens of fields
        colon = line.find(":")
        if colon < 0:
            return None
        name = line[:colon]
        start = colon + 1
        end = len(line)
        while start < end and (line[start] == " " or line[start] == "\t"):
            start += 1
        value = line[start:]
    if name is not None:
        out.append((name, value))
    return out


#: a CR that does not start a CRLF (_lf_lines)
_LONE_CR_RE = re.compile(r"\r(?!\n)")


def _lf_lines(text: str) -> bool:
    """Every line break is LF or CRLF (no lone CR).

    ``text.count("\r") == text.count("\r\n")`` says the same; one regex search
    for a lone CR (the engine skips to each CR) is about 3x faster on the CRLF
    messages than the two counts, which walk the whole text twice."""
    return "\r" not in text or _LONE_CR_RE.search(text) is None


#: stands for the feed parser's ``NLCRE.match`` end predicate (a blank line)
_BLANK = ""


def _strip_eol(text: str) -> str:
    """Drop one trailing CRLF, CR or LF (the feed parser's ``NLCRE_eol``)."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text[-1:] in ("\r", "\n"):
        return text[:-1]
    return text


def _source_parse(sourcelines: list[str]) -> tuple[str, str]:
    """compat32's ``header_source_parse``."""
    name, value = sourcelines[0].split(":", 1)
    value = value.lstrip(" \t") + "".join(sourcelines[1:])
    return name, value.rstrip("\r\n")


class _Parser:
    """The feed parser's algorithm over a text held in full."""

    def __init__(self, text: str) -> None:
        for odd in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":
            if odd in text:
                raise _Fallback
        self.text = text
        self.lf_lines = _lf_lines(text)
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
            msg.set_unixfrom(_strip_eol(text[start:first_end]))
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
                headers.append(_source_parse(lastvalue))
                lastheader, lastvalue = "", []
            if line.startswith("From "):
                if lineno == 0:
                    msg.set_unixfrom(_strip_eol(line))
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
            headers.append(_source_parse(lastvalue))
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
                    msg.preamble = _strip_eol(text[preamble_start:preamble_end])
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
                    last.epilogue = _strip_eol(epilogue)
            else:
                payload = last._payload  # type: ignore[attr-defined]
                if isinstance(payload, str):
                    last._payload = _strip_eol(payload)  # type: ignore[attr-defined]
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
    return found


def message_from_bytes(raw: Any) -> Msg:
    """``email.message_from_bytes(raw, policy=compat32)``, faster, same tree.

    ``raw``: bytes or any other buffer (``Any``, so that compiled code converts
    it as plain Python does instead of refusing all but bytes on entry)."""
    return message_from_string(bytes(raw).decode("ascii", "surrogateescape"))
