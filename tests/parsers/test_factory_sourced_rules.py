"""Rules the bounce factory showed missing or wrong, each written from its source.

The texts are the sources' own (RFC 5321/7505 reply texts, Postfix's, qmail chkuser's,
Microsoft's, Google's, Yahoo's, Zoho's); the factory (tests/factory/) sends them through
real MTAs, these tests hold the decision on the bare reply.
"""

from __future__ import annotations

import pytest

from returnpath.parsers import parse
from returnpath.parsers.model import Kind
from returnpath.parsers.providers import provider_reason
from returnpath.parsers.reasons import classify
from returnpath.parsers.smtp_codes import find_command
from returnpath.parsers.vocabulary import Reason

CASES = [
    # a temporary or sender-side refusal must never suppress the recipient
    (
        "554 5.7.1 <a@example.org>: Recipient address rejected: Access denied",
        "5.7.1",
        "554",
        Kind.SOFT_BOUNCE,
        Reason.REJECTED,
    ),
    (
        "553 sorry, can't find a valid MX for sender domain (#5.1.1 - chkuser)",
        "5.1.1",
        "553",
        Kind.SOFT_BOUNCE,
        Reason.REJECTED,
    ),
    ("550 5.7.27 Sender address has null MX", "5.7.27", "550", Kind.SOFT_BOUNCE, Reason.REJECTED),
    ("550 5.2.1 Mailbox is inactive", "5.2.1", "550", Kind.SOFT_BOUNCE, Reason.SUSPEND),
    (
        "421 4.7.0 [TSS11] Excessive unknown recipients - possible Directory Harvest Attack",
        "4.7.0",
        "421",
        Kind.SOFT_BOUNCE,
        Reason.BADREPUTATION,
    ),
    # dead addresses in their sources' words
    (
        "550 5.4.310 DNS domain example.org does not exist",
        "5.4.310",
        "550",
        Kind.HARD_BOUNCE,
        Reason.HOSTUNKNOWN,
    ),
    (
        "551 User not local; please try <b@example.net>",
        None,
        "551",
        Kind.HARD_BOUNCE,
        Reason.HASMOVED,
    ),
    (
        "553 Requested action not taken: mailbox name not allowed",
        None,
        "553",
        Kind.HARD_BOUNCE,
        Reason.USERUNKNOWN,
    ),
    (
        "553 5.1.3 The recipient address <a@x> is not a valid RFC 5321 address. - gsmtp",
        "5.1.3",
        "553",
        Kind.HARD_BOUNCE,
        Reason.USERUNKNOWN,
    ),
    (
        "550 5.1.10 Recipient address has null MX",
        "5.1.10",
        "550",
        Kind.HARD_BOUNCE,
        Reason.NOTACCEPT,
    ),
    (
        "Domain nullmx.example does not accept mail (nullMX)",
        "5.1.0",
        None,
        Kind.HARD_BOUNCE,
        Reason.NOTACCEPT,
    ),
]


@pytest.mark.parametrize(("text", "status", "reply", "kind", "reason"), CASES)
def test_a_reply_in_its_source_s_words_reads_as_the_source_means(
    text: str, status: str | None, reply: str | None, kind: Kind, reason: Reason
) -> None:
    assert classify(text, status=status, reply_code=reply, command="RCPT") == (kind, reason)


def test_access_denied_from_microsoft_s_hosts_is_its_directory_saying_no_such_user() -> None:
    # Exchange Online DBEB, 5.4.1; the same words from any other host are Postfix's
    # access(5) REJECT (a policy refusal, above)
    text = "550 5.4.1 <a@example.org>: Recipient address rejected: Access denied"
    assert provider_reason(text, "example-org.mail.protection.outlook.com") is Reason.USERUNKNOWN


def test_the_sender_s_null_mx_code_alone_is_not_the_recipient_s() -> None:
    got = classify("550 5.7.27", status="5.7.27", reply_code="550", command="RCPT")
    assert got == (Kind.SOFT_BOUNCE, Reason.REJECTED)


def test_a_command_named_across_postfix_s_folded_line_is_found() -> None:
    context = "<a@example.org>: host mx[192.0.2.1] said: 550 Unknown user (in reply to RCPT\n    TO command)"
    assert find_command(context) == "RCPT"


_OPENSMTPD_GIVE_UP = b"""\
From: Mailer Daemon <MAILER-DAEMON@mx.example.net>
To: b+token@bounces.example.com
Subject: Delivery status notification: delayed
MIME-Version: 1.0
Content-Type: multipart/mixed;boundary="b1/mx.example.net"

--b1/mx.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

    Hi!

    This is the MAILER-DAEMON, please DO NOT REPLY to this email.

    A message is delayed for more than 0 seconds for the following
    list of recipients:

user@example.org: Envelope expired

    Please note that this is only a temporary failure report.

--b1/mx.example.net
Content-Description: Delivery Report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; user@example.org
Action: delayed
Status: 4.4.7

--b1/mx.example.net--
"""


def test_opensmtpd_s_expired_envelope_is_a_final_soft_bounce_not_a_delay() -> None:
    # OpenSMTPD smtpd/queue.c IMSG_QUEUE_EXPIRE: "Envelope expired", then the envelope
    # is deleted; its report still says "Action: delayed"
    [finding] = parse(_OPENSMTPD_GIVE_UP).findings
    assert (finding.kind, finding.reason) == (Kind.SOFT_BOUNCE, Reason.EXPIRED)


def test_opensmtpd_s_real_delay_warning_stays_a_delay() -> None:
    warning = _OPENSMTPD_GIVE_UP.replace(b"Envelope expired", b"421 4.7.0 Try again later")
    [finding] = parse(warning).findings
    assert finding.kind is Kind.DELAYED


REASONS = [
    # RFC 3463 X.3.2: a busy or closing host, not a domain that accepts no mail
    ("421 4.3.2 Service currently unavailable", "4.3.2", "421", Reason.SYSTEMERROR),
    ("421 4.3.2 Too many open connections.", "4.3.2", "421", Reason.RATELIMITED),
    ("450 4.7.0 Sender rate overlimit - 100.0 / 1h / per_rcpt", "4.7.0", "450", Reason.RATELIMITED),
    ("421 4.7.0 mx.example.org Error: too many errors", "4.7.0", "421", Reason.RATELIMITED),
    (
        "571 sorry, reached maximum number of recipients for one session (#5.7.1 - chkuser)",
        "5.7.1",
        "571",
        Reason.RATELIMITED,
    ),
    ("452 Space shortage, please try later", None, "452", Reason.SYSTEMFULL),
    ("554 5.5.0 Error: SMTP protocol synchronization", "5.5.0", "554", Reason.NOTCOMPLIANTRFC),
    ("554 SMTP synchronization error", None, "554", Reason.NOTCOMPLIANTRFC),
    ("451 See http://pobox.com/~djb/docs/smtplf.html.", None, "451", Reason.NOTCOMPLIANTRFC),
    (
        "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)",
        "5.7.1",
        "553",
        Reason.REJECTED,
    ),
    ("451 Could not complete sender verify", None, "451", Reason.REJECTED),
]


@pytest.mark.parametrize(("text", "status", "reply", "reason"), REASONS)
def test_a_soft_refusal_gets_the_cause_its_source_names(
    text: str, status: str | None, reply: str | None, reason: Reason
) -> None:
    assert classify(text, status=status, reply_code=reply, command="RCPT") == (
        Kind.SOFT_BOUNCE,
        reason,
    )
