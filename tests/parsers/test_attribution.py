"""Bounces that name no recipient are still attributed through the return-path token.

A DSN without Final-Recipient, or a plain "failure notice" that only quotes
the remote reply, is a bounce all the same: ``parse`` makes one finding
without a recipient (family ``fallback``), classified by the usual reason
tables, and ``_attribute`` fills the recipient from the token of the
envelope recipient, signed (``parsers.signing``) or classic VERP. Nothing of
the kind happens to auto-replies, complaints, read receipts or ordinary mail.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from returnpath.parsers import parse
from returnpath.parsers.model import Kind
from returnpath.parsers.signing import make_return_path

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
SIGNED = make_return_path(
    secret=b"s" * 32,
    key_id=1,
    domain="bounces.example.com",
    recipient="ann@example.org",
    message_id="<campaign-42.ann@example.com>",
    now=NOW,
)
VERP = "b+user=example.org@bounces.example.com"
ENVELOPES = [(SIGNED, "ann@example.org"), (VERP, "user@example.org")]

PLAIN = b"""Return-Path: <>
From: MAILER-DAEMON@legacy.example.net
To: b@bounces.example.com
Subject: failure notice
Date: Mon, 2 Mar 2026 10:31:00 +0000

Hi. This is the mail delivery agent at legacy.example.net.

Your message could not be delivered: 550 5.1.1 mailbox does not exist
"""

DSN_WITHOUT_RECIPIENT = b"""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: b@bounces.example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B0"

--B0
Content-Type: text/plain

Your message could not be delivered.

--B0
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 Recipient address rejected: User unknown

--B0--
"""


@pytest.mark.parametrize(("envelope", "recipient"), ENVELOPES)
@pytest.mark.parametrize("raw", [PLAIN, DSN_WITHOUT_RECIPIENT], ids=["plain", "dsn"])
def test_a_bounce_naming_nobody_is_attributed_through_the_token(
    raw: bytes, envelope: str, recipient: str
) -> None:
    report = parse(raw, envelope_recipient=envelope)
    (finding,) = report.findings
    assert report.family == "fallback" and report.error is None
    assert finding.recipient == recipient
    assert finding.token == envelope.split("+", 1)[1].rsplit("@", 1)[0]
    assert finding.kind is Kind.HARD_BOUNCE
    assert finding.reason == "userunknown"
    assert finding.status == "5.1.1"


def test_the_dsn_fields_are_kept() -> None:
    (finding,) = parse(DSN_WITHOUT_RECIPIENT, envelope_recipient=VERP).findings
    assert finding.action == "failed"
    assert finding.remote_mta == "mx.example.org"
    assert finding.reporting_mta == "mx.example.net"
    assert finding.smtp_code == "550"


def test_without_a_token_the_bounce_is_still_recorded() -> None:
    report = parse(PLAIN)
    (finding,) = report.findings
    assert finding.recipient is None and finding.token is None
    assert finding.kind is Kind.HARD_BOUNCE


def test_a_named_recipient_still_wins_over_the_token() -> None:
    raw = PLAIN.replace(b"delivered: 550", b"delivered to <bob@example.net>: 550")
    (finding,) = parse(raw, envelope_recipient=VERP).findings
    assert finding.recipient == "bob@example.net"
    assert finding.family != "fallback"


def test_a_temporary_failure_is_a_soft_bounce() -> None:
    raw = PLAIN.replace(b"550 5.1.1 mailbox does not exist", b"451 4.2.2 mailbox full, try later")
    (finding,) = parse(raw, envelope_recipient=VERP).findings
    assert finding.recipient == "user@example.org"
    assert finding.kind in (Kind.SOFT_BOUNCE, Kind.DELAYED)


NOT_BOUNCES = {
    "auto-reply": b"""From: Ann <ann@example.org>
Subject: Out of office: Spring sale
Auto-Submitted: auto-replied

I am away. Mail to my old address could not be delivered: 550 5.1.1.
""",
    "ordinary mail": b"""From: Ann <ann@example.org>
Subject: Re: your delivery status

The parcel was not delivered: 550 boxes arrived, 5.1.1 percent damaged.
""",
    "cron from root": b"""From: root@host.example.net
Subject: Cron <root@host> /usr/local/bin/backup: delivery failed

backup failed: 550 5.1.1
""",
    "daemon sender alone": b"""From: postmaster@example.net
Subject: Your quota

Your mailbox is at 91%: 452 4.2.2 soon.
""",
    "read receipt": b"""From: MAILER-DAEMON@example.net
Subject: Undeliverable: Read: Spring sale
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="R"

--R
Content-Type: text/plain

Your message was read. 550 5.1.1
--R
Content-Type: message/disposition-notification

Final-Recipient: rfc822;
Disposition: manual-action/MDN-sent-manually; displayed
--R--
""",
}


@pytest.mark.parametrize("name", sorted(NOT_BOUNCES))
@pytest.mark.parametrize("envelope", [SIGNED, VERP, None])
def test_no_finding_is_invented_for_other_mail(name: str, envelope: str | None) -> None:
    report = parse(NOT_BOUNCES[name], envelope_recipient=envelope)
    assert all(f.family != "fallback" for f in report.findings)
    assert all(f.kind not in (Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE) for f in report.findings)


def test_a_complaint_naming_nobody_stays_a_complaint() -> None:
    raw = b"""From: feedback@arf.mail.yahoo.example
Subject: FW: Spring sale
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an abuse report. 550 5.1.1
--F
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1

--F--
"""
    (finding,) = parse(raw, envelope_recipient=VERP).findings
    assert finding.kind is Kind.COMPLAINT
    assert finding.recipient == "user@example.org"
