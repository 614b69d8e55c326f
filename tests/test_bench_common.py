"""The benchmarks' percentile is the nearest-rank one (their figures go into the README)."""

from __future__ import annotations

import math

from bench.common import percentile


def test_nearest_rank_percentiles() -> None:
    hundred = [float(v) for v in range(100, 0, -1)]  # order does not matter
    assert percentile(hundred, 50) == 50.0
    assert percentile(hundred, 99) == 99.0  # not the maximum
    assert percentile(hundred, 100) == 100.0
    thirty = [float(v) for v in range(1, 31)]
    assert (percentile(thirty, 50), percentile(thirty, 90), percentile(thirty, 99)) == (
        15.0,
        27.0,
        30.0,
    )
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
