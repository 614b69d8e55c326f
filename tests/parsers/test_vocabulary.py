"""The reason vocabulary is complete, and nothing in the code speaks outside it.

Two nets: ``Finding.reason``, ``make_finding(reason=)`` and every rule table are typed
``Reason``, so mypy (``make lint``) refuses a bare string anywhere a reason is built;
these tests catch what typing cannot see (string literals given as ``reason=`` in
untyped places, and the reasons the parsers actually give on every sample).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from returnpath.parsers import parse
from returnpath.parsers.vocabulary import REASONS, Reason, info

SRC = Path(__file__).resolve().parents[2] / "src" / "returnpath"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def test_every_reason_has_one_row_with_a_description() -> None:
    assert set(REASONS) == set(Reason)
    for reason, row in REASONS.items():
        assert row.description and not row.description.endswith("."), reason
        assert not (row.hard and row.sender_side), f"{reason}: a dead mailbox is not our fault"


def test_a_name_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError):
        info("mailbox_full")
    assert info("mailboxfull").hard is False
    assert info("userunknown").hard is True
    assert info("blocked").sender_side is True


def _reason_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants given as ``reason=...`` or assigned to a name ending in REASON."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "reason":
            value = node.value
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not any(isinstance(t, ast.Name) and t.id.endswith("REASON") for t in targets):
                continue
            value = node.value  # type: ignore[assignment]
        else:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.append((value.lineno, value.value))
    return found


def test_no_reason_string_in_the_code_is_outside_the_vocabulary() -> None:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        for line, text in _reason_literals(ast.parse(path.read_text(), str(path))):
            if text not in set(Reason):
                bad.append(f"{path.relative_to(SRC)}:{line}: {text!r}")
    assert not bad, bad


def test_the_ast_check_would_catch_a_typo() -> None:
    tree = ast.parse("Finding(kind=k, reason='mailbox_full')\nMY_REASON = 'nope'\n")
    assert sorted(t for _, t in _reason_literals(tree)) == ["mailbox_full", "nope"]


def test_every_reason_the_parsers_give_is_in_the_vocabulary() -> None:
    files = [p for p in FIXTURES.rglob("*.eml")]
    if CORPUS.is_dir():
        files += [p for p in CORPUS.rglob("*.eml")]
    seen = {f.reason for p in files for f in parse(p.read_bytes()).findings}
    assert seen <= set(Reason), seen - set(Reason)
    assert len(seen) > 10
