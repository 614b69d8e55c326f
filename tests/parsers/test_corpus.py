"""Run every corpus file through the parsers: nothing raises, no non-bounce is flagged.

The corpus lives outside the repository (../shared/corpus, its own licences);
the test is skipped when it is absent. Accuracy is measured by
bench/corpus_score.py, not asserted here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from returnpath.parsers import parse

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

pytestmark = pytest.mark.corpus


def _files(*parts: str) -> list[Path]:
    return sorted(p for part in parts for p in (CORPUS / part).rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not (CORPUS / "maildir").is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


def test_every_file_parses_without_error(corpus: Path) -> None:
    failures = []
    for path in _files("maildir", "flufl-bounce", "to-be-debugged-because"):
        report = parse(path.read_bytes())
        if report.error and report.error != "no finding":
            failures.append(f"{path.relative_to(corpus)}: {report.error}")
    assert failures == []


def test_non_bounces_are_not_flagged(corpus: Path) -> None:
    for path in _files("maildir/not"):
        report = parse(path.read_bytes())
        assert [f.kind.value for f in report.findings if f.kind.value != "unknown"] == [], path


def test_most_bounces_name_a_recipient(corpus: Path) -> None:
    files = _files("maildir/bsd")
    named = sum(1 for p in files if any(f.recipient for f in parse(p.read_bytes()).findings))
    assert named / len(files) > 0.95
