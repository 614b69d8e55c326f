""" "The mailbox does not exist" in the wordings of the sources of truth (issue 17).

Each text is written from the shape its source documents (an MTA's reply template,
a provider's published error reference), not from a sample: the rows in
``reason_rules`` that read them name the same sources.
"""

from __future__ import annotations

import pytest

from returnpath.parsers.base import make_finding
from returnpath.parsers.model import Kind
from returnpath.parsers.vocabulary import Reason

USER_UNKNOWN = [
    # Postfix smtpd_check.c
    (
        "b.example",
        "host mx.b.example[192.0.2.1] said: 550 5.1.1 <a@b.example>: Recipient address "
        "rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
    ),
    # Exim's default ACL, as another Exim reports it
    (
        "b.example",
        "SMTP error from remote mail server after RCPT TO:<a@b.example>: 550 No Such User Here",
    ),
    # Sendmail
    ("b.example", "550 5.1.1 <a@b.example>... User unknown"),
    # qmail-local, in qmail's own bounce (no SMTP command: a local delivery)
    ("b.example", "Sorry, no mailbox here by that name. (#5.1.1)"),
    # Lotus Notes R5 and Domino
    ("b.example", "User a (a@b.example) not listed in public Name & Address Book"),
    ("b.example", "Usuario a (a@b.example) no se encuentra en el Directorio de Domino"),
    # Exchange: the directory result and the human part of its own NDRs
    ("b.example", "Remote Server returned '550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found'"),
    (
        "b.example",
        "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
        "found by SMTP address lookup'",
    ),
    (
        "b.example",
        "The e-mail address you entered couldn't be found. Please check the recipient's "
        "e-mail address and try to resend the message.",
    ),
    (
        "b.example",
        "The recipient's e-mail address was not found in the recipient's e-mail system. "
        "Microsoft Exchange will not try to redeliver this message for you.",
    ),
    (
        "b.example",
        "Your message to a@b.example couldn't be delivered. a wasn't found at b.example.",
    ),
    # Exchange Online Directory Based Edge Blocking
    (
        "b.example",
        "host b-example.mail.protection.outlook.com[192.0.2.9] said: 550 5.4.1 Recipient "
        "address rejected: Access denied. AS(201806281) [X.prod.protection.outlook.com] "
        "(in reply to RCPT TO command)",
    ),
    # Google, Yahoo, iCloud, Comcast, Mail.ru, Yandex, GMX, Orange, Zoho
    (
        "gmail.com",
        "550-5.1.1 The email account that you tried to reach does not exist. Please try "
        "550-5.1.1 double-checking the recipient's email address for typos or 550 5.1.1 "
        "unnecessary spaces. (in reply to RCPT TO command)",
    ),
    (
        "yahoo.com",
        "554 delivery error: dd This user doesn't have a yahoo.com account (a@yahoo.com) [0]",
    ),
    (
        "icloud.com",
        "550 5.1.1 <a@icloud.com>: user does not exist (in reply to RCPT TO command)",
    ),
    ("comcast.net", "550 5.1.1 <a@comcast.net> Not our Customer (in reply to RCPT TO command)"),
    (
        "mail.ru",
        "550 Message was not accepted -- invalid mailbox. Local mailbox a@mail.ru is "
        "unavailable: user not found (in reply to RCPT TO command)",
    ),
    ("yandex.ru", "550 5.7.1 No such user! (in reply to RCPT TO command)"),
    ("gmx.de", "550 5.1.1 Mailbox not found (in reply to RCPT TO command)"),
    (
        "orange.fr",
        "550 5.1.1 Adresse d au moins un destinataire invalide. LPN007_416 "
        "(in reply to RCPT TO command)",
    ),
    ("zoho.com", "550 5.1.1 User does not exist - <a@zoho.com> (in reply to RCPT TO command)"),
    # RFC 5321 550 at RCPT: "mailbox unavailable (e.g., mailbox not found)"
    (
        "b.example",
        "550 Requested action not taken: mailbox unavailable (in reply to RCPT TO command)",
    ),
]


@pytest.mark.parametrize(("domain", "diagnostic"), USER_UNKNOWN)
def test_a_dead_mailbox_in_its_sources_words_is_a_hard_user_unknown(
    domain: str, diagnostic: str
) -> None:
    finding = make_finding("test", f"a@{domain}", diagnostic, status="5.0.0", action="failed")
    assert (finding.kind, finding.reason) == (Kind.HARD_BOUNCE, Reason.USERUNKNOWN)


def test_the_same_words_after_the_data_are_a_filter_as_sisimai_reads_them() -> None:
    """After the message was sent, "user unknown" is a content filter answering so
    (Sisimai's rule, and the corpus labels): these rows do not change that."""
    finding = make_finding(
        "test",
        "a@b.example",
        "550 User unknown in virtual mailbox table (in reply to end of DATA command)",
        action="failed",
    )
    assert finding.reason == Reason.FILTERED


@pytest.mark.parametrize(
    "diagnostic",
    [
        # RFC 3463 X.2.1 "Mailbox disabled, not accepting messages" in servers' words
        "550 5.2.1 <a@b.example>... Mailbox disabled, not accepting messages",
        "550 5.7.1 <a@b.example>: Recipient address rejected: User a@b.example temporary "
        "locked. Please try again later! (in reply to RCPT TO command)",
        "<a@b.example>: vdelivermail: account is locked email bounced",
        "550 Your account has been deactivated (in reply to RCPT TO command)",
    ],
)
def test_a_disabled_mailbox_is_a_soft_suspend_not_a_dead_one(diagnostic: str) -> None:
    finding = make_finding("test", "a@b.example", diagnostic, action="failed")
    assert (finding.kind, finding.reason) == (Kind.SOFT_BOUNCE, Reason.SUSPEND)
