"""Token-head gates (parsers/heads.py) never hide a literal or a pattern that occurs.

Each gate is a necessary condition: whenever the searched-for thing occurs in
a text, the text's token heads pass the gate. Checked here on generated
texts, including the characters that break the rules (non-ASCII letters,
the four that re.IGNORECASE folds to ASCII, underscores, digits).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from returnpath.parsers import heads, reason_rules, smtp_codes
from returnpath.parsers.gates import gate_text
from returnpath.parsers.heads import HeadGates, pattern_heads, phrase_heads, token_heads
from returnpath.parsers.providers import PROVIDERS

_AROUND = st.text(alphabet=st.sampled_from("ab9 _-.:é\u0130\u212a@<>#\n"), max_size=8)


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "a",
                "Z",
                "9",
                "user",
                "unknown",
                "5.1.1",
                " ",
                "-",
                "_",
                "é",
                "\udce9",
                "mailbox",
                "\n",
                "ß",
                "İ",
                "x" * 9,
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_token_heads_are_the_regex(text: str) -> None:
    assert token_heads(text) == set(heads.TOKEN_HEAD_RE.findall(text))
    assert token_heads(text.lower()) == set(heads.TOKEN_HEAD_RE.findall(text.lower()))


_PHRASES = sorted(
    {p for rule in reason_rules.RULES + reason_rules.LATE_RULES for p in rule.words}
    | {w for _, words in smtp_codes.COMMAND_WORDS for w in words}
)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(_PHRASES), _AROUND, _AROUND)
def test_phrase_heads_are_in_every_text_holding_the_phrase(
    phrase: str, before: str, after: str
) -> None:
    text = (before + phrase + after).lower()
    assert phrase in text
    assert phrase_heads(phrase) <= token_heads(text)


def test_phrase_heads_skip_what_a_longer_token_may_hide() -> None:
    assert phrase_heads("mail from") == {"from"}  # "email from" holds "mail from"
    assert phrase_heads("rcpt to") == frozenset()  # "rcpt tomorrow": the token is "tomo…"
    assert phrase_heads(" data command") == {"data", "comm"}
    assert phrase_heads("(state 14)") == {"stat", "14"}


_PATTERNS = [p.hosts for p in PROVIDERS] + [
    re.compile(r"\bIB\d{3}\b", re.I),
    re.compile(r"AUP#(?:In|Out|I|O)-?\d{4}\b", re.I),
    re.compile(r"protection\.outlook\.com|\bcox\.net\b", re.I),
    re.compile(r"\bfoo(?:bar)?\.com\b|\bab\.c", re.I),
    re.compile(r"(?:abc|\bdef)ghi|\bzz\w", re.I),
]


@pytest.mark.parametrize("pattern", _PATTERNS, ids=lambda p: p.pattern[:40])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_pattern_heads_pass_every_text_the_pattern_matches(
    pattern: re.Pattern[str], data: st.DataObject
) -> None:
    match = data.draw(st.from_regex(pattern, fullmatch=True))
    text = data.draw(_AROUND) + match + data.draw(_AROUND)
    low = gate_text(text)
    if pattern.search(text) is None or low is None:
        return  # the context broke the match, or the gates cannot speak for the text
    assert HeadGates([pattern_heads(pattern)]).candidates(low, token_heads(low)) == [True]


def test_pattern_heads_of_provider_hosts() -> None:
    gates = {p.name: p.gate for p in PROVIDERS}
    assert gates["google"].by_head["gmai"] == ("gmail.com",)
    # "\bIB\d{3}": every head that starts with "ib"; nothing left to confirm
    assert gates["godaddy"].by_head["ib"] == gates["godaddy"].by_head["ib42"] == ()
    # no \b before "protection.outlook.com": its later word "outlook" is the head
    assert "outl" in gates["microsoft"].by_head
    assert gates["cox"].literals == ("cloudfilter.net",)
    assert not any(g.always for g in gates.values())


def test_pattern_heads_give_up_on_what_they_cannot_read() -> None:
    assert pattern_heads(re.compile(r"\w+@example\.com", re.I)).always
    assert pattern_heads(re.compile(r"\bx\d", re.I)).always


def test_the_regex_syntax_tree_has_the_shape_the_gates_read() -> None:
    """``pattern_heads`` reads the private ``re._parser`` tree (no public API gives it):
    besides literals, branches and groups (tests/parsers/test_marker_gates.py), a
    ``\\b`` is (AT, AT_BOUNDARY). A Python release that changes this fails here."""
    import re._constants as sre_constants
    import re._parser as sre_parser

    assert next(iter(sre_parser.parse(r"\bx", re.I))) == (
        sre_constants.AT,
        sre_constants.AT_BOUNDARY,
    )
    gate = pattern_heads(re.compile(r"\bgmail\.com|\b(?:hotmail|outlook)\.", re.I))
    assert gate.by_head == {"gmai": ("gmail.com",), "hotm": ("hotmail.",), "outl": ("outlook.",)}
    assert (gate.literals, gate.always) == ((), False)
