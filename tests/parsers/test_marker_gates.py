"""Marker gates (``textbounce.literal_gates``): every match of a family's marker
pattern contains one of its gates, so gated detection answers as the regex does."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returnpath.parsers.fastparse import message_from_bytes
from returnpath.parsers.gates import gated_search, literal_gates
from returnpath.parsers.mime import HEAD_SPAN as MARKER_SPAN
from returnpath.parsers.mime import report_text
from returnpath.parsers.registry import FAMILIES
from returnpath.parsers.textbounce import TextFamily, marker_found


def _markers() -> list[re.Pattern[str]]:
    out = []
    for family in FAMILIES:
        text = family if isinstance(family, TextFamily) else getattr(family, "_text", None)
        if isinstance(text, TextFamily) and text.markers is not None:
            out.append(text.markers)
    return out


MARKERS = _markers()


def test_every_marker_has_gates() -> None:
    assert MARKERS
    assert all(literal_gates(p) for p in MARKERS)


@pytest.mark.parametrize("pattern", MARKERS, ids=lambda p: p.pattern[:30])
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_matches_contain_a_gate(pattern: re.Pattern[str], data: st.DataObject) -> None:
    match = data.draw(st.from_regex(pattern, fullmatch=True).filter(str.isascii))
    gates = literal_gates(pattern)
    assert gates is not None
    assert any(g in match.lower() for g in gates)


@pytest.mark.parametrize(
    ("source", "gates"),
    [
        (r"abc|x(?:def|ghi)", ("abc", "def", "ghi")),
        (r"^Error message below:", ("error message below:",)),
        (r"a|bcd", None),  # one branch without a three-character literal: no gate
        (r"(?:x\s+)?y", None),
        (r"foo\s*bar", ("foo",)),
    ],
)
def test_gate_shapes(source: str, gates: tuple[str, ...] | None) -> None:
    assert literal_gates(re.compile(source, re.I)) == gates


_WORDS = sorted(
    {g for p in MARKERS for g in literal_gates(p) or ()}
    | {"MSExch:", "ſecurity alert", "K", "İ", "Error message below:", "\n", " ", "x"}
)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.sampled_from(_WORDS) | st.text(max_size=5), max_size=8), upper=st.booleans()
)
def test_gated_detection_answers_as_the_regex(parts: list[str], upper: bool) -> None:
    text = "".join(parts)
    if upper:
        text = text.upper()
    raw = b"Content-Type: text/plain; charset=utf-8\n\n" + text.encode("utf-8", "replace")
    msg = message_from_bytes(raw)
    head = report_text(msg)[:MARKER_SPAN]
    for pattern in MARKERS:
        assert marker_found(msg, pattern) == bool(pattern.search(head))


def _other_gated() -> list[re.Pattern[str]]:
    from returnpath.parsers import mime, providers
    from returnpath.parsers.families import amazonses, rfc3464

    out = [amazonses._MARK_RE, rfc3464._INLINE_FIELDS_RE, mime._MSGID_RE]
    out += [pattern for p in providers.PROVIDERS for pattern, _ in p.rules]
    for family in FAMILIES:
        text = family if isinstance(family, TextFamily) else getattr(family, "_text", None)
        if isinstance(text, TextFamily) and text.delayed is not None:
            out.append(text.delayed)
    return out


OTHER = _other_gated()
_OTHER_WORDS = sorted(
    {g for p in OTHER for g in literal_gates(p) or ()}
    | {
        '"notificationType": "Bounce"',
        '\\"eventType\\":\\"Complaint',
        "Final-Recipient: a@b\n",
        "Action: failed",
        "Status:",
        "\n",
        " ",
        "x@y",
        "ſ",
        "K",
        "Message-ID: <a@b>",
        "OFR_416",
        "LPN007_416",
        "AUP#CXBL",
        "550",
    }
)


@settings(max_examples=500, deadline=None)
@given(
    parts=st.lists(st.sampled_from(_OTHER_WORDS) | st.text(max_size=5), max_size=10),
    upper=st.booleans(),
)
def test_gated_search_answers_as_the_regex(parts: list[str], upper: bool) -> None:
    text = "".join(parts)
    if upper:
        text = text.upper()
    for pattern in OTHER:
        expected = pattern.search(text)
        got = gated_search(pattern, text)
        assert (got and got.span()) == (expected and expected.span())


def _family_patterns() -> list[re.Pattern[str]]:
    out = []
    for family in FAMILIES:
        text = family if isinstance(family, TextFamily) else getattr(family, "_text", None)
        if isinstance(text, TextFamily):
            if text.start is not None:
                out.append(text.start)
            out += [p for p, _ in (*text.reasons, *text.section_reasons)]
    return out


GATED = [p for p in [*OTHER, *_family_patterns()] if literal_gates(p) is not None]


@pytest.mark.parametrize("pattern", GATED, ids=lambda p: p.pattern[:30])
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_gated_match_contains_a_gate(pattern: re.Pattern[str], data: st.DataObject) -> None:
    match = data.draw(st.from_regex(pattern, fullmatch=True).filter(str.isascii))
    gates = literal_gates(pattern)
    assert gates is not None
    assert any(g in match.lower() for g in gates)


def test_only_four_non_ascii_characters_fold_to_ascii() -> None:
    """Why ``gate_text`` may gate non-ASCII text: every code point checked."""
    from returnpath.parsers.gates import FOLDS_TO_ASCII

    everything = "".join(map(chr, range(0x80, 0x110000)))
    folding = {
        m.group() for a in range(128) for m in re.finditer(re.escape(chr(a)), everything, re.I)
    }
    assert folding == set(FOLDS_TO_ASCII)
    # str.lower() keeps every other character one character long (slices of the
    # lower-cased text line up with the text's)
    assert all(len(c.lower()) == 1 for c in everything if c not in FOLDS_TO_ASCII)


_NON_ASCII = [
    "Сообщение",
    "не доставлено",
    "メール",
    "é",
    "\udce9",
    "İ",
    "ı",
    "ſ",
    "K",
    "USER UNKNOWN",
    "Notification",
    "mailbox",
    "Delivery",
]


@settings(max_examples=500, deadline=None)
@given(parts=st.lists(st.sampled_from(_OTHER_WORDS + _NON_ASCII), max_size=10), upper=st.booleans())
def test_gated_search_answers_as_the_regex_on_non_ascii_text(parts: list[str], upper: bool) -> None:
    from returnpath.parsers.gates import gate_text

    text = "".join(parts)
    if upper:
        text = text.upper()
    low = gate_text(text)
    for pattern in [*OTHER, *_family_patterns()]:
        expected = pattern.search(text)
        for got in (gated_search(pattern, text), gated_search(pattern, text, low)):
            assert (got and got.span()) == (expected and expected.span())


def test_the_regex_syntax_tree_has_the_shape_the_gates_read() -> None:
    """``literal_gates`` reads the private ``re._parser`` tree (no public API gives it):
    a literal is (LITERAL, code point), an alternation (BRANCH, (_, branches)), a
    group (SUBPATTERN, (..., items)). A Python release that changes this fails here."""
    import re._constants as sre_constants
    import re._parser as sre_parser

    tree = list(sre_parser.parse(r"ab(c|de)", re.I))
    assert tree[0] == (sre_constants.LITERAL, ord("a"))
    op, arg = tree[2]
    assert op is sre_constants.SUBPATTERN
    ((branch_op, (_, branches)),) = list(arg[-1])
    assert branch_op is sre_constants.BRANCH
    assert [list(b) for b in branches] == [
        [(sre_constants.LITERAL, ord("c"))],
        [(sre_constants.LITERAL, ord("d")), (sre_constants.LITERAL, ord("e"))],
    ]
    assert literal_gates(re.compile(r"user unknown|no such (?:user|mailbox)", re.I)) == (
        "user unknown",
        "no such ",
    )
