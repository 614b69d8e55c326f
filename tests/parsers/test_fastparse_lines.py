"""The line scanners of ``parsers.header_lines`` agree with the regexes they replace.

``header_block_end`` and ``header_fields`` avoid walking every character of
every header value through a regex character class (the header block and its
fields were a sixth of all parsing time): with LF or CRLF line ends the block's
end is found by looking at line starts only, otherwise line by line with
``str.find``, as the fields are. All are held to the regexes, which stay as the
definitions; ``header_fields`` also says whether the block is clean (else
``_Parser`` reads it the feed parser's way, defects and all).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from returnpath.parsers import fastparse, header_lines

PIECES = [
    "a",
    "B",
    ":",
    " ",
    "\t",
    "\r",
    "\n",
    "\r\n",
    "From ",
    "X-Y",
    "é",
    "\x00",
    "\x7f",
    "~",
    ";",
    "\udce9",
    "Subject: hi\n",
    "To: <a@b>\r\n",
    " folded\n",
    "\n\n",
    "::",
]
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


def _clean(block: str) -> bool:
    """The test ``_Parser._headers`` made before ``header_fields`` made it."""
    return (
        bool(block)
        and block[0] not in " \t"
        and not (
            "\nFrom " in block
            or "\rFrom " in block
            or block[0] == ":"
            or "\n:" in block
            or "\r:" in block
            or block.startswith("From ")
        )
    )


@settings(max_examples=3000, deadline=None)
@given(texts, st.integers(min_value=0, max_value=5))
def test_header_block_end_is_the_regex(text: str, start: int) -> None:
    start = min(start, len(text))
    expected = header_lines._HEADER_BLOCK_RE.match(text, start).end()  # type: ignore[union-attr]
    assert header_lines.header_block_end(text, start) == expected
    assert header_lines.header_block_end(text, start, lf_lines=False) == expected  # by line


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_lf_lines_is_the_counts(text: str) -> None:
    assert header_lines.lf_or_crlf_only(text) == (text.count("\r") == text.count("\r\n"))


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_header_fields_is_the_regex(text: str) -> None:
    block = text[: header_lines.header_block_end(text, 0)]
    expected = header_lines._FIELD_RE.findall(block) if _clean(block) else None
    assert header_lines.header_fields(block) == expected


def test_examples() -> None:
    text = "Subject: a\r\n b\rTo:\n\tx\nFrom: y\n\nbody: no\n"
    end = header_lines.header_block_end(text, 0)
    assert text[end:] == "\nbody: no\n"
    assert header_lines.header_fields(text[:end]) == [
        ("Subject", "a\r\n b"),
        ("To", "\n\tx"),
        ("From", "y"),
    ]
    crlf = "Subject: a\r\n b\r\nTo:\r\n\tx\r\n"
    assert header_lines.header_fields(crlf) == [("Subject", "a\r\n b"), ("To", "\r\n\tx")]
    assert header_lines.header_block_end("Bad name: x\n", 0) == 0
    assert header_lines.header_block_end("From someone\nA: b", 0) == len("From someone\nA: b")


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.sampled_from([" ", "  ", "\t", "a", "\n", "\xa0", "\u3000", "<b>"]), max_size=60
    ).map("".join)
)
def test_collapse_blanks_is_the_regex(text: str) -> None:
    from returnpath.parsers import mime

    assert mime.collapse_blanks(text) == mime._WS_RE.sub(" ", text)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Message-Id: <a@b>\n",
                "message-ID:  x@y\n",
                "MESSAGE-ID:\n",
                "X-Message-Id: <c@d>\n",
                "text\n",
                "\r\n",
                " ",
                "ı",
                "é",
                "Message-Id: <own@x>\n",
                "<e@f>",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_inline_message_id_is_the_regexs(text: str) -> None:
    from returnpath.parsers import mime
    from returnpath.parsers.fastparse import message_from_bytes

    msg = message_from_bytes(
        ("Message-ID: <own@x>\nContent-Type: text/plain; charset=utf-8\n\nbody\n" + text).encode()
    )
    report = mime.report_text(msg)  # the inline copy is looked for in the report text
    assert text.replace("\r\n", "\n") in report
    expected = next(
        (m.group(1) for m in mime._MSGID_RE.finditer(report) if m.group(1) != "<own@x>"), None
    )
    assert mime.original_message_id(msg) == expected


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Status",
                "a",
                "Z",
                "9",
                "-",
                ":",
                " ",
                "\t",
                "5.1.1",
                "é",
                "_",
                "x-y",
                "\x0b",
                "\x1c",
                "\xa0",
                "Final-Recipient",
                ";",
            ]
        ),
        max_size=14,
    ).map("".join)
)
def test_split_field_is_the_regex(line: str) -> None:
    from returnpath.parsers import mime

    m = mime._FIELD_RE.match(line)
    expected = (m.group(1).lower(), m.group(2).strip()) if m else None
    assert mime.split_field(line) == expected


def _dash_reference(text: str) -> list[int]:
    """``_Parser.dash`` as it was: a find loop per line break kind."""
    found = [0] if text.startswith("--") else []
    for pat in ("\n--", "\r--") if "\r" in text else ("\n--",):
        i = text.find(pat)
        while i >= 0:
            found.append(i + 1)
            i = text.find(pat, i + 3)
    return sorted(found)


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from(["-", "--", "\n", "\r", "\r\n", "a", " ", "--b--"]), max_size=30).map(
        "".join
    )
)
def test_dash_lines_are_the_find_loops(text: str) -> None:
    assert fastparse._Parser(text).dash == _dash_reference(text)
