"""The policy's one call, ``decide(finding, history, policy)``, without a database.

One row per rule of the README's "Policy" section: what a finding does to its
address given what the store knows of it. (tests/store/test_policy.py runs
the same rules through a real store.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from returnpath.parsers.model import Kind
from returnpath.parsers.vocabulary import SENDER_SIDE_REASONS
from returnpath.store.policy import (
    NO_HISTORY,
    Effect,
    History,
    Policy,
    Seen,
    decide,
)

NOW = datetime(2026, 3, 20, 15, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def soft(*ago: timedelta, reason: str = "mailboxfull") -> History:
    """Soft bounces recorded ``ago`` before NOW."""
    return History(soft_bounces=[(NOW - a, reason) for a in ago])


@dataclass(frozen=True)
class Row:
    rule: str
    finding: Seen
    expect: tuple[Effect, bool, str, datetime | None]  # effect, suppress, stream, until
    history: History = NO_HISTORY
    policy: Policy = field(default_factory=Policy)


def seen(kind: Kind, reason: str, **kw: object) -> Seen:
    return Seen(kind=kind.value, reason=reason, at=NOW, **kw)  # type: ignore[arg-type]


SUPPRESS, COUNT, RESET, RECORD = Effect.SUPPRESS, Effect.COUNT_SOFT, Effect.RESET, Effect.RECORD
VERIFIED = {"verified": True}
EXAMPLE_NET = frozenset({"example.net"})

ROWS = [
    # hard bounce, complaint, unsubscribe: at once, permanently
    Row(
        "a verified hard bounce suppresses every stream, permanently",
        seen(Kind.HARD_BOUNCE, "userunknown", verified=True, stream="marketing"),
        (SUPPRESS, True, "", None),
    ),
    Row(
        "a verified complaint suppresses the stream it came from",
        seen(Kind.COMPLAINT, "feedback", verified=True, stream="marketing"),
        (SUPPRESS, True, "marketing", None),
    ),
    Row(
        "a complaint suppresses every stream when the tenant says so",
        seen(Kind.COMPLAINT, "feedback", verified=True, stream="marketing"),
        (SUPPRESS, True, "", None),
        policy=Policy(complaints_all_streams=True),
    ),
    Row(
        "a complaint without a stream suppresses every stream",
        seen(Kind.COMPLAINT, "feedback", verified=True),
        (SUPPRESS, True, "", None),
    ),
    Row(
        "a verified unsubscribe suppresses the stream its token names",
        seen(Kind.UNSUBSCRIBE, "mailto", verified=True, stream="news"),
        (SUPPRESS, True, "news", None),
    ),
    Row(
        "a verified one-click unsubscribe suppresses the stream its token names",
        seen(Kind.UNSUBSCRIBE, "oneclick", verified=True, stream="news"),
        (SUPPRESS, True, "news", None),
    ),
    Row(
        "a verified unsubscribe whose token names no stream suppresses every stream",
        seen(Kind.UNSUBSCRIBE, "mailto", verified=True),
        (SUPPRESS, True, "", None),
    ),
    # an unverified unsubscribe is a From header anyone can write: never acted on
    Row(
        "an unverified unsubscribe is only recorded",
        seen(Kind.UNSUBSCRIBE, "mailto"),
        (RECORD, False, "", None),
    ),
    Row(
        "an unverified unsubscribe is only recorded by a lenient tenant too",
        seen(Kind.UNSUBSCRIBE, "mailto", family="unsubscribe"),
        (RECORD, False, "", None),
        policy=Policy(unverified_hard_bounces="suppress"),
    ),
    Row(
        "an unverified unsubscribe is only recorded whatever feedback loops are listed",
        seen(Kind.UNSUBSCRIBE, "mailto", sender="fbl@example.net", dkim_domains=EXAMPLE_NET),
        (RECORD, False, "", None),
        policy=Policy(feedback_loop_sources=["example.net"]),
    ),
    # soft bounces: distinct days within the window
    Row(
        "a first soft bounce is counted",
        seen(Kind.SOFT_BOUNCE, "mailboxfull", **VERIFIED),
        (COUNT, False, "", None),
    ),
    Row(
        "three soft bounces on one day do not suppress",
        seen(Kind.SOFT_BOUNCE, "systemerror", **VERIFIED),
        (COUNT, False, "", None),
        history=soft(timedelta(hours=1), timedelta(hours=2), reason="systemerror"),
    ),
    Row(
        "the third distinct day within the window suppresses for 30 days",
        seen(Kind.SOFT_BOUNCE, "systemerror", **VERIFIED),
        (COUNT, True, "", NOW + 30 * DAY),
        history=soft(13 * DAY, 6 * DAY, reason="systemerror"),
    ),
    Row(
        "the window's edge is inclusive at exactly its length",
        seen(Kind.SOFT_BOUNCE, "systemerror", **VERIFIED),
        (COUNT, True, "", NOW + 30 * DAY),
        history=soft(14 * DAY, 7 * DAY, reason="systemerror"),
    ),
    Row(
        "a bounce one second past the window does not count",
        seen(Kind.SOFT_BOUNCE, "systemerror", **VERIFIED),
        (COUNT, False, "", None),
        history=soft(14 * DAY + timedelta(seconds=1), 7 * DAY, reason="systemerror"),
    ),
    Row(
        "the tenant's threshold and hold apply",
        seen(Kind.SOFT_BOUNCE, "systemerror", **VERIFIED),
        (COUNT, True, "", NOW + 5 * DAY),
        history=soft(DAY, reason="systemerror"),
        policy=Policy(soft_bounce_threshold=2, soft_suppression_days=5),
    ),
    Row(
        "a suspended mailbox is held for 90 days",
        seen(Kind.SOFT_BOUNCE, "suspend", **VERIFIED),
        (COUNT, True, "", NOW + 90 * DAY),
        history=soft(2 * DAY, DAY, reason="suspend"),
    ),
    Row(
        "a full mailbox is held for 60 days",
        seen(Kind.SOFT_BOUNCE, "mailboxfull", **VERIFIED),
        (COUNT, True, "", NOW + 60 * DAY),
        history=soft(2 * DAY, DAY),
    ),
    Row(
        "nothing before the last reset counts",
        seen(Kind.SOFT_BOUNCE, "mailboxfull", **VERIFIED),
        (COUNT, False, "", None),
        history=History(
            soft_bounces=[(NOW - 3 * DAY, "mailboxfull"), (NOW - DAY, "mailboxfull")],
            soft_reset_at=NOW - 2 * DAY,
        ),
    ),
    Row(
        "a reset later than the finding leaves nothing to count, not even the finding",
        seen(Kind.SOFT_BOUNCE, "mailboxfull", **VERIFIED),
        (COUNT, False, "", None),
        history=History(soft_bounces=[(NOW, "mailboxfull")], soft_reset_at=NOW + DAY),
        policy=Policy(soft_bounce_threshold=1),
    ),
    Row(
        "sender-side soft bounces in the history do not count",
        seen(Kind.SOFT_BOUNCE, "mailboxfull", **VERIFIED),
        (COUNT, False, "", None),
        history=soft(2 * DAY, DAY, reason="blocked"),
    ),
    Row(
        "a sender-side soft bounce is only recorded",
        seen(Kind.SOFT_BOUNCE, "blocked", **VERIFIED),
        (RECORD, False, "", None),
        history=soft(2 * DAY, DAY, reason="mailboxfull"),
    ),
    # proof of a working mailbox, and what never suppresses
    Row(
        "a delivery report resets the soft count",
        seen(Kind.DELIVERED, "delivered"),
        (RESET, False, "", None),
    ),
    Row(
        "an auto-reply is only recorded",
        seen(Kind.AUTO_REPLY, "vacation"),
        (RECORD, False, "", None),
    ),
    Row("a delay is only recorded", seen(Kind.DELAYED, "expired"), (RECORD, False, "", None)),
    Row(
        "an unknown report is only recorded",
        seen(Kind.UNKNOWN, "undefined"),
        (RECORD, False, "", None),
    ),
    # unverified findings: what the tenant trusts
    Row(
        "an unverified hard bounce in an RFC 3464 report suppresses by default",
        seen(Kind.HARD_BOUNCE, "userunknown", family="rfc3464"),
        (SUPPRESS, True, "", None),
    ),
    Row(
        "an unverified hard bounce in another format is only recorded by default",
        seen(Kind.HARD_BOUNCE, "userunknown", family="qmail"),
        (RECORD, False, "", None),
    ),
    Row(
        "an unverified soft bounce in another format is not even counted",
        seen(Kind.SOFT_BOUNCE, "mailboxfull", family="qmail"),
        (RECORD, False, "", None),
        history=soft(2 * DAY, DAY),
    ),
    Row(
        "a tenant that requires signatures records unverified hard bounces",
        seen(Kind.HARD_BOUNCE, "userunknown", family="rfc3464"),
        (RECORD, False, "", None),
        policy=Policy(unverified_hard_bounces="never"),
    ),
    Row(
        "a lenient tenant trusts unverified hard bounces in any format",
        seen(Kind.HARD_BOUNCE, "userunknown", family="qmail"),
        (SUPPRESS, True, "", None),
        policy=Policy(unverified_hard_bounces="suppress"),
    ),
    Row(
        "an unverified complaint is only recorded by default",
        seen(Kind.COMPLAINT, "feedback", sender="fbl@mail.example.net"),
        (RECORD, False, "", None),
    ),
    Row(
        "a complaint from a named feedback loop (or a subdomain) signed by its domain suppresses",
        seen(Kind.COMPLAINT, "feedback", sender="scomp@FBL.Example.net", dkim_domains=EXAMPLE_NET),
        (SUPPRESS, True, "", None),
        policy=Policy(feedback_loop_sources=["example.net"]),
    ),
    Row(
        "a complaint signed by exactly the sender's domain suppresses",
        seen(
            Kind.COMPLAINT,
            "feedback",
            sender="scomp@fbl.example.net",
            dkim_domains=frozenset({"fbl.example.net"}),
        ),
        (SUPPRESS, True, "", None),
        policy=Policy(feedback_loop_sources=["example.net"]),
    ),
    Row(
        "a listed domain is compared without case or final dot",
        seen(Kind.COMPLAINT, "feedback", sender="fbl@example.net", dkim_domains=EXAMPLE_NET),
        (SUPPRESS, True, "", None),
        policy=Policy(feedback_loop_sources=["Example.NET."]),
    ),
    Row(
        "an unsigned complaint from a named feedback loop is only recorded (From is forgeable)",
        seen(Kind.COMPLAINT, "feedback", sender="scomp@fbl.example.net"),
        (RECORD, False, "", None),
        policy=Policy(feedback_loop_sources=["example.net"]),
    ),
    Row(
        "a complaint from a named feedback loop signed by another domain is only recorded",
        seen(
            Kind.COMPLAINT,
            "feedback",
            sender="scomp@fbl.example.net",
            dkim_domains=frozenset({"attacker.example"}),
        ),
        (RECORD, False, "", None),
        policy=Policy(feedback_loop_sources=["example.net"]),
    ),
    Row(
        "a signature by a subdomain of the sender's is not aligned",
        seen(
            Kind.COMPLAINT,
            "feedback",
            sender="fbl@example.net",
            dkim_domains=frozenset({"users.example.net"}),
        ),
        (RECORD, False, "", None),
        policy=Policy(feedback_loop_sources=["example.net"]),
    ),
    Row(
        "a signature by a top-level label aligns with nothing",
        seen(Kind.COMPLAINT, "feedback", sender="fbl@example.net", dkim_domains=frozenset({"net"})),
        (RECORD, False, "", None),
        policy=Policy(feedback_loop_sources=["example.net"]),
    ),
    Row(
        "a signed complaint from an unlisted sender is only recorded",
        seen(Kind.COMPLAINT, "feedback", sender="fbl@example.net", dkim_domains=EXAMPLE_NET),
        (RECORD, False, "", None),
        policy=Policy(feedback_loop_sources=["other.example"]),
    ),
    Row(
        "a domain that merely ends like a named feedback loop is not one, signed or not",
        seen(
            Kind.COMPLAINT,
            "feedback",
            sender="fbl@badexample.net",
            dkim_domains=frozenset({"badexample.net"}),
        ),
        (RECORD, False, "", None),
        policy=Policy(feedback_loop_sources=["example.net"]),
    ),
    Row(
        "a complaint with a valid token needs no signature",
        seen(Kind.COMPLAINT, "feedback", verified=True, sender="fbl@anywhere.example"),
        (SUPPRESS, True, "", None),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.rule for r in ROWS])
def test_decide(row: Row) -> None:
    d = decide(row.finding, row.history, row.policy)
    assert (d.effect, d.suppress, d.stream, d.until) == row.expect
    assert d.why


@pytest.mark.parametrize("reason", sorted(SENDER_SIDE_REASONS))
def test_sender_side_reasons_never_count_however_often(reason: str) -> None:
    history = soft(*(n * DAY for n in range(1, 10)), reason=reason)
    d = decide(seen(Kind.SOFT_BOUNCE, reason, verified=True), history, Policy())
    assert (d.effect, d.suppress) == (Effect.RECORD, False)
