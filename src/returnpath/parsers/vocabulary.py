"""The reason vocabulary: every ``reason`` a finding can carry, defined once.

The names are Sisimai's (the de-facto standard, and the labels of the shared
corpus), plus the few returnpath needs for what Sisimai does not classify
(``mailto`` and ``oneclick`` unsubscribes). Each reason says, once, in one row:

* what it means, in a sentence an operator can act on;
* ``hard``: the reason alone proves the address does not take mail, whatever
  the status code says (a 4.x.x "user unknown" is still a dead mailbox);
* ``sender_side``: the cause is our sending (reputation, content, our MTA),
  not the recipient's mailbox, so repeated bounces of this reason must never
  suppress the recipient; the policy shows them as alerts instead.

Rule tables, families, the policy, the store and ``GET /v1/reasons`` all read
this table; ``tests/parsers/test_vocabulary.py`` fails on any reason string
in the code that is not a member.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """The fine cause of a finding (``Finding.reason``)."""

    # the recipient's side: the address or its host
    USERUNKNOWN = "userunknown"
    HOSTUNKNOWN = "hostunknown"
    HASMOVED = "hasmoved"
    NOTACCEPT = "notaccept"
    MAILBOXFULL = "mailboxfull"
    SUSPEND = "suspend"
    FILTERED = "filtered"
    EXPIRED = "expired"
    NETWORKERROR = "networkerror"
    SYSTEMERROR = "systemerror"
    SYSTEMFULL = "systemfull"
    MAILERERROR = "mailererror"
    FAILEDSTARTTLS = "failedstarttls"
    ONHOLD = "onhold"
    SUPPRESSED = "suppressed"
    UNDEFINED = "undefined"
    # our side: how we sent, and what
    BLOCKED = "blocked"
    BADREPUTATION = "badreputation"
    AUTHFAILURE = "authfailure"
    REQUIREPTR = "requireptr"
    RATELIMITED = "ratelimited"
    SPAMDETECTED = "spamdetected"
    VIRUSDETECTED = "virusdetected"
    CONTENTERROR = "contenterror"
    SECURITYERROR = "securityerror"
    POLICYVIOLATION = "policyviolation"
    NOTCOMPLIANTRFC = "notcompliantrfc"
    NORELAYING = "norelaying"
    SYNTAXERROR = "syntaxerror"
    EMAILTOOLARGE = "emailtoolarge"
    REJECTED = "rejected"
    # not failures
    FEEDBACK = "feedback"
    VACATION = "vacation"
    DELIVERED = "delivered"
    MAILTO = "mailto"
    ONECLICK = "oneclick"


@dataclass(frozen=True, slots=True)
class ReasonInfo:
    description: str
    hard: bool = False
    sender_side: bool = False


_R = Reason
#: One row per reason. Read with ``info(reason)``.
REASONS: dict[Reason, ReasonInfo] = {
    _R.USERUNKNOWN: ReasonInfo("the mailbox does not exist at the receiving domain", hard=True),
    _R.HOSTUNKNOWN: ReasonInfo(
        "the recipient's domain does not exist or has no mail host", hard=True
    ),
    _R.HASMOVED: ReasonInfo("the recipient has left; the mailbox names a new address", hard=True),
    _R.NOTACCEPT: ReasonInfo("the domain publishes that it accepts no mail (null MX)", hard=True),
    _R.MAILBOXFULL: ReasonInfo("the mailbox is over its quota; it may empty again"),
    _R.SUSPEND: ReasonInfo("the mailbox exists but is disabled or inactive"),
    _R.FILTERED: ReasonInfo("the recipient's own filter or settings refused the message"),
    _R.EXPIRED: ReasonInfo("delivery was retried until the queue lifetime ran out"),
    _R.NETWORKERROR: ReasonInfo("the receiving host could not be reached (DNS, TCP, timeouts)"),
    _R.SYSTEMERROR: ReasonInfo("the receiving system failed (a local error, a loop, a crash)"),
    _R.SYSTEMFULL: ReasonInfo("the receiving system is out of disk or resources"),
    _R.MAILERERROR: ReasonInfo("a program the receiver delivers to (a pipe, a mailer) failed"),
    _R.FAILEDSTARTTLS: ReasonInfo(
        "the receiver requires STARTTLS and the TLS session could not be set up (RFC 3207)"
    ),
    _R.ONHOLD: ReasonInfo("a failure whose cause the report does not say"),
    _R.SUPPRESSED: ReasonInfo(
        "a suppression list (ours or our ESP's) held the message back; nothing was sent"
    ),
    _R.UNDEFINED: ReasonInfo("nothing in the message says why, or it is not a report"),
    _R.BLOCKED: ReasonInfo(
        "our IP or domain is blocked or listed by the receiver", sender_side=True
    ),
    _R.BADREPUTATION: ReasonInfo(
        "the receiver rates our IP or domain reputation as bad", sender_side=True
    ),
    _R.AUTHFAILURE: ReasonInfo("SPF, DKIM or DMARC failed for our message", sender_side=True),
    _R.REQUIREPTR: ReasonInfo("our sending IP has no (matching) reverse DNS", sender_side=True),
    _R.RATELIMITED: ReasonInfo("we sent too fast or opened too many connections", sender_side=True),
    _R.SPAMDETECTED: ReasonInfo("our content was judged as spam", sender_side=True),
    _R.VIRUSDETECTED: ReasonInfo("our message was judged to carry malware", sender_side=True),
    _R.CONTENTERROR: ReasonInfo("our message's content or format was refused", sender_side=True),
    _R.SECURITYERROR: ReasonInfo(
        "TLS or other security requirements not met by our MTA", sender_side=True
    ),
    _R.POLICYVIOLATION: ReasonInfo("our message broke the receiver's policy", sender_side=True),
    _R.NOTCOMPLIANTRFC: ReasonInfo("our message is not RFC-compliant", sender_side=True),
    _R.NORELAYING: ReasonInfo(
        "our MTA routed the message to a host that does not accept it", sender_side=True
    ),
    _R.SYNTAXERROR: ReasonInfo("our MTA sent a bad SMTP command", sender_side=True),
    _R.EMAILTOOLARGE: ReasonInfo(
        "our message is larger than the receiver accepts", sender_side=True
    ),
    _R.REJECTED: ReasonInfo("the receiver refused our envelope sender", sender_side=True),
    _R.FEEDBACK: ReasonInfo("a feedback-loop report: the recipient complained (ARF, JMRP)"),
    _R.VACATION: ReasonInfo("an automatic reply (out of office, vacation); the mail arrived"),
    _R.DELIVERED: ReasonInfo("a report that the message was delivered"),
    _R.MAILTO: ReasonInfo("an unsubscribe request mailed to the List-Unsubscribe address"),
    _R.ONECLICK: ReasonInfo("an RFC 8058 one-click unsubscribe (HTTPS POST)"),
}

HARD_REASONS: frozenset[str] = frozenset(r for r, i in REASONS.items() if i.hard)
SENDER_SIDE_REASONS: frozenset[str] = frozenset(r for r, i in REASONS.items() if i.sender_side)


def info(reason: str) -> ReasonInfo:
    """The row of ``reason``; KeyError for a name that is not in the vocabulary."""
    return REASONS[Reason(reason)]
