"""Gmail's plain-text notices and Google Groups' refusals."""

from __future__ import annotations

from returnpath.parsers.families.gmail import FAMILY as GMAIL
from returnpath.parsers.families.googlegroups import FAMILY as GROUPS
from tests.parsers.bounce_helpers import load, message


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
        "closed-list@googlegroups.com",
        "rejected",
        "soft_bounce",
    )


def test_other_mail_is_not_google() -> None:
    msg = load("exim-text.eml")
    assert not GMAIL.detect(msg) and not GROUPS.detect(msg)


def _gmail(reply: str):  # type: ignore[no-untyped-def]
    return message(
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
        "To: sender@gmail.com\nSubject: Delivery Status Notification (Failure)\n\n"
        "Delivery to the following recipient failed permanently:\n\n"
        "     rcpt@example.co.jp\n\n"
        "Technical details of permanent failure:\n"
        "Google tried to deliver your message, but it was rejected by the recipient domain. "
        "The error that the other server returned was: " + reply + "\n"
    )


def test_gmail_session_state_names_the_step() -> None:
    [f] = GMAIL.extract(_gmail("554 554 5.7.0 Header error (state 18)."))
    assert (f.reason, f.kind.value) == ("filtered", "soft_bounce")
    [f] = GMAIL.extract(_gmail("550 550 5.1.1 <rcpt@example.co.jp>... User Unknown (state 14)."))
    assert (f.reason, f.kind.value) == ("userunknown", "hard_bounce")


def test_a_specific_status_beats_the_session_state() -> None:
    [f] = GMAIL.extract(_gmail("550 550 5.2.2 <rcpt@example.co.jp>... Mailbox Full (state 17)."))
    assert f.reason == "mailboxfull"
