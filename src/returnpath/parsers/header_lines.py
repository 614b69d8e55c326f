"""The lines of a message text and its header block, found with ``str.find``.

``parsers.fastparse`` reads a message held in full; these helpers find where
its header block ends and split the block into (name, value) fields the way
the stdlib's feed parser and compat32's ``header_source_parse`` do, without
walking every character through a regex character class.
"""

from __future__ import annotations

import re

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
        lf_lines = lf_or_crlf_only(text)
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
    split once, one partition per field.

    A folded value is joined once from its lines: adding each continuation to a
    growing string copies the value every time, and a Subject folded over 150,000
    lines took seconds (quadratic; tests/parsers/test_growth.py measures it)."""
    lines = block.split(eol)
    if not lines[-1]:
        lines.pop()
    out: list[tuple[str, str]] = []
    name: str | None = None
    value = ""
    folded: list[str] = []  # the value's continuation lines, when it has any
    for line in lines:
        if not line:
            return None
        c = line[0]
        if c == " " or c == "\t":
            folded.append(line)
            continue
        if c == ":" or (c == "F" and line.startswith("From ")):
            return None
        if name is not None:
            out.append((name, eol.join([value, *folded]) if folded else value))
            folded = []
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
        out.append((name, eol.join([value, *folded]) if folded else value))
    return out


#: a CR that does not start a CRLF (lf_or_crlf_only)
_LONE_CR_RE = re.compile(r"\r(?!\n)")


def lf_or_crlf_only(text: str) -> bool:
    """Every line break is LF or CRLF (no lone CR).

    ``text.count("\r") == text.count("\r\n")`` says the same; one regex search
    for a lone CR (the engine skips to each CR) is about 3x faster on the CRLF
    messages than the two counts, which walk the whole text twice."""
    return "\r" not in text or _LONE_CR_RE.search(text) is None


def strip_eol(text: str) -> str:
    """Drop one trailing CRLF, CR or LF (the feed parser's ``NLCRE_eol``)."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text[-1:] in ("\r", "\n"):
        return text[:-1]
    return text


def source_parse(sourcelines: list[str]) -> tuple[str, str]:
    """compat32's ``header_source_parse``."""
    name, value = sourcelines[0].split(":", 1)
    value = value.lstrip(" \t") + "".join(sourcelines[1:])
    return name, value.rstrip("\r\n")
