"""``parse`` leaves no reference cycle behind: the per-message memos hold the
message's own parts, and ``parsers._release`` drops them once the Report is
made, so each tree is freed by reference counting, not by the cycle collector."""

from __future__ import annotations

import gc
from pathlib import Path

from returnpath.parsers import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_parsing_leaves_no_cyclic_garbage() -> None:
    files = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
    assert files
    raws = [p.read_bytes() for p in files]
    for raw in raws:  # first use builds module-level caches
        parse(raw)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for raw in raws:
            parse(raw)
            parse(raw, "b+someone=example.org@bounces.example.com")
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()
