"""Unsubscribe requests to a mailto: List-Unsubscribe address.

Recognised by the address they were sent to (``unsubscribe+TOKEN@``,
``list-leave@``) or by a subject that is the command itself; the person
leaving is the sender. Reason ``mailto`` names the channel.
"""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from returnpath.parsers import parse
from returnpath.parsers.families import unsubscribe
from returnpath.parsers.model import Kind

FIXTURES = Path(__file__).parents[1] / "fixtures" / "unsubscribe"

# fixture -> (recipient, token)
CASES: dict[str, tuple[str, str | None]] = {
    # the token comes from the address the request was delivered to
    "mailto-token-address.eml": ("dana@example.org", "c2lnbmVk.dana"),
    # ... or from the subject the sender published in ?subject=
    "subject-command-with-token.eml": ("Eve@Example.org", "8f3a9c1d2e"),
    "list-manager-leave.eml": ("frank@example.org", None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_findings(name: str) -> None:
    (finding,) = parse((FIXTURES / name).read_bytes()).findings
    assert (finding.kind, finding.reason, finding.family) == (
        Kind.UNSUBSCRIBE,
        "mailto",
        "unsubscribe",
    )
    assert (finding.recipient, finding.token) == CASES[name]


def test_auto_reply_to_the_unsubscribe_mailbox_is_an_auto_reply() -> None:
    raw = (FIXTURES / "not-unsubscribe-autoreply.eml").read_bytes()
    assert not unsubscribe.FAMILY.detect(email.message_from_bytes(raw, policy=policy.compat32))
    assert [f.kind for f in parse(raw).findings] == [Kind.AUTO_REPLY]


def test_talking_about_unsubscribing_is_not_a_request() -> None:
    raw = (FIXTURES / "not-unsubscribe-conversation.eml").read_bytes()
    assert not unsubscribe.FAMILY.detect(email.message_from_bytes(raw, policy=policy.compat32))


@pytest.mark.parametrize(
    ("subject", "to", "expected"),
    [
        ("unsubscribe", "b@bounces.example.com", True),
        ("UNSUBSCRIBE", "b@bounces.example.com", True),
        ("Abmelden", "b@bounces.example.com", True),
        ("désabonner", "b@bounces.example.com", True),
        ("hello", "unsubscribe@lists.example.com", True),
        ("hello", "unsub-abc123@lists.example.com", True),
        ("hello", "news-unsubscribe@lists.example.com", True),
        ("hello", "b@bounces.example.com", False),
        ("unsubscribe me and my whole family please", "b@bounces.example.com", False),
        ("hello", "subscribe@lists.example.com", False),
    ],
)
def test_detection_rule(subject: str, to: str, expected: bool) -> None:
    raw = f"From: a@example.org\nTo: {to}\nSubject: {subject}\n\nbody\n".encode()
    assert (
        unsubscribe.FAMILY.detect(email.message_from_bytes(raw, policy=policy.compat32)) is expected
    )


def test_bounce_to_the_unsubscribe_mailbox_is_not_an_unsubscribe() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\nTo: unsubscribe@lists.example.com\n"
        b"Subject: Undelivered Mail Returned to Sender\n\nUser unknown\n"
    )
    assert not unsubscribe.FAMILY.detect(email.message_from_bytes(raw, policy=policy.compat32))


def test_apple_mail_unsubscribe_is_read_as_arf_opt_out() -> None:
    """Documented boundary: the corpus labels Apple's button as an ARF opt-out."""
    raw = (Path(__file__).parents[1] / "fixtures" / "arf" / "apple-unsubscribe.eml").read_bytes()
    (finding,) = parse(raw).findings
    assert (finding.kind, finding.feedback_type, finding.recipient) == (
        Kind.COMPLAINT,
        "opt-out",
        "ivan@icloud.example",
    )
