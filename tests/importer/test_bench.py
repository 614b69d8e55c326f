"""bench/import_mbox.py, tiny: it runs, and measures what it says (the 1,000,000-message
run is for bench/results, not for CI)."""

from __future__ import annotations

import pytest

from bench import import_mbox


def test_the_mbox_benchmark_imports_everything_and_samples_memory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = import_mbox.main(["--messages", "100"])
    assert result["new"] == 100
    assert result["samples"][-1][0] == 100  # the last progress line, with its VmRSS
    assert result["peak_rss_mib"] >= result["rss_end_mib"] > 0
    assert "memory: VmRSS" in capsys.readouterr().out
