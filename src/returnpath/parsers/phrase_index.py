"""The matching engine: which rows of the rule tables a diagnostic's words hit.

Why not one regex per row: an alternation of hundreds of phrases costs the
regex engine every phrase at every position (about 0.4 ms per diagnostic, the
whole parsing budget). Instead every phrase of ``reason_rules.RULES`` and
``LATE_RULES`` is filed in an index under the start of its first word
(``_key``) and the heads of its other words (``heads.phrase_heads``); a
diagnostic's own token heads pick the few candidates, and a plain substring
test confirms them. The rows' regexes run only behind their gate literals.
Rows are numbered by their position in ``RULES + LATE_RULES``: the decision
(``parsers.reasons``) visits the numbers in order, so precedence stays the
tables' order.
"""

from __future__ import annotations

import re

from returnpath.parsers.heads import phrase_heads, token_heads
from returnpath.parsers.reason_rules import LATE_RULES, RULES, Rule

_TOKEN_RE = re.compile(r"[a-z0-9]+")


def _key(phrase: str) -> str:
    """The index key of a phrase: the first four characters of its first word.

    A phrase is found only where its first word starts a word of the text
    ("spam" matches "spammer" but not "antispam"): the price of an index that
    makes matching hundreds of phrases cost a few microseconds.
    """
    m = _TOKEN_RE.search(phrase)
    return m.group(0)[:4] if m else phrase[:4]


# reference form: (?<!\S)[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}(?!\S))?  (see smtp_codes._STATUS_RE)
_REPLY_PREFIX_RE = re.compile(r"[245](?<!\S[245])\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}(?!\S))?")


def _collapse(text: str) -> str:
    """``re.sub(r"\\s+", " ", text)`` by ``str.split`` (which splits on exactly the
    characters ``\\s`` matches): runs of whitespace become one space, ends included."""
    words = text.split()
    if not words:
        return " " if text else ""
    out = " ".join(words)
    if text[0].isspace():
        out = " " + out
    if text[-1].isspace():
        out += " "
    return out


def _join_reply_lines(text: str) -> str:
    """Drop the code prefixes of a multi-line reply's continuation lines.

    "552-5.7.0 ... a potential 552-5.7.0 security issue" must read as
    "... a potential security issue" for the phrase tables. The first
    prefix stays (it is the reply code). ``text`` is collapsed (``_collapse``):
    a reply of one line then comes back as it is, without a new string.
    """
    first = _REPLY_PREFIX_RE.search(text)
    if first is None:
        return text
    tail = text[first.end() :]
    if _REPLY_PREFIX_RE.search(tail) is None:
        return text  # = head + _collapse(tail): a collapsed text's tail is collapsed
    return text[: first.end()] + _collapse(_REPLY_PREFIX_RE.sub("", tail))


def _build_index(rules: tuple[Rule, ...]) -> dict[str, list[tuple[int, str]]]:
    index: dict[str, list[tuple[int, str]]] = {}
    for n, rule in enumerate(rules):
        for phrase in rule.words:
            index.setdefault(_key(phrase), []).append((n, phrase))
    return index


ALL_RULES = RULES + LATE_RULES
_INDEX = _build_index(ALL_RULES)
#: the phrases filed under each key (each once), and the rows each phrase belongs to
_KEY_PHRASES: dict[str, tuple[str, ...]] = {
    key: tuple(dict.fromkeys(phrase for _, phrase in rows)) for key, rows in _INDEX.items()
}
_PHRASE_ROWS: dict[str, tuple[int, ...]] = {}
for _rows in _INDEX.values():
    for _n, _phrase in _rows:
        _PHRASE_ROWS[_phrase] = (*_PHRASE_ROWS.get(_phrase, ()), _n)


def _buckets() -> dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]:
    """Per index key: its phrases grouped by the other heads they need.

    Every text holding a phrase has the heads of its later words
    (``phrase_heads``), so a phrase is searched for only when the text has them
    all: for the ~460 diagnostics of the corpus that leaves ~6 substring
    searches each of ~21 with the key alone. Each group is (heads, phrases);
    the heads are a tuple, walked by plain membership tests."""
    out: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {}
    for key, phrases in _KEY_PHRASES.items():
        groups: dict[tuple[str, ...], list[str]] = {}
        for phrase in phrases:
            needs = tuple(sorted(phrase_heads(phrase) - {key}))
            groups.setdefault(needs, []).append(phrase)
        out[key] = tuple((needs, tuple(found)) for needs, found in groups.items())
    return out


_KEY_BUCKETS = _buckets()
_REGEX_RULES = tuple((n, r.regexes) for n, r in enumerate(ALL_RULES) if r.regexes)
LATE_OFFSET = len(RULES)
#: row -> its regexes, each behind its gate literals
_ROW_REGEXES: dict[int, tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]] = dict(_REGEX_RULES)
#: the regex rows among RULES and among LATE_RULES: ``reason_for`` visits them in order
EARLY_REGEX_ROWS = frozenset(n for n, _ in _REGEX_RULES if n < LATE_OFFSET)
LATE_REGEX_ROWS = frozenset(n for n, _ in _REGEX_RULES if n >= LATE_OFFSET)
TEXT_CAP = 4000


def _rows_by(codes: str) -> dict[str, frozenset[int]]:
    """Status (``codes="statuses"``) or reply code -> the rows (of RULES + LATE_RULES)
    that list it: with the text hits the only rows ``_match`` can accept."""
    rows: dict[str, set[int]] = {}
    for n, rule in enumerate(ALL_RULES):
        for code in getattr(rule, codes):
            rows.setdefault(code, set()).add(n)
    return {code: frozenset(found) for code, found in rows.items()}


STATUS_ROWS = _rows_by("statuses")
REPLY_ROWS = _rows_by("replycodes")


def phrase_hits(text: str, heads: set[str] | None = None) -> set[int]:
    """Indexes of the rows whose words occur in ``text`` (see the module docstring).

    ``heads``: the text's token heads, ``token_heads(text)`` when not given.
    """
    hits: set[int] = set()
    if not text:
        return hits
    if heads is None:
        heads = token_heads(text)
    # every phrase filed under a head of the text whose other heads the text has too
    # (plain loops: compiled by mypyc, they call the substring search directly)
    for key in heads:
        bucket = _KEY_BUCKETS.get(key)
        if bucket is None:
            continue
        for needs, phrases in bucket:
            missing = False
            for head in needs:
                if head not in heads:
                    missing = True
                    break
            if missing:
                continue
            for phrase in phrases:
                if phrase in text:
                    for n in _PHRASE_ROWS[phrase]:
                        hits.add(n)
    return hits


def regex_hit(n: int, text: str) -> bool:
    """Whether one of row ``n``'s regexes matches, each run only when one of its gate
    literals occurs (several of these regexes cost 5-15 µs on a long diagnostic)."""
    for gate, regex in _ROW_REGEXES[n]:
        for word in gate:
            if word in text:
                if regex.search(text) is not None:
                    return True
                break
    return False


def reason_text(diagnostic: str | None, collapsed: bool = False) -> str:
    """The diagnostic as the phrase tables read it: lower case, whitespace collapsed,
    continuation-line reply codes dropped, at most ``TEXT_CAP`` characters.
    ``collapsed``: the caller collapsed the whitespace already (base.make_finding)."""
    if not diagnostic:
        return ""
    text = diagnostic[:TEXT_CAP].lower()
    return _join_reply_lines(text if collapsed else _collapse(text))


def _row_keys() -> tuple[dict[str, tuple[str, ...]], ...]:
    """Per row of ``ALL_RULES``: its phrases by index key (``phrase_of`` reads one row)."""
    out: list[dict[str, tuple[str, ...]]] = []
    for rule in ALL_RULES:
        keys: dict[str, tuple[str, ...]] = {}
        for phrase in rule.words:
            keys[_key(phrase)] = (*keys.get(_key(phrase), ()), phrase)
        out.append(keys)
    return tuple(out)


_ROW_KEYS = _row_keys()


def phrase_of(n: int, text: str, heads: set[str]) -> str | None:
    """The phrase of row ``n`` that ``phrase_hits`` found in ``text`` (the evidence a
    finding carries: the first in the text, the longest of those starting there), else the
    text its regex matched, else None. Called once per decision, for the deciding row
    only: its phrases filed under a head of the text are searched (the smaller of the two
    sets is walked)."""
    best: str | None = None
    best_at = len(text) + 1
    keys = _ROW_KEYS[n]
    if len(keys) <= len(heads):
        found = [phrases for key, phrases in keys.items() if key in heads]
    else:
        found = [keys[key] for key in heads if key in keys]
    for phrases in found:
        for phrase in phrases:
            at = text.find(phrase)
            if at >= 0 and (at < best_at or (at == best_at and len(phrase) > len(best or ""))):
                best, best_at = phrase, at
    if best is not None:
        return best
    for gate, regex in _ROW_REGEXES.get(n, ()):
        for word in gate:
            if word in text:
                m = regex.search(text)
                if m is not None:
                    return m.group(0)
                break
    return None
