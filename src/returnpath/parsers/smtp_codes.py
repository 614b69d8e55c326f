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
#   _CODE_RE         (?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})\b(?!\.\d)
#   _REPLY_RE        (?<![\d.])([245][0-5]\d)(?=[ \-]|$)(?![\d.])        (re.M)
# (_FAIL_REPLY_RE: the same with [45]). Written to start with the digit class and
# test what precedes it by a lookbehind *after* that digit: a pattern that starts
# with an assertion makes the regex engine try every position of the text, one that
# starts with a character class lets it skip to the candidates (4-5x faster here;
# tests/parsers/test_fast_patterns.py checks both forms agree).
# ``_CODE_RE`` finds what *looks* like an enhanced status code: three dotted numbers
# that are not part of a longer dotted number (10.5.1.1, [5.2.1.0], 5.1.1.3).
_CODE_RE = re.compile(r"([245])(?<![\w.][245])\.(\d{1,3})\.(\d{1,3})\b(?!\.\d)")
_REPLY_RE = re.compile(r"([245](?<![\d.][245])[0-5]\d)(?=[ \-]|$)(?![\d.])", re.M)
_FAIL_REPLY_RE = re.compile(r"([45](?<![\d.][45])[0-5]\d)(?=[ \-]|$)(?![\d.])", re.M)

#: Where an enhanced status code can stand: the text just before a code-shaped
#: number must end with one of these, or the number is something else (an
#: address, a version, a date, a figure in a sentence: "host 5.4.3.2 said",
#: "Postfix 2.5.1", "at 5.2.25"). Each names where the shape is defined.
STATUS_PLACES: tuple[tuple[str, str], ...] = (
    # RFC 3464 section 2.3.4: the Status field's value is the code itself, and a
    # diagnostic whose type prefix was removed ("smtp; 5.1.1 ...") starts with it;
    # a line of a report may start with one (sendmail's "5.1.1 <a>... User unknown")
    ("start of text or line", r"(?:^|\n)[ \t]*"),
    # RFC 2034 section 4 / RFC 3463 section 1: the enhanced code follows the reply
    # code and one space ("550 5.1.1"); RFC 5321 section 4.2.1 continuation lines use
    # a hyphen ("550-5.1.1"). Exchange writes "550 #5.1.1", some servers "550 (5.1.1)";
    # relays that quote the remote reply write "550-'5.7.1 ...'" (Amazon SES's
    # Diagnostic-Code) or "550: 5.1.1" (Yahoo's own bounce notice)
    ("after a reply code", r"(?<![\w.])[245]\d\d(?:[ -]|:[ \t]*)['\"]?(?:#|\()?"),
    # a reply quoted after a label: Postfix "said: 5.1.1 ...", a remote's own
    # "RCPT TO not accepted: 5.7.1 ...", Zoho's "ERROR_CODE :5.2.1"
    ("after a colon", r":[ \t]*"),
    # qmail's bounce texts end with the code after a hash ("Sorry, no mailbox here by
    # that name. (#5.1.1)", qmail-local.c / qmail-remote.c); Exchange's NDRs quote
    # "#5.1.1 smtp;550 ..." (learn.microsoft.com, "NDRs in Exchange Server")
    ("after a hash", r"#"),
    # RFC 3464 section 2.3.6: a diagnostic of type smtp written without the space
    # ("smtp;5.1.1"); a Status field quoted inside a human-readable part; Postfix's
    # log lines and bounce(8) logs: "dsn=5.1.1" (postfix/src/global/log_adhoc.c)
    ("after a field name", r"(?:smtp;|status:|status=|dsn=)[ \t]*"),
)
_PLACE_RE = re.compile(r"(?:" + "|".join(p for _, p in STATUS_PLACES) + r")\Z", re.I)
#: how much text before a code a place may span
_PLACE_SPAN = 16

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
    """The first failure code (4.x.x, 5.x.x) in a text, else the first success code,
    counting only codes that stand where a status can (``STATUS_PLACES``).

    A transcript shows ``250 2.1.5 Ok`` for RCPT before ``451 4.3.0`` for DATA:
    the failure is what the report is about.
    """
    if not text:
        return None
    success = None
    for m in _CODE_RE.finditer(text):
        start = m.start()
        if start and not _PLACE_RE.search(text, max(0, start - _PLACE_SPAN), start):
            continue
        if m.group(1) != "2":
            if text[start - 1 : start] == "(" and text[m.end() : m.end() + 1] != ")":
                continue  # "(5.1.1)" is a code, "(5.1.1 and more" is not a place
            return f"{m.group(1)}.{m.group(2)}.{m.group(3)}"
        if success is None:
            success = f"{m.group(1)}.{m.group(2)}.{m.group(3)}"
    return success


def find_reply_code(text: str | None) -> str | None:
    """The first failure reply code (4xx, 5xx) in a text, else the first reply code."""
    if not text:
        return None
    m = _FAIL_REPLY_RE.search(text) or _REPLY_RE.search(text)
    return m.group(1) if m else None


_SPACES_RE = re.compile(r"\s+")


def find_command(text: str | None, heads: set[str] | None = None) -> str | None:
    """``RCPT``, ``DATA``, ``MAIL``, ``HELO`` or ``CONN``: what the remote host refused.

    ``heads``, when the caller has them, are ``token_heads(text.lower())``: most
    words are then ruled out by set lookups instead of substring searches.
    """
    if not text:
        return None
    low = text.lower()
    if "\n" in low:
        # Postfix folds its human part at 76 columns: "(in reply to RCPT\n    TO command)"
        low = _SPACES_RE.sub(" ", low)
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
