"""Token heads: one scan of a text that lets many literal searches be skipped.

The reason layer asks three questions of a diagnostic: which of ~1,000
reason phrases occur in it, which provider's hosts it names, which SMTP
command it mentions. Asked as substring searches, each question scans the
text once per candidate literal: dozens of scans of the same few hundred
characters.

A *token* is a maximal run of ``[a-z0-9]`` in lower-cased text, and its
*head* is its first (up to) four characters. ``token_heads`` computes the set
of heads of a text in one pass of C string methods. Many literals can only
occur where some head occurs: a phrase's later words start tokens of any text
holding the phrase ("mailbox is full" needs the heads ``is`` and ``full``),
and a provider's host pattern that starts with ``\\b`` starts a token
("\\bgmail\\.com" needs ``gmai``). A set lookup then rules a literal out
before its substring search runs. The gates only skip searches that cannot
succeed, so every answer is the one the plain searches give; the tests hold
them to that.
"""

from __future__ import annotations

import re

# The regex syntax tree has no public API: ``re._parser`` (``sre_parse`` before
# 3.11, now a deprecated alias) is the only way to read a compiled pattern's
# literals, branches and groups. Used read-only, at import time, and any
# exception means "no gate" (the pattern then always runs). A release that
# changes the tree's shape fails test_heads.py
# (test_the_regex_syntax_tree_has_the_shape_the_gates_read) before it can
# change an answer.
import re._constants as _sre_constants
import re._parser as _sre_parser

__all__ = ["HeadGates", "PatternHeads", "pattern_heads", "phrase_heads", "token_heads"]

#: the set ``token_heads`` computes, as a regex (the reference definition)
TOKEN_HEAD_RE = re.compile(r"(?<![a-z0-9])[a-z0-9]{1,4}")
_TOKEN_RE = re.compile(r"[a-z0-9]+")
#: every byte outside [a-z0-9] -> space, the others to themselves: for ASCII text,
#: encoding, translating the bytes and decoding is twice as fast as ``str.translate``
#: (which looks each distinct character up in a dict)
_NOT_TOKEN = bytes(c if (97 <= c <= 122 or 48 <= c <= 57) else 32 for c in range(256))
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def token_heads(text: str) -> set[str]:
    """``set(TOKEN_HEAD_RE.findall(text))``: the first four characters of every run of
    ``[a-z0-9]``. For ASCII text without the regex engine (a lookbehind at every
    position, ~30 ns a character): a byte table turns every other character
    into a space, ``str.split`` gives the runs."""
    if not text.isascii():
        return set(TOKEN_HEAD_RE.findall(text))
    words = text.encode("ascii").translate(_NOT_TOKEN).decode("ascii").split()
    return {word[:4] for word in words}


def phrase_heads(phrase: str) -> frozenset[str]:
    """Heads that every lower-cased text containing ``phrase`` has.

    A word of the phrase preceded, inside the phrase, by another character
    starts a token wherever the phrase occurs (tokens are maximal runs, and
    that character is not a token character); its head is fixed when the word
    is followed by another character of the phrase (the token ends there) or
    has four characters or more. The phrase's first word may sit inside a
    longer token of the text ("mail from" in "email from"), so it gives none.
    """
    heads: set[str] = set()
    for m in _TOKEN_RE.finditer(phrase):
        if m.start() == 0:
            continue
        word = m.group(0)
        if m.end() < len(phrase) or len(word) >= 4:
            heads.add(word[:4])
    return frozenset(heads)


class PatternHeads:
    """What a case-blind pattern needs of a text it can match.

    ``by_head`` maps a token head to literals: a text holding a match has one
    of these heads and, with it, one of its literals (none listed: the head
    alone). ``literals`` are lower-case literals of which the text holds one
    otherwise. ``always`` is set when some way through the pattern gives
    neither (the pattern must then always run). ``HeadGates`` applies them.
    """

    __slots__ = ("always", "by_head", "literals")

    def __init__(
        self, by_head: dict[str, tuple[str, ...]], literals: tuple[str, ...], always: bool
    ) -> None:
        self.by_head = by_head
        self.literals = literals
        self.always = always


class HeadGates:
    """Several patterns' ``PatternHeads`` in one table: head -> (pattern index,
    literals), so that a text's heads are looked up once for all the patterns
    instead of once per pattern."""

    __slots__ = ("always", "by_head", "literals")

    def __init__(self, gates: list[PatternHeads]) -> None:
        by_head: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        literals: list[tuple[int, str]] = []
        for index, gate in enumerate(gates):
            for head, confirm in gate.by_head.items():
                by_head.setdefault(head, []).append((index, confirm))
            literals.extend((index, literal) for literal in gate.literals)
        self.by_head = {head: tuple(entries) for head, entries in by_head.items()}
        self.literals = tuple(literals)
        self.always = tuple(gate.always for gate in gates)

    def candidates(self, low: str, heads: set[str], more: set[str] | None = None) -> list[bool]:
        """Per pattern: False when it cannot match the text whose lower case is
        ``low`` and whose token heads are ``heads`` (and ``more``, when the text is
        two parts whose heads were taken apart). See ``pattern_heads`` for when
        that holds. The dict lookups come first: most heads are absent, and then
        no substring search runs."""
        found = list(self.always)
        self._mark(found, heads, low)
        if more is not None:
            self._mark(found, more, low)
        for index, literal in self.literals:
            if not found[index] and literal in low:
                found[index] = True
        return found

    def _mark(self, found: list[bool], heads: set[str], low: str) -> None:
        for head in heads:
            entries = self.by_head.get(head)
            if entries is not None:
                for index, literals in entries:
                    if not found[index] and _confirms(literals, low):
                        found[index] = True


def _confirms(literals: tuple[str, ...], low: str) -> bool:
    """True when ``literals`` is empty or one of them occurs in ``low``."""
    if not literals:
        return True
    # a loop, not any(): compiled, no generator object per call
    for literal in literals:  # noqa: SIM110
        if literal in low:
            return True
    return False


#: (starts at a word boundary, literal prefix, the prefix is the whole branch)
_Path = tuple[bool | None, str, bool]
_MAX_PATHS = 64
_TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def pattern_heads(pattern: re.Pattern[str]) -> PatternHeads:
    """The heads and literals every match of ``pattern`` needs.

    Read from the parsed pattern: each way through its leading literals,
    branches and groups gives a literal prefix that every match taking that
    way begins with.

    - After ``\\b``, the prefix's first token starts a token of the text. When
      the prefix completes it (a literal non-token character follows) or has
      four characters of it, that is the head, confirmed by the prefix; when
      the pattern goes on with something else after two or three characters
      ("\\bIB\\d{3}"), the head is those characters followed by up to four of
      ``[a-z0-9]``, every one of which is listed.
    - Otherwise a later word of the prefix may fix a head (``phrase_heads``:
      "protection.outlook.com" needs ``outl``), confirmed by the prefix; else
      a prefix of two characters or more is a literal; else ``always``.

    Sound for a text ``t`` only where ``gates.gate_text(t)`` is not None: the
    pattern is case-blind, and only then do all of its matches lower-case to
    the ASCII letters the heads are made of (see parsers/gates.py).
    """
    try:
        paths = _paths(list(_sre_parser.parse(pattern.pattern, pattern.flags)), [(None, "", True)])
    except Exception:  # a private module changed shape: no gate, same answers
        paths = None
    if paths is None:
        return PatternHeads({}, (), True)
    by_head: dict[str, set[str] | None] = {}
    literals: set[str] = set()
    always = False
    for bounded, prefix, _ in paths:
        token = _leading_token(prefix)
        later = sorted(phrase_heads(prefix), key=lambda h: (-len(h), h))
        if bounded and token and (len(token) >= 4 or len(token) < len(prefix)):
            _confirm(by_head, token[:4], prefix)
        elif bounded and len(token) in (2, 3):
            for head in _expansions(token):
                by_head[head] = None  # the head holds the prefix: nothing to confirm
        elif later:
            _confirm(by_head, later[0], prefix)
        elif len(prefix) >= 2:
            literals.add(prefix)
        else:
            always = True
    return PatternHeads(
        {
            head: () if found is None else _shortest(found)
            for head, found in sorted(by_head.items())
        },
        _shortest(literals),
        always,
    )


def _confirm(by_head: dict[str, set[str] | None], head: str, prefix: str) -> None:
    if head in by_head and by_head[head] is None:
        return  # already needs nothing more
    found = by_head.setdefault(head, set())
    if found is not None:
        found.add(prefix)


def _expansions(token: str) -> list[str]:
    """``token`` and every head that starts with it (up to four characters)."""
    out = [token]
    grow = [token]
    while len(grow[0]) < 4:
        grow = [t + c for t in grow for c in _TOKEN_ALPHABET]
        out.extend(grow)
    return out


def _shortest(literals: set[str]) -> tuple[str, ...]:
    """The literals, less those containing a shorter one (they add no test)."""
    return tuple(sorted(w for w in literals if not any(o != w and o in w for o in literals)))


def _leading_token(prefix: str) -> str:
    n = 0
    while n < len(prefix) and prefix[n] in _TOKEN_CHARS:
        n += 1
    return prefix[:n]


def _paths(items: list[tuple[object, object]], paths: list[_Path]) -> list[_Path] | None:
    """Extend each path through ``items``; a path stops at the first item that is
    not a literal, a boundary, a branch or a group (None: too many paths)."""
    for op, arg in items:
        live = [p for p in paths if p[2]]
        if not live:
            break
        done = [p for p in paths if not p[2]]
        if op is _sre_constants.LITERAL and isinstance(arg, int) and arg < 128:
            char = chr(arg).lower()
            paths = done + [(False if b is None else b, s + char, True) for b, s, _ in live]
        elif op is _sre_constants.AT and arg is _sre_constants.AT_BOUNDARY:
            paths = done + [(True if b is None and not s else b, s, True) for b, s, _ in live]
        elif op is _sre_constants.BRANCH:
            grown: list[_Path] = []
            for branch in arg[1]:  # type: ignore[index]
                more = _paths(list(branch), live)
                if more is None:
                    return None
                grown.extend(more)
            paths = done + grown
        elif op is _sre_constants.SUBPATTERN:
            more = _paths(list(arg[-1]), live)  # type: ignore[index]
            if more is None:
                return None
            paths = done + more
        else:
            paths = done + [(b, s, False) for b, s, _ in live]
        if len(paths) > _MAX_PATHS:
            return None
    return paths
