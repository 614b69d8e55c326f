"""The pure parts: the cursor's gap rule, the retry schedule, the signature format."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random

import pytest

from returnpath.webhooks import deliveries
from returnpath.webhooks.schedule import retry_delay
from returnpath.webhooks.signing import headers, new_secret


def test_the_cursor_stops_below_a_fresh_gap_and_passes_an_old_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fanout = deliveries.Fanout(store=None)  # type: ignore[arg-type]
    clock = [1000.0]
    monkeypatch.setattr("returnpath.webhooks.deliveries.time.monotonic", lambda: clock[0])
    # 13 is not visible yet (a transaction still open, or rolled back)
    assert fanout._advance(10, [11, 12, 14, 15]) == 12
    clock[0] += deliveries.GAP_WAIT - 1
    assert fanout._advance(12, [14, 15]) == 12  # may still commit
    clock[0] += 2
    assert fanout._advance(12, [14, 15]) == 15  # older than any transaction: passed
    assert fanout._advance(15, [16, 17]) == 17


class _Top(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_the_first_retry_comes_within_a_minute_and_the_pauses_grow_to_a_cap() -> None:
    rng = random.Random(7)
    for _ in range(1000):
        assert 10 <= retry_delay(1, 20.0, rng) <= 20
    nominal = [retry_delay(n, 20.0, _Top()) for n in range(1, 9)]
    assert nominal == [20, 80, 320, 1280, 5120, 14400, 14400, 14400]
    assert max(retry_delay(n, 20.0, rng) for n in range(1, 400)) <= 4 * 3600


def test_the_signature_is_hmac_sha256_of_id_timestamp_body_with_the_decoded_secret() -> None:
    secret = new_secret()
    got = headers([secret], "msg_1", 1700000000, b'{"a":1}')
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, b'msg_1.1700000000.{"a":1}', hashlib.sha256).digest()
    assert got["webhook-signature"] == "v1," + base64.b64encode(digest).decode()
    assert got["webhook-id"] == "msg_1" and got["webhook-timestamp"] == "1700000000"
