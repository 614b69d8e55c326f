"""The reason tables: status codes, words and commands, judged the way Sisimai judges them."""

from __future__ import annotations

import json

import pytest

from returnpath.parsers.base import make_finding
from returnpath.parsers.model import Kind
from returnpath.parsers.reasons import classify, kind_for, reason_for
from returnpath.parsers.smtp_codes import find_command, find_reply_code, find_status
from returnpath.parsers.vocabulary import Reason

# diagnostic, status, action, expected kind, expected reason
CASES: list[tuple[str, str | None, str | None, Kind, str]] = [
    (
        "550 5.1.1 <a@b.example>: Recipient address rejected: User unknown",
        "5.1.1",
        "failed",
        Kind.HARD_BOUNCE,
        "userunknown",
    ),
    ("452 4.2.2 Mailbox full", "4.2.2", "failed", Kind.SOFT_BOUNCE, "mailboxfull"),
    # a 5.x.x full mailbox is still only a soft bounce
    ("552 5.2.2 mailbox quota exceeded", "5.2.2", "failed", Kind.SOFT_BOUNCE, "mailboxfull"),
    (
        "connect to mx.example.com:25: Connection timed out",
        "4.4.1",
        "delayed",
        Kind.DELAYED,
        "expired",
    ),
    ("250 2.0.0 Ok: queued", "2.0.0", "relayed", Kind.DELIVERED, "delivered"),
    # Exim: 5.0.0 says nothing, the reply does
    (
        "550 5.1.1 <a@b.example>: No such user here",
        "5.0.0",
        "failed",
        Kind.HARD_BOUNCE,
        "userunknown",
    ),
    (
        "554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org",
        "5.7.1",
        "failed",
        Kind.SOFT_BOUNCE,
        "blocked",
    ),
    (
        "550 5.7.1 Message rejected as spam by Content Filtering",
        "5.7.1",
        "failed",
        Kind.SOFT_BOUNCE,
        "spamdetected",
    ),
    (
        "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's "
        "DMARC policy",
        "5.7.26",
        "failed",
        Kind.SOFT_BOUNCE,
        "authfailure",
    ),
    (
        "550 5.7.25 The IP address sending this message does not have a PTR record setup",
        "5.7.25",
        "failed",
        Kind.SOFT_BOUNCE,
        "requireptr",
    ),
    (
        "554 5.4.14 Hop count exceeded - possible mail loop",
        "5.4.14",
        "failed",
        Kind.SOFT_BOUNCE,
        "networkerror",
    ),
    (
        "550 5.1.2 Host unknown (Name server: example.invalid: host not found)",
        "5.1.2",
        "failed",
        Kind.HARD_BOUNCE,
        "hostunknown",
    ),
    ("554 5.3.4 Message too big for system", "5.3.4", "failed", Kind.SOFT_BOUNCE, "emailtoolarge"),
    ("550 5.7.1 Relaying denied", "5.7.1", "failed", Kind.SOFT_BOUNCE, "norelaying"),
    (
        "421 4.7.0 Try again later, closing connection. (too many connections)",
        "4.7.0",
        "failed",
        Kind.SOFT_BOUNCE,
        "ratelimited",
    ),
    ("550 Virus Detected; Content Rejected", "5.0.0", "failed", Kind.SOFT_BOUNCE, "virusdetected"),
    (
        "554 delivery error: This account has been disabled or discontinued",
        None,
        "failed",
        Kind.SOFT_BOUNCE,
        "suspend",
    ),
    (
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        "5.1.10",
        "failed",
        Kind.HARD_BOUNCE,
        "userunknown",
    ),
    ("550 5.1.10 Recipient address has null MX", "5.1.10", "failed", Kind.HARD_BOUNCE, "notaccept"),
    ("", None, "failed", Kind.SOFT_BOUNCE, "undefined"),
    ("something nobody has a rule for", None, "failed", Kind.SOFT_BOUNCE, "onhold"),
]


@pytest.mark.parametrize(("diagnostic", "status", "action", "kind", "reason"), CASES)
def test_classify(
    diagnostic: str, status: str | None, action: str | None, kind: Kind, reason: str
) -> None:
    """Through make_finding, the path every family takes (status and reply code recovery)."""
    finding = make_finding("test", "a@b.example", diagnostic, status=status, action=action)
    assert (finding.kind, finding.reason) == (kind, reason)


def test_user_unknown_words_alone_are_a_filter() -> None:
    """Sisimai's rule: without the SMTP command, "user unknown" may be a content filter."""
    assert classify("550 User unknown") == (Kind.SOFT_BOUNCE, "filtered")


def test_user_unknown_after_data_is_a_filter() -> None:
    """The same words after DATA come from a content filter, not the directory."""
    text = "550 User unknown (in reply to end of DATA command)"
    assert classify(text, "5.0.0") == (Kind.SOFT_BOUNCE, "filtered")
    text = "550 User unknown (in reply to RCPT TO command)"
    assert classify(text, "5.0.0") == (Kind.HARD_BOUNCE, "userunknown")


def test_explicit_filter_status_beats_user_unknown_words() -> None:
    assert classify("550 5.2.1 <a@b.example>... User Unknown", "5.2.1")[1] == "filtered"


def test_temporary_dns_failure_is_not_a_dead_domain() -> None:
    text = "DNS Error: DNS type 'mx' lookup of example.invalid responded with code NXDOMAIN"
    assert classify(text, "4.0.0") == (Kind.SOFT_BOUNCE, "networkerror")


def test_session_command() -> None:
    assert find_command("host x said: 550 no (in reply to RCPT TO command)") == "RCPT"
    assert find_command("SMTP error from remote mail server after end of data: 550") == "DATA"
    assert find_command("after initial connection: 554 go away") == "CONN"
    assert find_command("nothing here") is None


def test_gmail_address_not_found_headline_means_rcpt() -> None:
    text = (
        "Your message wasn't delivered to a@example.jp because the address couldn't be "
        "found, or is unable to receive mail."
    )
    assert find_command(text) == "RCPT"
    assert classify("550 <a@example.jp>: User unknown", "5.0.0", command="RCPT")[1] == "userunknown"


def test_office365_relayed_refusal_is_rcpt_only_with_an_address() -> None:
    named = (
        "550 5.1.351 Remote server returned unknown recipient or mailbox unavailable -> "
        "550 5.1.1 <a@example.jp>: Recipient address rejected"
    )
    bare = (
        "550 5.1.351 Remote server returned unknown recipient or mailbox unavailable -> "
        "550 : User unknown"
    )
    assert find_command(named) == "RCPT"
    assert find_command(bare) is None
    assert classify(bare, "5.1.351")[1] == "filtered"


def test_a_specific_temporary_status_reported_as_failed_is_expiry() -> None:
    # Postfix after maximal_queue_lifetime: Action: failed, the last deferral's 4.3.0
    assert (
        classify("451 4.3.0 <a@b.test>: Temporary lookup failure", "4.3.0", None, "failed")[1]
        == "expired"
    )
    # a bare 4.0.0 says nothing about retries
    assert classify("450 4.0.0 Temporary failure", "4.0.0", None, "failed")[1] == "onhold"


@pytest.mark.parametrize(
    ("diagnostic", "reason"),
    [
        ("550 5.7.1 This message is spam", "spamdetected"),
        ("554 probable spam", "spamdetected"),
        # spam said of the sending host's listing is a block of the client
        ("554 5.7.1 Your IP 192.0.2.1 is listed on a spam blocklist", "blocked"),
        ("550 sender IP is a known spam source (DNSBL)", "blocked"),
        ("554 Rejected: IP listed in spam RBL", "blocked"),
    ],
)
def test_spam_of_the_message_or_of_the_host(diagnostic: str, reason: str) -> None:
    assert classify(diagnostic, None, None, "failed")[1] == reason


def test_host_name_lookup_failure_is_a_network_error() -> None:
    assert classify("example.net: host name lookup failure", "4.0.0")[1] == "networkerror"


def test_a_list_taking_only_some_mail_is_not_a_dead_domain() -> None:
    kind, reason = classify("554 recipient is not accepting mail with embedded images", "5.0.0")
    assert (kind, reason) == (Kind.SOFT_BOUNCE, "policyviolation")


def test_code_finders() -> None:
    assert find_status("smtp; 550 5.1.1 <x@y>") == "5.1.1"
    assert find_status("5.7.54 something") == "5.7.54"
    assert find_status("no code 192.0.2.1 here") is None
    assert find_reply_code("host [192.0.2.1]: 550 5.1.1 user unknown") == "550"
    assert find_reply_code("none") is None


def test_hard_means_the_address_is_dead() -> None:
    assert kind_for("userunknown", "5.1.1") is Kind.HARD_BOUNCE
    assert kind_for("notaccept", "4.3.2") is Kind.SOFT_BOUNCE
    assert kind_for("blocked", "5.7.1") is Kind.SOFT_BOUNCE
    assert kind_for("mailboxfull", "4.2.2", "delayed") is Kind.DELAYED
    assert kind_for("vacation") is Kind.AUTO_REPLY


def test_failure_codes_win_over_success_codes_in_a_transcript() -> None:
    transcript = "In: RCPT TO:<a@b.example>\nOut: 250 2.1.5 Ok\nIn: DATA\nOut: 451 4.3.0 Error"
    assert find_status(transcript) == "4.3.0"
    assert find_reply_code(transcript) == "451"
    assert find_status("250 2.0.0 Ok: queued") == "2.0.0"


def test_continuation_lines_of_a_multiline_reply_are_joined() -> None:
    text = (
        "552-5.7.0 This message was blocked because its content presents a potential "
        "552-5.7.0 security issue."
    )
    assert classify(text, "5.7.0")[1] == "policyviolation"


@pytest.mark.parametrize(
    ("diagnostic", "reason"),
    [
        ("550 5.1.1 Address is on the suppression list", "suppressed"),
        ("421 4.7.0 You are sending too quickly, slow down", "ratelimited"),
        (
            "550 5.7.515 Access denied, sending domain example.com doesn't meet the required "
            "authentication level",
            "authfailure",
        ),
        (
            "554 Set up SPF records for your domain. Rejected due to spam classification",
            "spamdetected",
        ),
        # a connection that timed out is expiry, even "unable to connect"
        ("unable to connect to remote server [192.0.2.1:25]: Operation timed out", "expired"),
        ("Unable to contact LDAP server. (#4.4.3) I'm not going to try again", "systemerror"),
        (
            "501 <s@example.jp>... no access from mail server [192.0.2.55] which is an open relay.",
            "blocked",
        ),
        ("554 5.7.9 Header error", "policyviolation"),
        # phrase rows added from MTAs' documented wordings
        (
            "550 Requested action not taken: no such user here: the user's email name is not found",
            "filtered",
        ),
        ("550 5.1.1 <a@b.example> user not known", "userunknown"),
        ("550 Sender email address rejected", "rejected"),
        ("550 mail from 192.0.2.1 refused: see http://example.org", "blocked"),
        ("554 5.7.1 Your message failed several antispam checks", "spamdetected"),
        ("554 Rejected: this message scored 12.3 spam points", "spamdetected"),
        ("554 5.7.1 You are sending spam from a dynamic IP", "blocked"),
        ("421 Temporary local problem - please try later", "systemerror"),
        ("451 Unable to deliver message after multiple retries", "expired"),
        ("550 5.7.1 Closed mailing list", "policyviolation"),
        ("554 The recipient is not accepting mail with attachments", "policyviolation"),
        ("550 5.1.2 Recipient address rejected: unknown domain name", "hostunknown"),
        ("550 Your message has triggered a spam block", "spamdetected"),
        ("550 5.7.1 we don't handle mail for example.org", "norelaying"),
        (
            "530 5.7.0 Authentication required: authentication turned on in your email client",
            "securityerror",
        ),
        ("421 4.7.0 too many errors from your IP", "ratelimited"),
        ("550 5.7.1 Bad DNS PTR resource record", "requireptr"),
        ("554 5.6.0 Message MIME complexity exceeds the policy maximum", "contenterror"),
        (
            "mail.local: unknown user: kijitora 554 <k@example.net>... Service unavailable",
            "userunknown",
        ),
        ("552 5.3.4 Error: message file too big", "emailtoolarge"),
        ("550 5.7.1 Exceeded maximum inbound message size", "emailtoolarge"),
        ("550 5.1.6 a@example.org has been replaced by b@example.org", "hasmoved"),
        (
            "550 5.7.515 The 5322.From address doesn't meet the authentication requirements "
            "defined for the sender",
            "authfailure",
        ),
        # qmail and qmail-ldap's own messages
        ("Mailaddress is administrativly disabled. (#5.2.1)", "suspend"),
        ("Temporary failure in LDAP lookup. (#4.4.3)", "systemerror"),
        ("Sorry, I couldn't find any host named example.invalid. (#5.1.2)", "hostunknown"),
        (
            "Connected to 192.0.2.1 but my name was rejected. Remote host said: 550 go away",
            "blocked",
        ),
        # Exim's own messages (deliver.c, route.c, transports)
        ("all relevant MX records point to non-existent hosts", "hostunknown"),
        ("delivery to pipe forbidden", "systemerror"),
        ('Too many "Received" headers - suspected mail loop', "contenterror"),
        ("malformed address: x may not follow <y", "syntaxerror"),
        ("DNS lookup failed.", "networkerror"),  # Courier's soft DNS error
    ],
)
def test_more_provider_wordings(diagnostic: str, reason: str) -> None:
    assert classify(diagnostic, find_status(diagnostic), find_reply_code(diagnostic))[1] == reason


def test_a_reason_from_the_tables_is_the_plain_string_it_names() -> None:
    """The tables hold ``Reason`` members; compiled or not, each compares, hashes and
    serialises exactly as its string, so a family's plain ``"userunknown"`` and the
    table's member are one reason everywhere (sets, dict keys, JSON, the store)."""
    reason = reason_for("550 5.1.1 <a@b.example>: user unknown", "5.1.1", "550")
    assert type(reason) is Reason
    assert reason == "userunknown" and hash(reason) == hash("userunknown")
    assert reason in {"userunknown"} and "userunknown" in {reason}
    assert json.dumps({"reason": reason}) == '{"reason": "userunknown"}'
    assert f"{reason}" == str(reason) == "userunknown"
    # a family's plain string meets the vocabulary's members in HARD_REASONS
    assert kind_for("userunknown") is Kind.HARD_BOUNCE
    assert kind_for(Reason.NOTACCEPT, "4.3.2") is Kind.SOFT_BOUNCE
