"""Receiving providers' own error vocabularies ("rhost" tables).

Large mailbox providers answer with house codes and phrases whose meaning
they document (Orange's ``LPN007_416``, Cox's ``AUP#CXBL``, docomo's
"Unknown user" after DATA). The generic tables in ``parsers.reasons`` would
read them by their SMTP shape and often guess wrong; these rows, keyed by
who the remote host is, say what the provider means. A row applies when the
provider's domain appears in the remote MTA, the recipient's domain or the
host named in the diagnostic. First matching row wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider: how to recognise it, and its phrases/codes → reason."""

    name: str
    hosts: re.Pattern[str]
    rules: tuple[tuple[re.Pattern[str], str], ...]


def _p(name: str, hosts: str, *rules: tuple[str, str]) -> Provider:
    return Provider(name, re.compile(hosts, re.I),
                    tuple((re.compile(rx, re.I), reason) for rx, reason in rules))


PROVIDERS: tuple[Provider, ...] = (
    # Orange / Wanadoo publish numbered codes: OFR_nnn, LPNnnn_nnn (the last three digits)
    _p("orange", r"\b(?:orange|wanadoo)\.fr\b|\b(?:OFR|LPN)\d*_\d{3}\b",
       (r"\b(?:OFR|LPN)\d*_(?:416|417|418)\b", "userunknown"),
       (r"\b(?:OFR|LPN)\d*_(?:425|426)\b", "suspend"),
       (r"\b(?:OFR|LPN)\d*_506\b", "spamdetected"),
       (r"\b(?:OFR|LPN)\d*_505\b", "systemerror"),
       (r"\b(?:OFR|LPN)\d*_(?:103|104|107|108|109|510|999)\b", "blocked"),
       (r"\b(?:OFR|LPN)\d*_630\b", "policyviolation")),
    # Cox: AUP# codes, blocklists CXBL/CDRBL
    _p("cox", r"\bcox\.net\b|cloudfilter\.net",
       (r"AUP#(?:CXBL|CDRBL|CXDNS|CXSNDR|CXRCV)", "blocked"),
       (r"AUP#(?:CXMXRT|CXTHROT)", "ratelimited")),
    # NTT docomo refuses unknown addresses (even after DATA) with "550 Unknown user"; since
    # March 2025 that reply means only that (no more domain filters answering so)
    _p("docomo", r"\bdocomo\.ne\.jp\b",
       (r"\b550 unknown user", "userunknown")),
    # Spectrum/Charter: "AUP#In-1310", "AUP#O-1000" (four-digit codes, documented at
    # spectrum.net "understanding email error codes"); ranges share one meaning
    _p("spectrum", r"\b(?:spectrum|charter)\.(?:net|com)\b|\brr\.com\b|\btwc\.com\b"
                   r"|AUP#(?:In|Out|I|O)-?\d{4}\b",
       (r"AUP#(?:In|Out|I|O)?-?1000\b", "blocked"),
       (r"AUP#(?:In|Out|I|O)?-?10(?:[1-8]\d)\b", "rejected"),
       (r"AUP#(?:In|Out|I|O)?-?109\d\b", "systemerror"),
       (r"AUP#(?:In|Out|I|O)?-?11[0-5]\d\b", "requireptr"),
       (r"AUP#(?:In|Out|I|O)?-?11[6-9]\d\b", "policyviolation"),
       (r"AUP#(?:In|Out|I|O)?-?12[0-5]\d\b", "blocked"),
       (r"AUP#(?:In|Out|I|O)?-?126\d\b", "networkerror"),
       (r"AUP#(?:In|Out|I|O)?-?1(?:3\d|4\d|5[45789])\d\b", "ratelimited"),
       (r"AUP#(?:In|Out|I|O)?-?15[0-2]\d\b", "rejected"),
       (r"AUP#(?:In|Out|I|O)?-?153\d\b", "emailtoolarge"),
       (r"AUP#(?:In|Out|I|O)?-?156\d\b", "policyviolation")),
    # Mimecast's documented SMTP error texts (community.mimecast.com, "Mimecast SMTP
    # error codes"); its generic "security policies" refusal is the AV/AS signature check
    _p("mimecast", r"\bmimecast\b",
       (r"(?:spf|dkim|dmarc) sender invalid", "authfailure"),
       (r"ip reputation - \(reject\)", "badreputation"),
       (r"ip temporarily blacklisted|sender address blocked", "blocked"),
       (r"route requires (?:encryption|tls version)|requires high-strength ciphers",
        "failedstarttls"),
       (r"maximum email size exceeded", "emailtoolarge"),
       (r"incorrect hostname used for inbounds|mail loop detected", "networkerror"),
       (r"open relay (?:is )?not allowed", "norelaying"),
       (r"account inbounds disabled", "notaccept"),
       (r"anti-spoofing policy|content examination policy|host network,? not allowed",
        "policyviolation"),
       (r"envelope (?:blocked|rejected)|administrative prohibition|blocked senders",
        "rejected"),
       (r"submitter failed to authenticate|incorrect authentication data", "securityerror"),
       (r"unable to process (?:connection|command|an email)|message ended early",
        "systemerror"),
       (r"account service is temporarily unavailable|exceeding outbound thread limit",
        "ratelimited"),
       (r"email rejected due to security policies", "virusdetected")),
    # Yahoo: "This user doesn't have a yahoo.com account"
    _p("yahoo", r"\byahoo(?:dns)?\.(?:com|co\.\w+|net)\b|\byahoo-inc\.com\b",
       (r"user doesn't have a \S+ account", "userunknown")),
)

#: one pass over the context decides whether any provider is involved at all
_ANY_PROVIDER = re.compile("|".join(f"(?:{p.hosts.pattern})" for p in PROVIDERS), re.I)


def provider_reason(diagnostic: str | None, *where: str | None) -> str | None:
    """The reason a provider's own table gives, or None."""
    if not diagnostic:
        return None
    context = " ".join(w for w in where if w) + " " + diagnostic[:600]
    if not _ANY_PROVIDER.search(context):
        return None
    for provider in PROVIDERS:
        if provider.hosts.search(context):
            for pattern, reason in provider.rules:
                if pattern.search(diagnostic):
                    return reason
    return None
