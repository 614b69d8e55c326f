"""When a failed delivery is tried again.

Exponential back-off with jitter: the n-th retry waits ``base * 4**(n-1)``
seconds, capped at ``CAP``, times a random factor in [0.5, 1.0] ("equal
jitter": never less than half the nominal pause, so an endpoint is not
hammered, and receivers cut at the same moment do not get their retries in
step). With the default base of 20 s the first retry comes within 20 s, then
about 80 s, 5 min, 21 min, 85 min, 4 h, 4 h, ... until the delivery has been
failing for ``webhook_retry_hours`` (26 h by default): at least a day.
"""

from __future__ import annotations

import random

#: the longest pause between two tries
CAP = 4 * 3600.0


def retry_delay(attempts: int, base: float, rng: random.Random) -> float:
    """Seconds before the next try, after ``attempts`` failed tries (>= 1)."""
    nominal: float = min(CAP, base * 4.0 ** min(attempts - 1, 20))
    return nominal * rng.uniform(0.5, 1.0)
