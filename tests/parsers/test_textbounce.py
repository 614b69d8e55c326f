"""The plain-text bounce engine: sections, recipient blocks, fallbacks."""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import (
    TextFamily,
    extract_text_bounce,
    recipient_blocks,
    section_of,
)
from tests.parsers.bounce_helpers import message

PLAIN = TextFamily(name="plain", senders=re.compile("mailer-daemon", re.I))


def test_section_stops_at_the_original_message() -> None:
    text = (
        "report\n<a@b.example>: 550 no\n\n------ This is a copy of the message\nTo: c@d.example\n"
    )
    assert "c@d.example" not in section_of(PLAIN, text)


def test_blocks_follow_recipient_lines() -> None:
    section = (
        "The following address(es) failed:\n\n"
        "  one@example.org\n    550 5.1.1 user unknown\n"
        "  two@example.org\n    552 5.2.2 mailbox full\n"
    )
    blocks = recipient_blocks(PLAIN, section, set())
    assert [b[0] for b in blocks] == ["one@example.org", "two@example.org"]
    assert "mailbox full" in "\n".join(blocks[1][1])
    assert "mailbox full" not in "\n".join(blocks[0][1])


def test_address_repeated_inside_its_explanation_stays_one_block() -> None:
    section = "<x@example.org>:\nRemote host said: 550 5.1.1 <x@example.org>... User unknown\n"
    blocks = recipient_blocks(PLAIN, section, set())
    assert len(blocks) == 1
    assert "User unknown" in "\n".join(blocks[0][1])


def test_quoted_headers_are_not_recipients() -> None:
    section = "Message-ID: <abc.123@mx.example.org>\nFrom: someone@example.org\n"
    assert recipient_blocks(PLAIN, section, set()) == []


def test_x_failed_recipients_when_the_text_names_nobody() -> None:
    msg = message(
        "From: MAILER-DAEMON@mx.example\nX-Failed-Recipients: gone@example.net\n"
        "Subject: failed\n\nDelivery failed permanently: 550 5.1.1 user unknown.\n"
    )
    findings = extract_text_bounce(PLAIN, msg)
    assert [(f.recipient, f.reason) for f in findings] == [("gone@example.net", "userunknown")]


def test_listed_failure_beats_the_sender_quoted_in_the_reply() -> None:
    # Exim names a bare local part; the only full address in the text is the
    # bounced sender's, echoed by the remote host: X-Failed-Recipients decides
    msg = message(
        "From: Mail Delivery System <Mailer-Daemon@mx.example>\nTo: sender@example.jp\n"
        "X-Failed-Recipients: rcpt@example.ed.jp\nSubject: Mail delivery failed\n\n"
        "The following address(es) failed:\n\n  rcpt\n"
        "    SMTP error from remote mail server after MAIL FROM:<sender@example.jp>:\n"
        "    host mx.example.jp [192.0.2.20]: 550 5.7.0 <sender@example.jp>... Please use "
        "the smtp server of your ISP.\n"
    )
    [f] = extract_text_bounce(PLAIN, msg)
    assert (f.recipient, f.reason) == ("rcpt@example.ed.jp", "blocked")


def test_bare_screen_names_take_the_reporting_domain() -> None:
    msg = message(
        'From: "Mail Delivery Subsystem" <MAILER-DAEMON@AOL.com>\n'
        "To: <list-bounces@lists.example.com>\nSubject: Mail Delivery Problem\n\n"
        "Your mail to the following recipients could not be delivered because they are not "
        "accepting mail from list@lists.example.com:\n\tscreenname\n"
    )
    assert [f.recipient for f in extract_text_bounce(PLAIN, msg)] == ["screenname@aol.com"]


def test_old_sendmail_dialogue_explains_the_next_recipient() -> None:
    msg = message(
        "From: MAILER-DAEMON@mx1.example.net\nTo: sender@example.jp\n"
        "Subject: Returned mail: Remote protocol error\n\n"
        "   ----- Transcript of session follows -----\n"
        "While talking to mx.example.edu:\n>>> MAIL From:<sender@example.jp>\n"
        "<<< 550 Insecure Mail Relay\n554 <rcpt@example.edu>... Remote protocol error\n"
        "While talking to mail.example.org:\n>>> RCPT To:<other@example.org>\n"
        "<<< 550 <other@example.org>... User unknown\n"
        "550 <other@example.org>... User unknown\n"
    )
    found = [(f.recipient, f.reason) for f in extract_text_bounce(PLAIN, msg)]
    assert found == [("rcpt@example.edu", "norelaying"), ("other@example.org", "userunknown")]


def test_an_expanded_alias_is_reported_too() -> None:
    msg = message(
        "From: MAILER-DAEMON@mx.example.nl\nTo: sender@example.com\n"
        "Subject: Returned mail: see transcript for details\n\n"
        "   ----- The following addresses had permanent fatal errors -----\n"
        "box@shaft.example.nl\n    (expanded from: alias@example.nl)\n\n"
        "   ----- Transcript of session follows -----\n"
        "554 box@shaft.example.nl... Too many hops\n"
    )
    found = extract_text_bounce(PLAIN, msg)
    assert [f.recipient for f in found] == ["box@shaft.example.nl", "alias@example.nl"]
    assert found[0].original_recipient == "alias@example.nl"


def test_own_parties_are_not_recipients() -> None:
    msg = message(
        "From: MAILER-DAEMON@mx.example\nTo: sender@example.com\nSubject: failed\n\n"
        "Original sender: sender@example.com\n<rcpt@example.net>: 550 no such user\n"
    )
    assert [f.recipient for f in extract_text_bounce(PLAIN, msg)] == ["rcpt@example.net"]


def test_postfix_transcript_names_the_recipient() -> None:
    msg = message(
        "From: MAILER-DAEMON@mx.example (Mail Delivery System)\nSubject: Postmaster Copy\n\n"
        "Transcript of session follows.\n\n Out: 220 mx.example ESMTP\n In:  MAIL\n"
        "     FROM:<sender@example.com>\n Out: 250 2.1.0 Ok\n"
        " In:  RCPT TO:<rcpt@example.net> ORCPT=rfc822;rcpt@example.net\n Out: 250 2.1.5 Ok\n"
        " In:  DATA\n Out: 451 4.3.0 Error: queue file write error\n"
    )
    [f] = extract_text_bounce(PLAIN, msg)
    assert (f.recipient, f.status, f.reason) == ("rcpt@example.net", "4.3.0", "systemerror")


def test_inline_sendmail_lines_do_not_swallow_the_next_recipient() -> None:
    section = (
        "554 <one@example.org>... Remote protocol error: Connection reset by peer\n"
        "550 example.net (smtp)... 550 Host unknown\n"
        "554 <two@example.net>... 550 Host unknown (Authoritative answer from name server)\n"
    )
    blocks = recipient_blocks(PLAIN, section, set())
    assert [b[0] for b in blocks] == ["one@example.org", "two@example.net"]
    assert "Host unknown" not in "\n".join(blocks[0][1])
