"""Providers' own codes override the generic reading of a reply."""

from __future__ import annotations

import pytest

from returnpath.parsers.providers import provider_reason

CASES = [
    ("550 5.5.0 The recipient account is blocked. LPN007_426", "smtp-in.orange.fr", "suspend"),
    ("550 5.2.0 Mail rejete. Mail rejected. OFR_506 [506]", None, "spamdetected"),
    ("421 4.2.0 Service refuse. Veuillez essayer plus tard. OFR005_505", None, "systemerror"),
    ("554 Client host rejected: #216 lpn LPN000_630", "smtp-in.orange.fr", "policyviolation"),
    (
        "552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]",
        "smtp-in.orange.fr",
        "mailboxfull",
    ),
    ("421 Too many connections, slow down. LPN105_104", "smtp-in.laposte.net", "ratelimited"),
    ("550 5.5.0 SPF: x is not allowed to send mail. LPN004_401", None, "authfailure"),
    ("550 5.1.0 sender rejected. AUP#CXBL", "cxr.mx.a.cloudfilter.net", "blocked"),
    ("550 5.7.1 sender rejected AUP#CXDNS", "cxr.mx.a.cloudfilter.net", "requireptr"),
    ("550 5.7.1 AUP#CXSNDR sender domain failed authentication", "cox.net", "authfailure"),
    ("554 5.7.1 URL in message blocked AUP#URLBL1001", "cox.net", "spamdetected"),
    ("421 4.7.0 too many sessions from 192.0.2.1", "cxr.mx.a.cloudfilter.net", "ratelimited"),
    ("550 Unknown user someone@docomo.ne.jp", "mfsmax.docomo.ne.jp", "userunknown"),
    (
        "554 delivery error: dd This user doesn't have a yahoo.com account",
        "mta5.am0.yahoodns.net",
        "userunknown",
    ),
    (
        "550 Unknown user someone@docomo.ne.jp (in reply to end of DATA command)",
        "mfsmax.docomo.ne.jp",
        "userunknown",
    ),
    # Spectrum's four-digit AUP codes: ranges share one meaning
    ("550 5.1.0 <a@b.example> sender rejected. AUP#In-1310", "mx.charter.net", "ratelimited"),
    ("554 5.7.1 AUP#I-1000 blocked", None, "blocked"),
    ("550 5.7.1 AUP#O-1110 no reverse DNS", "mx.spectrum.net", "requireptr"),
    ("552 AUP#In-1530 message too large", "mx.rr.com", "emailtoolarge"),
    ("550 AUP#In-1560 too many invalid recipients", "mx.rr.com", "policyviolation"),
    # Mimecast's documented texts
    (
        "554 email rejected due to security policies - MCSpamSignature",
        "us-smtp.mimecast.com",
        "virusdetected",
    ),
    ("550 envelope blocked - user entry", "eu-smtp-inbound-1.mimecast.com", "rejected"),
    (
        "550 dkim sender invalid - envelope rejected",
        "eu-smtp-inbound-1.mimecast.com",
        "authfailure",
    ),
    # Google's documented replies (4.7.0 / 5.7.1 say little by themselves)
    (
        "421 4.7.0 Try again later, closing connection. - gsmtp",
        "gmail-smtp-in.l.google.com",
        "blocked",
    ),
    (
        "550 5.7.1 Messages missing a valid Message-ID: header are not accepted. - gsmtp",
        "gmail-smtp-in.l.google.com",
        "notcompliantrfc",
    ),
    ("550 5.4.5 Daily user sending limit exceeded. - gsmtp", "smtp.gmail.com", "ratelimited"),
    (
        "421 4.7.0 This message is suspicious due to the very low reputation of the sending "
        "domain - gsmtp",
        "aspmx.l.google.com",
        "badreputation",
    ),
    # Microsoft's documented NDR texts
    (
        "451 4.7.652 The mail server [192.0.2.1] has exceeded the maximum number of connections.",
        "mx.protection.outlook.com",
        "ratelimited",
    ),
    ("550 5.4.312 Message expired, DNS query failed", "outlook.com", "networkerror"),
    ("550 5.7.606 Access denied, banned sending IP [192.0.2.1]", "hotmail.com", "blocked"),
    (
        "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; sender not authenticated for "
        "group",
        "corp-example.mail.protection.outlook.com",
        "rejected",
    ),
    (
        "554 This IP has been temporarily blocked for attempting to mail too many invalid "
        "recipients. IB112",
        "smtp.secureserver.net",
        "blocked",
    ),
    ("550 This IP has sent too many messages this hour. IB504", None, "ratelimited"),
    (
        "554 delivery error: dd someone@yahoo.com is no longer valid.",
        "mta7.am0.yahoodns.net",
        "suspend",
    ),
    (
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 will be permanently deferred",
        "yahoo.com",
        "rejected",
    ),
    (
        "550 5.1.6 recipient no longer on server: someone@icloud.com",
        "mx01.mail.icloud.com",
        "hasmoved",
    ),
    ("550 Mailbox unavailable or access denined", "mx3.qq.com", "ratelimited"),
    ("550 5.7.1 Spam message rejected, see http://mail.i.ua/err/9/", "mx.i.ua", "blocked"),
    ("553 Stray linefeeds in message (#5.6.2)", "cluster1.eu.messagelabs.com", "contenterror"),
    (
        "550 5.1.1 RCP-P1 https://www.facebook.com/postmaster/response_codes?ip=192.0.2.1#RCP-P1",
        "mx.facebook.com",
        "userunknown",
    ),
    ("554 5.7.7 Email policy violation detected", "mx.zoho.com", "policyviolation"),
    ("550 5.7.1 192.0.2.1 found on one or more DNSBLs", "route1.mx.cloudflare.net", "blocked"),
    # au/KDDI: an address named in the reply is unknown; a bare "550 : User unknown" is a filter
    ("550 <someone@ezweb.ne.jp>: User unknown", "lsean.ezweb.ne.jp", "userunknown"),
    ("550 : User unknown", "lsean.ezweb.ne.jp", "filtered"),
]


@pytest.mark.parametrize(("diagnostic", "remote", "reason"), CASES)
def test_provider_codes(diagnostic: str, remote: str | None, reason: str) -> None:
    assert provider_reason(diagnostic, remote) == reason


def test_docomo_rule_needs_docomos_own_reply() -> None:
    # a relay's paraphrase (Amazon SES quoting it) is judged by the generic table
    assert (
        provider_reason(
            "550-'Unknown user someone@docomo.ne.jp' (delivery attempts: 0)",
            None,
            "someone@docomo.ne.jp",
        )
        is None
    )


def test_no_provider_no_opinion() -> None:
    assert provider_reason("550 Unknown user someone@example.com", "mx.example.com") is None
    assert provider_reason(None, "smtp-in.orange.fr") is None


HOSTS = [
    "smtp-in.orange.fr",
    "OFR_416",
    "LPN007_426",
    "cxr.mx.a.cloudfilter.net",
    "mx.charter.net",
    "AUP#In-1310",
    "us-smtp.mimecast.com",
    "mfsmax.docomo.ne.jp",
    "gmail-smtp-in.l.google.com",
    "1e100.net",
    "mx.protection.outlook.com",
    "hotmail.com",
    "smtp.secureserver.net",
    "IB112",
    "mta5.am0.yahoodns.net",
    "aol.com",
    "icloud.com",
    "mx3.qq.com",
    "mx.i.ua",
    "cluster1.eu.messagelabs.com",
    "mx.facebook.com",
    "mx.zoho.com",
    "route1.mx.cloudflare.net",
    "lsean.ezweb.ne.jp",
    "msmx.au.com",
]


@pytest.mark.parametrize("host", HOSTS)
def test_gates_cover_every_host_pattern(host: str) -> None:
    # the heads-and-literals pre-check must never hide a provider its regex would find
    from returnpath.parsers.heads import HeadGates, token_heads
    from returnpath.parsers.providers import PROVIDERS

    matched = [p for p in PROVIDERS if p.hosts.search(host)]
    assert matched
    for p in matched:
        low = host.lower()
        assert HeadGates([p.gate]).candidates(low, token_heads(low)) == [True], p.name
        assert not p.gate.always, p.name
