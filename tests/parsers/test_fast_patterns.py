"""The speed-ups of ``parsers`` give the same answers as the plain forms they replace.

Several hot patterns are written in an unusual shape (the lookbehind after
the first character class, so the regex engine can skip to candidates), and
several scans are guarded by literal pre-checks. Each is compared here with
its reference form on generated text drawn from the characters that matter.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from returnpath.parsers import mime, phrase_index, providers, smtp_codes, textbounce
from returnpath.parsers.heads import token_heads

# text made of what the patterns look at: digits, dots, dashes, blanks, words
_PIECES = st.sampled_from(
    [
        "0",
        "1",
        "2",
        "4",
        "5",
        "55",
        "550",
        "5.1.1",
        "4.2.2",
        "2.0.0",
        ".",
        "-",
        " ",
        "\n",
        "\t",
        "a",
        "x",
        "_",
        "(",
        "é",
        "١",
        "data",
        "rcpt to",
        "mail from",
        "helo ",
        "[data]",
        "returned unknown recipient or mailbox unavailable -> 550 <a@b>",
        "user unknown",
        "mailbox full",
        "spam",
        "blocked",
        "listed",
        "relay denied",
        "quota exceeded",
    ]
)
TEXT = st.lists(_PIECES, max_size=40).map("".join)
SETTINGS = settings(max_examples=400, deadline=None)

REFERENCE = {
    "smtp_codes._CODE_RE": (
        smtp_codes._CODE_RE,
        re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})\b(?!\.\d)"),
    ),
    "_REPLY_RE": (
        smtp_codes._REPLY_RE,
        re.compile(r"(?<![\d.])([245][0-5]\d)(?=[ \-]|$)(?![\d.])", re.M),
    ),
    "_FAIL_REPLY_RE": (
        smtp_codes._FAIL_REPLY_RE,
        re.compile(r"(?<![\d.])([45][0-5]\d)(?=[ \-]|$)(?![\d.])", re.M),
    ),
    "_REPLY_PREFIX_RE": (
        phrase_index._REPLY_PREFIX_RE,
        re.compile(r"(?<!\S)[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}(?!\S))?"),
    ),
    "_CODE_RE": (
        textbounce._CODE_RE,
        re.compile(r"(?<![\d.])[245]\d\d(?![\d.])|\b[245]\.\d{1,3}\.\d{1,3}\b"),
    ),
}


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], tuple[str, ...]]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


@SETTINGS
@given(TEXT)
def test_rewritten_patterns_match_their_reference(text: str) -> None:
    for name, (fast, plain) in REFERENCE.items():
        assert _spans(fast, text) == _spans(plain, text), name


def _find_command_reference(text: str | None) -> str | None:
    """``find_command`` before its gates: every word tested (a folded text's whitespace
    runs read as one space)."""
    if not text:
        return None
    low = text.lower()
    if "\n" in low:
        low = re.sub(r"\s+", " ", low)
    best, where = None, len(low)
    for command, words in smtp_codes.COMMAND_WORDS:
        for word in words:
            at = low.find(word, 0, where)
            if at >= 0:
                best, where = command, at
    for gate, command, pattern in smtp_codes.COMMAND_PATTERNS:
        if gate in low:
            m = pattern.search(low, 0, where)
            if m is not None:
                best, where = command, m.start()
    return best


_COMMAND_TEXT = st.lists(
    st.sampled_from(
        [
            *(w for _, words in smtp_codes.COMMAND_WORDS for w in words),
            "x",
            " ",
            "\n",
            "DATA",
            "Rcpt",
            "mail",
            "hel",
            "o ",
            "connect",
        ]
    ),
    max_size=12,
).map("".join)


@SETTINGS
@given(st.one_of(TEXT, _COMMAND_TEXT))
def test_find_command_matches_reference(text: str) -> None:
    expected = _find_command_reference(text)
    assert smtp_codes.find_command(text) == expected
    # with the token heads make_finding shares: set lookups instead of literal gates
    assert smtp_codes.find_command(text, token_heads(text.lower())) == expected


def _text_hits(text: str, heads: set[str] | None = None) -> set[int]:
    """Every row's text hit at once: the phrase rows and every regex row that matches
    (``reason_for`` asks the regex rows one by one, only until a row decides)."""
    hits = phrase_index.phrase_hits(text, heads)
    if text:
        hits.update(
            n
            for n, _ in phrase_index._REGEX_RULES
            if n not in hits and phrase_index.regex_hit(n, text)
        )
    return hits


def _text_hits_reference(text: str) -> set[int]:
    """The text hits before their set operations: per-token keys and per-row gates."""
    hits: set[int] = set()
    if not text:
        return hits
    for key in {t[:4] for t in phrase_index._TOKEN_RE.findall(text)}:
        for n, phrase in phrase_index._INDEX.get(key, ()):
            if n not in hits and phrase in text:
                hits.add(n)
    for n, regexes in phrase_index._REGEX_RULES:
        if n in hits:
            continue
        for gate, regex in regexes:
            if any(w in text for w in gate) and regex.search(text):
                hits.add(n)
                break
    return hits


@SETTINGS
@given(TEXT)
def test_text_hits_matches_reference(text: str) -> None:
    expected = _text_hits_reference(text)
    assert _text_hits(text) == expected
    assert _text_hits(text, token_heads(text)) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab\n\r -é\x80"), max_size=60),
    st.sampled_from(["", "7bit", "8bit", "quoted-printable", "base64", "binary"]),
    st.sampled_from(
        [
            None,
            "us-ascii",
            "utf-8",
            "iso-8859-1",
            "utf-16",
            "utf-7",
            "iso-2022-jp",
            "x-unknown",
            "windows-1252",
            "shift_jis",
        ]
    ),
)
def test_payload_text_fast_path_matches_decode(body: str, cte: str, charset: str | None) -> None:
    from email.message import Message

    part = Message()
    part["Content-Type"] = "text/plain" + (f"; charset={charset}" if charset else "")
    if cte:
        part["Content-Transfer-Encoding"] = cte
    part.set_payload(body)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    try:
        expected = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    except LookupError:
        expected = payload.decode("utf-8", errors="replace")
    assert mime.payload_text(part) == expected


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("ab1 \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000\u200b"),
        max_size=30,
    )
)
def test_collapse_is_the_whitespace_regex(text: str) -> None:
    assert phrase_index._collapse(text) == re.sub(r"\s+", " ", text)


def _join_reply_lines_reference(text: str) -> str:
    first = phrase_index._REPLY_PREFIX_RE.search(text)
    if first is None:
        return text
    head, tail = text[: first.end()], text[first.end() :]
    return head + phrase_index._collapse(phrase_index._REPLY_PREFIX_RE.sub("", tail))


@SETTINGS
@given(TEXT)
def test_reason_text_of_a_collapsed_diagnostic(text: str) -> None:
    # make_finding collapses the diagnostic first; the shortcuts must not change the text
    collapsed = " ".join(text.split())
    expected = _join_reply_lines_reference(phrase_index._collapse(collapsed[:4000].lower()))
    assert phrase_index.reason_text(collapsed, collapsed=True) == expected
    assert phrase_index.reason_text(collapsed) == expected
    low = phrase_index._collapse(text.lower())
    assert phrase_index._join_reply_lines(low) == _join_reply_lines_reference(low)


def _provider_reason_reference(diagnostic: str | None, *where: str | None) -> str | None:
    """``provider_reason`` without its gates: every provider's pattern runs."""
    if not diagnostic:
        return None
    context = " ".join(w for w in where if w) + " " + diagnostic[:600]
    for provider in providers.PROVIDERS:
        if provider.hosts.search(context):
            for pattern, reason in provider.rules:
                if pattern.search(diagnostic[:4000]):
                    return reason
    return None


_PROVIDER_TEXT = st.lists(
    st.sampled_from(
        [
            *sorted(
                {
                    w
                    for p in providers.PROVIDERS
                    for w in (*p.gate.literals, *(x for ws in p.gate.by_head.values() for x in ws))
                }
            ),
            "mx.",
            "Gmail.COM",
            "IB812",
            "xgmail.com",
            "_gmail.com",
            "\u212a",
            "\u212addi.com",
            "\u0130",
            "i\u0307.ua",
            "mac.\u017fom",
            "ib",
            "aup#",
            "AUP#Out-1010",
            "orange.fr.",
            "laposte.netx",
            "-",
            ".",
            "_",
            "é",
            " 550 5.7.1 ",
            "LPN007_416",
            "AUP#CXBL",
            "user unknown",
            "OFR_417",
            "mailbox full",
            "x",
            " ",
            "\n",
        ]
    ),
    max_size=10,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_PROVIDER_TEXT, st.one_of(st.none(), _PROVIDER_TEXT), st.one_of(st.none(), _PROVIDER_TEXT))
def test_provider_reason_matches_reference(diag: str, remote: str | None, rcpt: str | None) -> None:
    expected = _provider_reason_reference(diag, remote, rcpt)
    assert providers.provider_reason(diag, remote, rcpt) == expected
    # the heads of the whole diagnostic stand for those of its first 600 characters
    assert (
        providers.provider_reason(diag, remote, rcpt, heads=token_heads(diag.lower())) == expected
    )


@pytest.mark.parametrize(
    "affix", [("", ""), ("x ", " y"), ("x", "x"), ("", "ing more"), ("550 ", "s."), ("-", "9")]
)
def test_text_hits_on_every_phrase(affix: tuple[str, str]) -> None:
    """Each phrase of the tables, alone and glued to other words, as the reference reads it."""
    before, after = affix
    for phrase in phrase_index._PHRASE_ROWS:
        text = before + phrase + after
        assert _text_hits(text) == _text_hits_reference(text), text
