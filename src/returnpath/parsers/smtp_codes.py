"""The SMTP clues in a text: RFC 3463 enhanced status codes, RFC 5321 reply
codes, and the SMTP command the remote host answered.

A bounce quotes the remote host's reply somewhere in its diagnostic ("550
5.1.1 <a@b>: ... after RCPT TO"); these finders read the clues out of such
text for the decision in ``parsers.reasons``. When a text holds several,
a failure (4.x.x, 5.x.x) beats a success: a transcript shows ``250 2.1.5 Ok``
for RCPT before ``451 4.3.0`` for DATA, and the failure is what the report is
about.
"""

from __future__ import annotations

import re

from returnpath.parsers.heads import phrase_heads

# Reference forms (what these match, position for position):
#   _STATUS_RE       \b([245])\.(\d{1,3})\.(\d{1,3})\b
#   _REPLY_RE        (?<![\d.])([245][0-5]\d)(?=[ \-]|$)(?![\d.])        (re.M)
# (_FAIL_*: the same with [45]). Written to start with the digit class and test
# what precedes it by a lookbehind *after* that digit: a pattern that starts with
# an assertion makes the regex engine try every position of the text, one that
# starts with a character class lets it skip to the candidates (4-5x faster here;
# tests/parsers/test_fast_patterns.py checks both forms agree).
_STATUS_RE = re.compile(r"([245])(?<=\b[245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_RE = re.compile(r"([245](?<![\d.][245])[0-5]\d)(?=[ \-]|$)(?![\d.])", re.M)
_FAIL_STATUS_RE = re.compile(r"([45])(?<=\b[45])\.(\d{1,3})\.(\d{1,3})\b")
_FAIL_REPLY_RE = re.compile(r"([45](?<![\d.][45])[0-5]\d)(?=[ \-]|$)(?![\d.])", re.M)


#: which SMTP command the remote host answered, in the words MTAs use for it;
#: the earliest mention in the diagnostic wins
COMMAND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "DATA",
        (
            "end of data",
            " data command",
            "final data",
            "after data",
            ">>> data",
            "in reply to data",
            "[data]",
            # qmail-remote's own account of the session
            "failed after i sent the message",
        ),
    ),
    (
        "RCPT",
        (
            "rcpt to",
            "rcpt command",
            ">>> rcpt",
            "smtp:rcpt",
            "does not like recipient",
            "recipient address rejected",
            "[rcpt_to]",
            # replies only a directory lookup at RCPT time gives
            "resolver.adr.",
            # Gmail's DSN headline for a recipient the remote refused at RCPT time,
            # and its old notices' session state for RCPT
            "because the address couldn't be found",
            "(state 14)",
        ),
    ),
    ("MAIL", ("mail from", "sender address rejected", "[mail_from]")),
    (
        "HELO",
        (
            "helo ",
            "ehlo ",
            "helo:",
            "ehlo:",
            "helo command",
            "ehlo command",
            "but my name was rejected",
        ),
    ),
    ("CONN", ("initial connection", "connect to", "greeting", " banner")),
)

#: command evidence words cannot state: (gate literal, command, pattern)
COMMAND_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    # Office 365 relaying a remote refusal: RCPT only when the remote's reply names the
    # address ("-> 550 5.1.1 <a@b>: ..."), not when it is a bare "-> 550 : User unknown"
    (
        "returned unknown recipient",
        "RCPT",
        re.compile(r"returned unknown recipient or mailbox unavailable ->[^@\n]{0,80}@"),
    ),
)

#: literals shared by many ``COMMAND_WORDS`` (each word is filed under the first
#: one it contains, or under itself): a text lacking a gate lacks all its words,
#: so most texts cost a dozen substring tests instead of one per word
COMMAND_GATES: tuple[str, ...] = (
    "data",
    "rcpt",
    "helo",
    "ehlo",
    "connect",
)


def _gate_command_words() -> tuple[tuple[str, frozenset[str]], ...]:
    gated: dict[str, set[str]] = {}
    for _, words in COMMAND_WORDS:
        for word in words:
            gate = next((g for g in COMMAND_GATES if g in word), word)
            gated.setdefault(gate, set()).add(word)
    return tuple((gate, frozenset(words)) for gate, words in gated.items())


def _head_command_words() -> tuple[
    tuple[tuple[str, frozenset[str]], ...], tuple[tuple[str, frozenset[str]], ...]
]:
    """``_COMMAND_GATED`` for a text whose token heads are known: a word with a head
    of its own (``phrase_heads``: " data command" needs ``data`` and ``comm``) is
    filed under the longest such head, a set lookup; the others ("rcpt to", which
    may end a longer token such as "xrcpt to") keep their literal gate."""
    by_head: dict[str, set[str]] = {}
    by_literal: dict[str, set[str]] = {}
    for _, words in COMMAND_WORDS:
        for word in words:
            needs = sorted(phrase_heads(word))
            if needs:
                by_head.setdefault(max(needs, key=len), set()).add(word)
            else:
                gate = next((g for g in COMMAND_GATES if g in word), word)
                by_literal.setdefault(gate, set()).add(word)
    return (
        tuple((h, frozenset(w)) for h, w in by_head.items()),
        tuple((g, frozenset(w)) for g, w in by_literal.items()),
    )


_COMMAND_GATED = _gate_command_words()
_COMMAND_BY_HEAD, _COMMAND_BY_LITERAL = _head_command_words()


def find_status(text: str | None) -> str | None:
    """The first failure code (4.x.x, 5.x.x) in a text, else the first success code.

    A transcript shows ``250 2.1.5 Ok`` for RCPT before ``451 4.3.0`` for DATA:
    the failure is what the report is about.
    """
    if not text:
        return None
    m = _FAIL_STATUS_RE.search(text) or _STATUS_RE.search(text)
    return f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else None


def find_reply_code(text: str | None) -> str | None:
    """The first failure reply code (4xx, 5xx) in a text, else the first reply code."""
    if not text:
        return None
    m = _FAIL_REPLY_RE.search(text) or _REPLY_RE.search(text)
    return m.group(1) if m else None


def find_command(text: str | None, heads: set[str] | None = None) -> str | None:
    """``RCPT``, ``DATA``, ``MAIL``, ``HELO`` or ``CONN``: what the remote host refused.

    ``heads``, when the caller has them, are ``token_heads(text.lower())``: most
    words are then ruled out by set lookups instead of substring searches.
    """
    if not text:
        return None
    low = text.lower()
    best, where = None, len(low)
    live: set[str] = set()
    if heads is None:
        for gate, gated in _COMMAND_GATED:
            if gate in low:
                live.update(gated)
    else:
        for head, gated in _COMMAND_BY_HEAD:
            if head in heads:
                live.update(gated)
        for gate, gated in _COMMAND_BY_LITERAL:
            if gate in low:
                live.update(gated)
    if live:  # only words whose gate occurs can occur
        for command, words in COMMAND_WORDS:
            for word in words:
                if word in live:
                    at = low.find(word, 0, where)
                    if at >= 0:
                        best, where = command, at
    for gate, command, pattern in COMMAND_PATTERNS:
        if gate in low:
            m = pattern.search(low, 0, where)
            if m is not None:
                best, where = command, m.start()
    return best


def is_vague(status: str | None) -> bool:
    """X.0.0 carries only the class: Exim writes 5.0.0 for every failure."""
    return not status or status.endswith(".0.0") or ".0.9" in status
