"""A temporary failure is never a hard bounce unless its words say the mailbox does not
exist (issue 17): one resolver hiccup must not suppress a live address.

The texts are the MTAs' own (each test names the source of its wording).
"""

from __future__ import annotations

import pytest

from returnpath.parsers.base import make_finding
from returnpath.parsers.model import Finding, Kind
from returnpath.parsers.reason_rules import RULES, STATUS_REASONS
from returnpath.parsers.reasons import kind_for
from returnpath.parsers.vocabulary import HARD_REASONS, Reason


def _finding(diagnostic: str, status: str | None = None) -> Finding:
    return make_finding("test", "a@b.example", diagnostic, status=status, action="failed")


@pytest.mark.parametrize(
    ("diagnostic", "status"),
    [
        # Postfix smtp_addr.c + dns_strerror.c, after maximal_queue_lifetime (4.4.3 kept)
        (
            "Host or domain name not found. Name service error for name=b.example type=MX: "
            "Host not found, try again",
            "4.4.3",
        ),
        # the same words in a text bounce that carries no code at all
        (
            "Host or domain name not found. Name service error for name=b.example type=MX: "
            "Host not found, try again",
            None,
        ),
        # qmail-remote.c temp_dns()
        ("Sorry, I couldn't find any host by that name. (#4.1.2)", None),
        ("CNAME lookup failed temporarily. (#4.4.3)", None),
        # Exim: a DNS lookup that did not finish, and the retry rules giving up
        ("all relevant MX records point to non-existent hosts: host lookup did not complete", None),
        ("retry time not reached for any host after a long failure period", "4.0.0"),
        # glibc EAI_AGAIN, a resolver's SERVFAIL
        ("connect to mx.b.example: Temporary failure in name resolution", None),
        ("DNS lookup for b.example returned SERVFAIL", None),
        # sendmail's TRY_AGAIN
        ("Deferred: Name server: b.example.: host name lookup failure", "4.4.3"),
        # Postfix smtpd with unknown_address_tempfail_action: the domain may yet resolve
        ("450 4.1.2 <a@b.example>: Recipient address rejected: Domain not found", None),
        # Postfix address verification still running
        (
            "450 4.1.1 <a@b.example>: Recipient address rejected: unverified address: "
            "Address verification in progress",
            None,
        ),
        # RFC 5321 4.2.2: 450 "mailbox unavailable" is a busy or blocked mailbox
        ("450 4.2.0 <a@b.example>: Requested action not taken: mailbox unavailable", None),
        ("450 Requested mail action not taken: mailbox unavailable (in reply to RCPT TO)", None),
        # a 4xx reply alone with a hard-sounding reason
        ("451 4.1.6 mailbox has moved, try again later", None),
    ],
)
def test_a_temporary_failure_is_not_a_hard_bounce(diagnostic: str, status: str | None) -> None:
    finding = _finding(diagnostic, status)
    assert finding.kind is not Kind.HARD_BOUNCE, (finding.reason, finding.status)


@pytest.mark.parametrize(
    "diagnostic",
    [
        "Host or domain name not found. Name service error for name=b.example type=MX: "
        "Host not found, try again",
        "Sorry, I couldn't find any host by that name. (#4.1.2)",
        "connect to mx.b.example: Temporary failure in name resolution",
    ],
)
def test_a_temporary_dns_failure_is_a_network_error(diagnostic: str) -> None:
    assert _finding(diagnostic).reason == Reason.NETWORKERROR


@pytest.mark.parametrize(
    ("diagnostic", "reason"),
    [
        # Postfix's permanent NXDOMAIN, qmail's perm_dns(): a dead domain stays hard
        (
            "Host or domain name not found. Name service error for name=b.example type=A: "
            "Host not found",
            Reason.HOSTUNKNOWN,
        ),
        ("Sorry, I couldn't find any host named b.example. (#5.1.2)", Reason.HOSTUNKNOWN),
        # a 4xx whose words say the mailbox does not exist (Postfix smtpd_check.c)
        (
            "450 4.1.1 <a@b.example>: Recipient address rejected: User unknown in local "
            "recipient table (in reply to RCPT TO command)",
            Reason.USERUNKNOWN,
        ),
        # 550 "mailbox unavailable" at RCPT is RFC 5321's "mailbox not found"
        (
            "550 5.1.1 <a@b.example>: Requested action not taken: mailbox unavailable "
            "(in reply to RCPT TO command)",
            Reason.USERUNKNOWN,
        ),
    ],
)
def test_what_says_the_address_is_dead_stays_hard(diagnostic: str, reason: Reason) -> None:
    finding = _finding(diagnostic)
    assert (finding.kind, finding.reason) == (Kind.HARD_BOUNCE, reason)


@pytest.mark.parametrize("reason", sorted(HARD_REASONS - {Reason.USERUNKNOWN}))
@pytest.mark.parametrize(("status", "reply"), [("4.0.0", None), (None, "450"), ("4.4.7", "421")])
def test_no_hard_reason_but_user_unknown_is_hard_with_a_temporary_code(
    reason: str, status: str | None, reply: str | None
) -> None:
    assert kind_for(reason, status, "failed", reply) is Kind.SOFT_BOUNCE
    assert kind_for(reason, "5.0.0", "failed", "550") is Kind.HARD_BOUNCE


def test_no_temporary_status_code_alone_means_the_mailbox_does_not_exist() -> None:
    """A 4.x.x code by itself (no words) never leads to ``userunknown``, the one hard
    reason ``kind_for`` keeps hard with a temporary code: only words can."""
    assert not [
        s for s, r in STATUS_REASONS.items() if s.startswith("4.") and r == Reason.USERUNKNOWN
    ]
    assert not [
        s
        for rule in RULES
        if rule.reason == Reason.USERUNKNOWN
        for s in rule.statuses
        if s.startswith("4.")
    ]


def test_outlook_com_mailbox_unavailable_is_dead_only_when_permanent() -> None:
    """Outlook.com's "Requested action not taken: mailbox unavailable" (its provider row)
    is RFC 5321's text for both 450 and 550: only the 550 says there is no mailbox."""
    permanent = make_finding(
        "test",
        "a@hotmail.com",
        "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)",
        action="failed",
    )
    temporary = make_finding(
        "test",
        "a@hotmail.com",
        "450 4.2.0 Requested action not taken: mailbox unavailable, try again later",
        action="failed",
    )
    assert (permanent.kind, permanent.reason) == (Kind.HARD_BOUNCE, Reason.USERUNKNOWN)
    assert temporary.kind is not Kind.HARD_BOUNCE
