"""Every outcome an event can say (``effect``, ``effect_reason``, ``effect_detail``), from
the policy's one call without a database, and as ``returnpath explain`` says it.
(tests/store/test_event_effect.py runs them through the real listener and store.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from returnpath.explain import explain_bytes
from returnpath.parsers.model import Kind
from returnpath.store.policy import NO_HISTORY, History, Outcome, Policy, Seen, Why, decide
from tests.messages import arf, dsn

NOW = datetime(2026, 3, 20, 15, 30, tzinfo=UTC)
DAY = timedelta(days=1)
LISTED = Policy(feedback_loop_sources=["example.net"])

CASES = [
    # kind, reason, Seen extras, history, policy -> outcome, token, words in the detail
    (Kind.HARD_BOUNCE, "userunknown", {"family": "rfc3464"}, NO_HISTORY, Policy(),
     Outcome.SUPPRESSED, Why.HARD_BOUNCE, "suppressed at once"),
    (Kind.COMPLAINT, "feedback", {"verified": True}, NO_HISTORY, Policy(),
     Outcome.SUPPRESSED, Why.COMPLAINT, "suppressed at once"),
    (Kind.UNSUBSCRIBE, "feedback", {"verified": True}, NO_HISTORY, Policy(),
     Outcome.SUPPRESSED, Why.UNSUBSCRIBE, "suppressed at once"),
    (Kind.SOFT_BOUNCE, "mailboxfull", {"family": "rfc3464"},
     History(soft_bounces=[(NOW - DAY, "mailboxfull")]), Policy(),
     Outcome.COUNTED, Why.SOFT_BELOW_THRESHOLD, "2 of 3 days within 14"),
    (Kind.SOFT_BOUNCE, "mailboxfull", {"family": "rfc3464"},
     History(soft_bounces=[(NOW - DAY, "mailboxfull"), (NOW - 2 * DAY, "mailboxfull")]),
     Policy(), Outcome.SUPPRESSED, Why.SOFT_THRESHOLD_REACHED, "3 distinct days within 14"),
    (Kind.DELIVERED, "delivered", {}, NO_HISTORY, Policy(),
     Outcome.RESET, Why.DELIVERED, "soft count restarts"),
    (Kind.SOFT_BOUNCE, "blocked", {"verified": True}, NO_HISTORY, Policy(),
     Outcome.RECORDED, Why.SENDER_SIDE, "blocked is the sender's side"),
    (Kind.AUTO_REPLY, "vacation", {}, NO_HISTORY, Policy(),
     Outcome.RECORDED, Why.KIND_NOT_ACTED_ON, "auto_reply never suppresses"),
    (Kind.UNSUBSCRIBE, "feedback", {}, NO_HISTORY, Policy(),
     Outcome.RECORDED, Why.UNVERIFIED_UNSUBSCRIBE, "never trusted"),
    (Kind.COMPLAINT, "feedback", {"sender": "fbl@example.net"}, NO_HISTORY, Policy(),
     Outcome.RECORDED, Why.FEEDBACK_LOOP_NOT_LISTED, "feedback_loop_sources"),
    (Kind.COMPLAINT, "feedback", {"sender": "fbl@example.net"}, NO_HISTORY, LISTED,
     Outcome.RECORDED, Why.FEEDBACK_LOOP_NOT_SIGNED, "DKIM"),
    (Kind.COMPLAINT, "feedback",
     {"sender": "fbl@example.net", "dkim_domains": frozenset({"example.net"})}, NO_HISTORY,
     LISTED, Outcome.SUPPRESSED, Why.COMPLAINT, "suppressed at once"),
    (Kind.HARD_BOUNCE, "userunknown", {"family": "exim"}, NO_HISTORY, Policy(),
     Outcome.RECORDED, Why.UNVERIFIED_NOT_RFC3464, "rfc3464_only"),
    (Kind.HARD_BOUNCE, "userunknown", {"family": "rfc3464"}, NO_HISTORY,
     Policy(unverified_hard_bounces="never"),
     Outcome.RECORDED, Why.UNVERIFIED_BOUNCES_IGNORED, "is never"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[str(c[6]) for c in CASES])
def test_each_outcome_names_its_reason_and_says_it_in_words(case: tuple[object, ...]) -> None:
    kind, reason, extra, history, policy, outcome, code, words = case
    assert isinstance(kind, Kind) and isinstance(extra, dict)
    finding = Seen(kind=kind.value, reason=str(reason), at=NOW, **extra)
    d = decide(finding, history, policy)  # type: ignore[arg-type]
    assert (d.outcome, d.code) == (outcome, code)
    assert str(words) in d.why


def test_explain_says_what_the_default_policy_would_do() -> None:
    [complaint] = explain_bytes(arf("reader@example.com"))["findings"]
    assert complaint["policy"]["unverified"]["effect"] == "recorded"
    assert complaint["policy"]["unverified"]["effect_reason"] == "feedback_loop_not_listed"
    assert complaint["policy"]["signed"]["effect"] == "suppressed"
    [soft] = explain_bytes(dsn("full@example.org", status="4.2.2"))["findings"]
    assert soft["policy"]["unverified"]["effect_reason"] == "soft_below_threshold"
    assert "1 of 3 days" in soft["policy"]["unverified"]["effect_detail"]
