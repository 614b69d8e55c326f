"""Gmail's plain-text notices and Google Groups' refusals."""

from __future__ import annotations

from parsers.families.google import GMAIL, GROUPS
from tests.parsers.bounce_helpers import load


def test_gmail_delay_notice_is_delayed_expiry() -> None:
    msg = load("gmail-text.eml")
    assert GMAIL.detect(msg)
    [f] = GMAIL.extract(msg)
    assert (f.recipient, f.kind.value, f.reason) == ("later@example.com", "delayed", "expired")


def test_groups_names_the_group_not_the_poster() -> None:
    msg = load("googlegroups.eml")
    assert GROUPS.detect(msg) and not GMAIL.detect(msg)
    [f] = GROUPS.extract(msg)
    assert (f.recipient, f.reason, f.kind.value) == (
        "closed-list@googlegroups.com", "rejected", "soft_bounce")


def test_other_mail_is_not_google() -> None:
    msg = load("exim-text.eml")
    assert not GMAIL.detect(msg) and not GROUPS.detect(msg)
