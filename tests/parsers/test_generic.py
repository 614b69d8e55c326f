"""The generic fallback: trusts only bounce-like senders, subjects and headers."""

from __future__ import annotations

from returnpath.parsers.families.generic import FAMILY
from tests.parsers.bounce_helpers import load, message


def test_reads_exim_qmail_and_sendmail_text() -> None:
    exim = FAMILY.extract(load("exim-text.eml"))
    assert [(f.recipient, f.reason) for f in exim] == [
        ("full@example.org", "mailboxfull"),
        ("nobody@example.org", "userunknown"),
    ]
    assert exim[0].original_message_id == "<E1news-0001@mail.sender.example>"
    qmail = FAMILY.extract(load("qmail.eml"))
    assert [(f.recipient, f.reason, f.status) for f in qmail] == [
        ("blocked@example.net", "blocked", "5.7.1")
    ]
    sendmail = FAMILY.extract(load("sendmail-text.eml"))
    assert [(f.recipient, f.kind.value) for f in sendmail] == [
        ("typo@example.co.jp", "hard_bounce")
    ]


def test_detection_needs_a_bounce_signature() -> None:
    assert FAMILY.detect(load("generic-plain.eml"))
    assert not FAMILY.detect(load("not-a-bounce.eml"))
    assert FAMILY.detect(message("From: x@y.example\nX-Failed-Recipients: a@b.example\n\nhi\n"))
