"""Enhanced status codes are read only where a status can stand (issue 17).

Three dotted numbers are a status code in a ``Status:`` field, after a reply code,
after a hash (qmail, Exchange) or a label's colon; elsewhere they are an address, a
version, a date or a figure in a sentence, and reading them as a status flips the
verdict (``5.4.3.2`` read as 5.4.3 is a system error, ``[5.2.1.0]`` read as 5.2.1 a
filter).
"""

from __future__ import annotations

import pytest

from returnpath.parsers import parse
from returnpath.parsers.base import make_finding
from returnpath.parsers.model import Kind
from returnpath.parsers.smtp_codes import find_status


@pytest.mark.parametrize(
    ("text", "status"),
    [
        # RFC 3464 Status field values and diagnostics that start with the code
        ("5.1.1", "5.1.1"),
        ("5.1.1 (user unknown)", "5.1.1"),
        ("4.7.1 (delivery temporarily suspended)", "4.7.1"),
        # RFC 2034: after the reply code, with a space or a continuation hyphen
        ("550 5.1.1 <a@b.example>: Recipient address rejected", "5.1.1"),
        ("550-5.1.1 The email account that you tried to reach does not exist.", "5.1.1"),
        ("452 4.2.2 Mailbox full", "4.2.2"),
        ("550 #5.1.1 mailbox unavailable", "5.1.1"),
        ("550 (5.1.1) unknown user", "5.1.1"),
        ("550-'5.7.1 <a@b.example>... Access denied' (delivery attempts: 0)", "5.7.1"),
        ("<a@b.example>: 550: 5.1.1 <a@b.example>... User Unknown", "5.1.1"),
        # qmail and Exchange mark the code with a hash
        ("Sorry, no mailbox here by that name. (#5.1.1)", "5.1.1"),
        ("#5.1.1 smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", "5.1.1"),
        # after a label's colon, a field name, Postfix's log
        ("host mx.b.example[192.0.2.1] said: 5.7.1 relay denied", "5.7.1"),
        ("smtp;5.2.2 over quota", "5.2.2"),
        ("Status: 4.4.1", "4.4.1"),
        ("to=<a@b.example>, relay=none, dsn=4.4.3, status=deferred", "4.4.3"),
        # a line of a report that starts with the code
        ("host: mx.b.example\n5.1.1 <a@b.example>... User Unknown", "5.1.1"),
    ],
)
def test_a_status_is_read_where_a_status_stands(text: str, status: str) -> None:
    assert find_status(text) == status


@pytest.mark.parametrize(
    "text",
    [
        "host 5.4.3.2 said: 550 mailbox unavailable",
        "Client host [5.2.1.0] blocked",
        "connect to 192.168.5.1 failed",
        "connect to 10.4.5.1 failed",
        "connect to [4.4.1.9]:25 failed",
        "Postfix 2.5.1 on mx.b.example",
        "qmail-remote v5.1.1",
        "delivery failed at 5.2.2025 10:00",
        "we last tried on 5.2.25 and gave up",
        "the message is 5.1.1 times larger",
        "550 (5.1.1 and more words",
        "version 4.2.2-3 of the filter",
    ],
)
def test_dotted_numbers_that_are_not_in_a_status_place_are_no_status(text: str) -> None:
    assert find_status(text) is None


def test_a_failure_beats_a_success_only_among_codes_in_their_places() -> None:
    transcript = "Out: 250 2.1.5 Ok\nIn: DATA\nOut: 451 4.3.0 Error"
    assert find_status(transcript) == "4.3.0"
    # the address 5.4.3.2 is no failure code beating the real success code
    assert find_status("relayed via 5.4.3.2: 250 2.0.0 Ok: queued") == "2.0.0"


def test_an_ip_address_in_a_diagnostic_does_not_set_the_reason() -> None:
    """Read as a status, [5.2.1.0] would make the diagnostic a filter's refusal (5.2.1)."""
    finding = make_finding(
        "test",
        "a@b.example",
        "host mx.b.example [5.2.1.0]: 550 <a@b.example>: no such user here",
        status="5.0.0",
        command="RCPT",
    )
    assert finding.status == "5.0.0"
    assert (finding.kind, finding.reason) == (Kind.HARD_BOUNCE, "userunknown")


def test_a_version_number_does_not_make_a_temporary_failure_permanent() -> None:
    finding = make_finding(
        "test",
        "a@b.example",
        "Postfix 5.1.1-1 on mx.b.example: 451 local error in processing, try again later",
    )
    assert finding.status is None
    assert finding.kind is not Kind.HARD_BOUNCE


_TEXT_BOUNCE = b"""\
From: Mail Delivery System <MAILER-DAEMON@mx.a.example>
To: sender@a.example
Subject: Undelivered Mail Returned to Sender
X-Failed-Recipients: rcpt@b.example
Content-Type: text/plain

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  rcpt@b.example
    SMTP error from remote server after RCPT command:
    host: mx.b.example
    5.1.1 <rcpt@b.example>... User Unknown
"""


def test_a_status_at_the_start_of_a_line_of_a_text_bounce_is_read() -> None:
    """The text engine reads the status before the lines are joined into one."""
    report = parse(_TEXT_BOUNCE)
    assert [(f.recipient, f.status) for f in report.findings] == [("rcpt@b.example", "5.1.1")]
    assert report.findings[0].kind is Kind.HARD_BOUNCE
