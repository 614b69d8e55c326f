"""Literal gates: skip a regex scan that cannot match, by plain substring tests.

Why: many families scan kilobytes of report text with case-blind regexes
that, for most messages, match nothing; the regex engine then tries the
pattern at every position. Every match of such a pattern contains one of a
few literals (``literal_gates``, read from the parsed pattern); when none of
them occurs in the lower-cased text, the scan is skipped. Sound because a
gate is ASCII and re.IGNORECASE matches an ASCII character only with ASCII
characters (whose lower case ``str.lower`` gives) and with exactly four
others: U+0130 and U+0131 (i), U+017F (s), U+212A (k), as an exhaustive check
over every code point shows (tests/parsers/test_marker_gates.py). A text
holding none of those four is gated through its lower case whatever else it
holds (Cyrillic, Japanese, surrogate escapes); one holding any is not gated.
"""

from __future__ import annotations

import re

# The regex syntax tree has no public API: ``re._parser`` (``sre_parse`` before
# 3.11, now a deprecated alias) is the only way to read a compiled pattern's
# literals, branches and groups. Used read-only, at import time, and any
# exception means "no gate" (the pattern then always runs). A release that
# changes the tree's shape fails test_marker_gates.py
# (test_the_regex_syntax_tree_has_the_shape_the_gates_read) before it can
# change an answer.
import re._constants as _sre_constants
import re._parser as _sre_parser

__all__ = ["gate_text", "gated_search", "literal_gates", "may_match"]

#: the non-ASCII characters that re.IGNORECASE matches with an ASCII letter
FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")


def gate_text(text: str) -> str | None:
    """``text.lower()`` when literal gates may be tested on it, else None."""
    if not text.isascii():
        for char in FOLDS_TO_ASCII:
            if char in text:
                return None
    return text.lower()


def may_match(pattern: re.Pattern[str], text: str, low: str | None = None) -> bool:
    """False when ``pattern`` cannot match anywhere in ``text``.

    ``low``, if given, is ``gate_text(text)`` (callers that test several
    patterns against one text lower-case it once).
    """
    gates = literal_gates(pattern)
    if gates is None:
        return True
    if low is None:
        low = gate_text(text)
        if low is None:
            return True
    return any(gate in low for gate in gates)


def gated_search(
    pattern: re.Pattern[str], text: str, low: str | None = None
) -> re.Match[str] | None:
    """``pattern.search(text)``, skipped when ``may_match`` says it cannot match."""
    return pattern.search(text) if may_match(pattern, text, low) else None


#: id(pattern) -> (pattern, gates). Keyed by id, not by the pattern: hashing a
#: re.Pattern hashes its whole compiled code (tens of kB for the big provider
#: and reason alternations), and looking one up compares the code too, ~30,000
#: instructions per lookup, more than the gates save. The stored pattern keeps
#: the id from being reused and is checked by identity.
_GATES: dict[int, tuple[re.Pattern[str], tuple[str, ...] | None]] = {}


def literal_gates(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-case literals one of which every match of ``pattern`` contains, or None.

    Read from the parsed pattern: the longest run of literal characters of the
    top-level sequence, or one literal per branch of a top-level alternation
    (or group). None when no gate of at least three ASCII characters exists;
    the pattern is then always run.
    """
    entry = _GATES.get(id(pattern))
    if entry is not None and entry[0] is pattern:
        return entry[1]
    gates: tuple[str, ...] | None
    try:
        parsed = _sre_parser.parse(pattern.pattern, pattern.flags)
        gates = _sequence_gates(list(parsed))
    except Exception:  # a private module changed shape: no gate, same answers
        gates = None
    _GATES[id(pattern)] = (pattern, gates)
    return gates


def _sequence_gates(items: list[tuple[object, object]]) -> tuple[str, ...] | None:
    candidates: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, arg in [*items, (None, None)]:
        if op is _sre_constants.LITERAL and isinstance(arg, int) and arg < 128:
            run.append(chr(arg).lower())
            continue
        if len(run) >= 3:
            candidates.append(("".join(run),))
        run = []
        if op is _sre_constants.BRANCH:
            branches = [_sequence_gates(list(b)) for b in arg[1]]  # type: ignore[index]
            if all(g is not None for g in branches):
                candidates.append(tuple(g for b in branches for g in b))  # type: ignore[union-attr]
        elif op is _sre_constants.SUBPATTERN:
            inner = _sequence_gates(list(arg[-1]))  # type: ignore[index]
            if inner is not None:
                candidates.append(inner)
    if not candidates:
        return None
    return max(candidates, key=lambda gates: min(map(len, gates)))
