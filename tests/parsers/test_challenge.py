"""Challenge-response and whitelist-confirmation notices are not bounces (issue 17)."""

from __future__ import annotations

from returnpath.parsers import parse
from returnpath.parsers.model import Kind

_NOTICE = """\
From: Mail Delivery System <MAILER-DAEMON@mx.b.example>
To: b+tok@bounces.a.example
Subject: Returned mail: sender verification required
Auto-Submitted: auto-replied
Content-Type: text/plain

Hello,

Your message to rcpt@b.example {held}.
{confirm}: https://verify.b.example/c/123
{code}
--- Below this line is a copy of the message.

From: newsletter@a.example
To: rcpt@b.example
Subject: news

Please confirm your subscription.
"""


def _parse(held: str, confirm: str, code: str = "") -> list[tuple[Kind, str | None]]:
    raw = _NOTICE.format(held=held, confirm=confirm, code=code).encode()
    return [(f.kind, f.recipient) for f in parse(raw).findings]


def test_a_challenge_dressed_as_a_bounce_is_an_auto_reply_for_the_live_mailbox() -> None:
    found = _parse(
        "is being held pending verification", "Please confirm that you are a human by visiting"
    )
    assert found == [(Kind.AUTO_REPLY, "rcpt@b.example")]


def test_a_whitelist_request_is_no_bounce_either() -> None:
    found = _parse(
        "has been quarantined until you confirm it",
        "This address uses challenge-response: verify your message",
    )
    assert found == [(Kind.AUTO_REPLY, "rcpt@b.example")]


def test_a_refusal_with_a_failure_code_that_asks_for_verification_is_still_a_bounce() -> None:
    found = _parse(
        "is being held pending verification",
        "Please confirm that you are a human",
        code="550 5.7.1 <rcpt@b.example>: Recipient address rejected: User unknown",
    )
    assert found and all(kind in (Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE) for kind, _ in found)


def test_confirm_words_only_in_the_returned_original_do_not_make_a_challenge() -> None:
    """A bounced double-opt-in mail of ours says "please confirm" below the marker."""
    found = _parse("could not be delivered: 550 5.1.1 user unknown", "Details")
    assert found and found[0][0] is Kind.HARD_BOUNCE
