"""The consumer's ledger: handled ids outlive the process, and the file stays bounded."""

from __future__ import annotations

from pathlib import Path

from returnpath.consume.ledger import Ledger


def test_a_handled_id_is_remembered_across_a_restart(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "seen.sqlite")
    ledger.record("event-1")
    ledger.close()
    again = Ledger(tmp_path / "seen.sqlite")
    assert again.seen("event-1")
    assert not again.seen("event-2")


def test_the_ledger_keeps_only_the_newest_ids(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "seen.sqlite", keep=100)
    for n in range(1_000):
        ledger.record(f"event-{n}")
    # pruned in steps of a tenth of the bound: never more than 1.1 x keep rows
    assert 100 <= ledger.count() <= 110
    assert ledger.seen("event-999") and ledger.seen("event-900")
    assert not ledger.seen("event-0")


def test_failures_are_counted_until_the_event_is_handled(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "seen.sqlite")
    assert [ledger.fail("e"), ledger.fail("e")] == [1, 2]
    assert ledger.attempts("e") == 2
    ledger.record("e")
    assert ledger.attempts("e") == 0
