"""Receiving providers' own error vocabularies ("rhost" tables).

Large mailbox providers answer with house codes and phrases whose meaning
they document (Orange's ``LPN007_416``, Cox's ``AUP#CXBL``, docomo's
"Unknown user" after DATA). The generic tables in ``parsers.reason_rules`` would
read them by their SMTP shape and often guess wrong; these rows, keyed by
who the remote host is, say what the provider means. A row applies when the
provider's domain appears in the remote MTA, the recipient's domain or the
host named in the diagnostic. First matching row wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from returnpath.parsers.gates import gate_text, gated_search
from returnpath.parsers.heads import HeadGates, PatternHeads, pattern_heads, token_heads
from returnpath.parsers.reason_rules import slug
from returnpath.parsers.vocabulary import Reason


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider: how to recognise it, and its phrases/codes → reason.

    ``gate`` is what every ``hosts`` match needs of the text (token heads and
    literals, read from the pattern by ``parsers.heads.pattern_heads``): set
    lookups and a few substring tests rule most providers out before any
    regex runs (most bounces involve none of these providers).
    """

    name: str
    hosts: re.Pattern[str]
    gate: PatternHeads
    rules: tuple[tuple[re.Pattern[str], Reason], ...]
    #: each rule's stable id, what a finding's ``decided_by`` says:
    #: ``provider.<name>.<reason>.<slug of its pattern>`` (``provider.orange.userunknown.ofr-lpn-416-418``),
    #: from the row's own content so that adding a row renames no other
    ids: tuple[str, ...] = ()


def _p(name: str, hosts: str, *rules: tuple[str, Reason]) -> Provider:
    pattern = re.compile(hosts, re.I)
    return Provider(
        name,
        pattern,
        pattern_heads(pattern),
        tuple((re.compile(rx, re.I), reason) for rx, reason in rules),
        tuple(f"provider.{name}.{reason.value}.{slug(rx)}" for rx, reason in rules),
    )


PROVIDERS: tuple[Provider, ...] = (
    # Orange / Wanadoo / La Poste publish numbered codes: OFR_nnn, LPNnnn_nnn, OUK_nnn (the
    # last three digits; postmastery.com "Orange postmaster SMTP error codes")
    _p(
        "orange",
        r"\b(?:orange|wanadoo)\.fr\b|\blaposte\.net\b|\b(?:OFR|LPN|OUK)\w*_\d{3}\b",
        (r"\b(?:OFR|LPN)\w*_(?:416|418)\b", Reason.USERUNKNOWN),
        (r"\b(?:OFR|LPN)\w*_417\b", Reason.MAILBOXFULL),
        (r"\b(?:OFR|LPN)\w*_(?:420|425|426)\b", Reason.SUSPEND),
        (r"\b(?:OFR|LPN)\w*_506\b", Reason.SPAMDETECTED),
        (r"\b(?:OFR|LPN)\w*_505\b", Reason.SYSTEMERROR),
        (r"\b(?:OFR|LPN)\w*_104\b", Reason.RATELIMITED),
        (r"\b(?:OFR|LPN)\w*_(?:101|102|103|107|108|109|510|999)\b", Reason.BLOCKED),
        (r"\b(?:OFR|LPN)\w*_(?:305|402)\b", Reason.SECURITYERROR),
        (r"\b(?:OFR|LPN)\w*_(?:401|517)\b", Reason.AUTHFAILURE),
        (r"\b(?:OFR|LPN)\w*_(?:403|405|415|421)\b", Reason.REJECTED),
        (r"\b(?:OFR|LPN)\w*_514\b", Reason.EMAILTOOLARGE),
        (r"\b(?:OFR|LPN)\w*_630\b", Reason.POLICYVIOLATION),
        (r"spf/dns de votre nom de domaine", Reason.AUTHFAILURE),
    ),
    # Cox: "AUP#" codes and phrases of its postmaster page (cox.com "Cox postmaster email
    # administration"); the bracket of blocklists IPBLnnnn, the URL lists URLBLnnn
    _p(
        "cox",
        r"\bcox\.net\b|cloudfilter\.net",
        (r"AUP#(?:CXBL|CDRBL|CXRCV|IPBL\d+)\b", Reason.BLOCKED),
        (r"AUP#CXDNS\b", Reason.REQUIREPTR),
        (r"AUP#CXSNDR\b", Reason.AUTHFAILURE),
        (r"AUP#CXSMTP\b", Reason.REJECTED),
        (r"AUP#(?:CXCNCT|CXMXRT|CXTHROT)\b", Reason.RATELIMITED),
        (r"AUP#(?:CXTHRT|CXMJ)\b", Reason.SECURITYERROR),
        (r"AUP#URLBL\d+\b", Reason.SPAMDETECTED),
        (r"too many bad commands from|too many invalid recipients", Reason.BLOCKED),
        (r"dns check failure - try again later|rejected - no rdns", Reason.REQUIREPTR),
        (
            r"esmtp no data before greeting|attachment extension is forbidden",
            Reason.POLICYVIOLATION,
        ),
        (r"esmtp server temporarily not available", Reason.SYSTEMERROR),
        (
            r"too many sessions from|requested action aborted: try again later"
            r"|message threshold exceeded",
            Reason.RATELIMITED,
        ),
        (r"recipient rejected", Reason.USERUNKNOWN),
    ),
    # NTT docomo refuses unknown addresses (even after DATA) with "550 Unknown user"; since
    # March 2025 that reply means only that (no more domain filters answering so)
    _p("docomo", r"\bdocomo\.ne\.jp\b", (r"\b550 unknown user", Reason.USERUNKNOWN)),
    # Spectrum/Charter: "AUP#In-1310", "AUP#O-1000" (four-digit codes, documented at
    # spectrum.net "understanding email error codes"); ranges share one meaning
    _p(
        "spectrum",
        r"\b(?:spectrum|charter)\.(?:net|com)\b|\brr\.com\b|\btwc\.com\b"
        r"|AUP#(?:In|Out|I|O)-?\d{4}\b",
        (r"AUP#(?:In|Out|I|O)?-?1000\b", Reason.BLOCKED),
        (r"AUP#(?:In|Out|I|O)?-?10(?:[1-8]\d)\b", Reason.REJECTED),
        (r"AUP#(?:In|Out|I|O)?-?109\d\b", Reason.SYSTEMERROR),
        (r"AUP#(?:In|Out|I|O)?-?11[0-5]\d\b", Reason.REQUIREPTR),
        (r"AUP#(?:In|Out|I|O)?-?11[6-9]\d\b", Reason.POLICYVIOLATION),
        (r"AUP#(?:In|Out|I|O)?-?12[0-5]\d\b", Reason.BLOCKED),
        (r"AUP#(?:In|Out|I|O)?-?126\d\b", Reason.NETWORKERROR),
        (r"AUP#(?:In|Out|I|O)?-?1(?:3\d|4\d|5[45789])\d\b", Reason.RATELIMITED),
        (r"AUP#(?:In|Out|I|O)?-?15[0-2]\d\b", Reason.REJECTED),
        (r"AUP#(?:In|Out|I|O)?-?153\d\b", Reason.EMAILTOOLARGE),
        (r"AUP#(?:In|Out|I|O)?-?156\d\b", Reason.POLICYVIOLATION),
    ),
    # Mimecast's documented SMTP error texts (community.mimecast.com, "Mimecast SMTP
    # error codes"); its generic "security policies" refusal is the AV/AS signature check
    _p(
        "mimecast",
        r"\bmimecast\b",
        (r"(?:spf|dkim|dmarc) sender invalid", Reason.AUTHFAILURE),
        (r"ip reputation - \(reject\)", Reason.BADREPUTATION),
        (r"ip temporarily blacklisted|sender address blocked", Reason.BLOCKED),
        (
            r"route requires (?:encryption|tls version)|requires high-strength ciphers",
            Reason.FAILEDSTARTTLS,
        ),
        (r"maximum email size exceeded", Reason.EMAILTOOLARGE),
        (r"incorrect hostname used for inbounds|mail loop detected", Reason.NETWORKERROR),
        (r"open relay (?:is )?not allowed", Reason.NORELAYING),
        (r"account inbounds disabled", Reason.NOTACCEPT),
        (
            r"anti-spoofing policy|content examination policy|host network,? not allowed",
            Reason.POLICYVIOLATION,
        ),
        (
            r"envelope (?:blocked|rejected)|administrative prohibition|blocked senders",
            Reason.REJECTED,
        ),
        (r"submitter failed to authenticate|incorrect authentication data", Reason.SECURITYERROR),
        (
            r"unable to process (?:connection|command|an email)|message ended early",
            Reason.SYSTEMERROR,
        ),
        (
            r"account service is temporarily unavailable|exceeding outbound thread limit",
            Reason.RATELIMITED,
        ),
        (r"email rejected due to security policies", Reason.VIRUSDETECTED),
    ),
    # Google (Gmail, Workspace): its documented SMTP replies ("About SMTP error messages",
    # support.google.com/a/answer/3726730); Google reuses 4.7.0/5.7.1 for most of them
    _p(
        "google",
        r"\b(?:google|googlemail|gmail)\.com\b|\b1e100\.net\b|\bgsmtp\b",
        (
            r"senders to authenticate (?:their email )?with (?:spf|dkim)|authenticate with either "
            r"spf or dkim|add a dmarc record|aligned with either the authenticated spf or dkim"
            r"|spf record of the sending domain",
            Reason.AUTHFAILURE,
        ),
        (r"very low reputation of the sending", Reason.BADREPUTATION),
        (
            r"does not have a ptr record|have a ptr record, or the ptr record|ipv6 sending "
            r"guidelines regarding ptr|does not match the ip address of the hostname",
            Reason.REQUIREPTR,
        ),
        (
            r"ip not in whitelist for rcpt domain|try again later, closing connection"
            r"|helo/ehlo argument is invalid|empty helo/ehlo argument|unusual rate of "
            r"(?:unsolicited )?mail",
            Reason.BLOCKED,
        ),
        (
            r"exceed(?:s|ed) google's (?:message|header|limit)|bytes per individual header size",
            Reason.EMAILTOOLARGE,
        ),
        (r"connection expired|timeout - closing connection", Reason.EXPIRED),
        (
            r"must issue a starttls command first|starttls may not be repeated"
            r"|tls required for rcpt domain|to use tls/ssl for smtp",
            Reason.FAILEDSTARTTLS,
        ),
        (r"inbox is out of storage space|is over quota|email quota exceeded", Reason.MAILBOXFULL),
        (r"message exceeded 50 hops", Reason.NETWORKERROR),
        (
            r"mail relay denied|invalid credentials for relay"
            r"|not authorized to send email directly to our servers",
            Reason.NORELAYING,
        ),
        (
            r"missing a valid (?:address in the from: header|message-id)|multiple addresses in "
            r"from: header|not rfc 5322 compliant|unicode character in a disallowed header"
            r"|encoded-word syntax is not permitted|mail message is malformed",
            Reason.NOTCOMPLIANTRFC,
        ),
        # 553 5.1.3 "The recipient address <a> is not a valid RFC 5321 address": the
        # address itself can never be delivered to (RFC 3463 X.1.3, bad destination
        # mailbox address syntax), not the message's format
        (r"recipient address \S* ?is not a valid rfc 5321 address", Reason.USERUNKNOWN),
        (
            r"illegal attachment on your message|content presents a potential security issue"
            r"|has a policy that prohibited|with the same message-id",
            Reason.POLICYVIOLATION,
        ),
        (r"mail sending denied", Reason.REJECTED),
        (
            r"too many login attempts|no identity changes permitted|cannot decode response"
            r"|application-specific password required|log in (?:with|through) your web browser"
            r"|username and password not accepted",
            Reason.SECURITYERROR,
        ),
        (r"nature of the content or the links within|likely unsolicited mail", Reason.SPAMDETECTED),
        (
            r"receiving mail too quickly|peak smtp relay limit|rate that prevents additional "
            r"messages|daily (?:sending quota|user sending limit|smtp relay (?:sending )?limit) "
            r"exceeded|this mail has been rate limited|has too many recipients"
            r"|too many recipients for this sender",
            Reason.RATELIMITED,
        ),
        (r"account that you tried to reach is (?:disabled|inactive)", Reason.SUSPEND),
        (
            r"smtp protocol violation|optional argument not permitted|too many unrecognized "
            r"commands|unimplemented command|unrecognized command|bad sequence of commands"
            r"|ehlo/helo first|no data after bdat|unrecognized authentication type"
            r"|xoauth is no longer supported|too many unauthenticated commands",
            Reason.SYNTAXERROR,
        ),
        (
            r"temporary system problem|server busy|multiple destination domains per transaction"
            r"|temporarily rejected (?:this )?message|domain policy size per transaction",
            Reason.SYSTEMERROR,
        ),
    ),
    # Microsoft (Exchange Online, Outlook.com): the texts of its documented NDR codes
    # (learn.microsoft.com "Email non-delivery reports and SMTP errors in Exchange Online")
    _p(
        "microsoft",
        r"\b(?:outlook|hotmail|live|msn)\.(?:com|jp|fr|de|co\.\w+)\b"
        r"|protection\.outlook\.com|\bexchangelabs\.com\b",
        (
            r"must pass either spf or dkim|sender policy framework violation"
            r"|does not pass dmarc verification|meet the required authentication level",
            Reason.AUTHFAILURE,
        ),
        (r"rate limited due to ip reputation", Reason.BADREPUTATION),
        (
            r"exceeded the maximum number of connections|daily limit for message recipients"
            r"|submission quota exceeded|per hour message receive limit|exceeded their limit for"
            r"|exceeded permitted limits within|tenant has exceeded threshold"
            r"|traffic not accepted from this ip|recipient thread limit exceeded",
            Reason.RATELIMITED,
        ),
        (
            r"access denied, (?:please try again later|bad helo|rejected by recipient|banned sender"
            r"|banned sending ip)|does not accept email over ipv6|using customer block list"
            r"|part of their network is on our block list"
            r"|blocked from sending from unregistered domains",
            Reason.BLOCKED,
        ),
        (
            r"too many related errors|invalid message content|message depth exceeded",
            Reason.CONTENTERROR,
        ),
        (r"recipsizelimit|exceeds fixed maximum message size", Reason.EMAILTOOLARGE),
        (
            r"failed mta-sts validation|starttls is required to send mail|starttls-not-supported"
            r"|certificate-expired|tlsa-invalid|dnssec-invalid|certificate-host-mismatch",
            Reason.FAILEDSTARTTLS,
        ),
        (r"dns query failed|nonexistent domain|routing loop detected", Reason.NETWORKERROR),
        (r"tenantattribution; relay access denied", Reason.NORELAYING),
        (r"no mail-enabled subscriptions|bad storedriver mdb properties", Reason.NOTACCEPT),
        (
            r"x-dg-ref header is too long|policy violation detected \(as345\)"
            r"|5\.7\.9\d\d delivery not authorized",
            Reason.POLICYVIOLATION,
        ),
        (
            r"unknown sender address|bad outbound sender|sender was not authenticated"
            r"|sender not in allowed-senders list|sender not authenticated for group"
            r"|spam abuse detected|rfc 5322 section 3\.6\.2",
            Reason.REJECTED,
        ),
        (
            r"cannot achieve exchange server authentication|client was not authenticated",
            Reason.SECURITYERROR,
        ),
        (r"content filter agent quarantined", Reason.SPAMDETECTED),
        (r"access denied, banned recipient|mailbox cannot be accessed", Reason.SUSPEND),
        (
            r"4\.3\.2 service not (?:available|active)|system incorrectly configured"
            r"|journaling archive is disabled|message failed to be replicated"
            r"|suspiciousremoteservererror|server busy\. please try again later from"
            r"|pfa agent busy",
            Reason.SYSTEMERROR,
        ),
        (
            r"exrecipnotfound|invalid recipient address|reserved by rfc 2606"
            r"|single label domains not accepted"
            # Outlook.com's answer for an address it has no mailbox for ("550 5.5.0
            # Requested action not taken: mailbox unavailable"); with a 4xx the same
            # RFC 5321 text is a busy mailbox, not a missing one
            r"|(?<![\d.])5\d\d[ -](?:5\.\d\.\d{1,3} )?requested action not taken: mailbox "
            r"unavailable"
            # Directory Based Edge Blocking's 5.4.1 "Recipient address rejected: Access
            # denied" (learn.microsoft.com "Fix email delivery issues for error code 5.4.1"):
            # not in the directory. From Microsoft's hosts only: Postfix writes the same
            # words for any access(5) REJECT (reason_rules, the REJECTED row)
            r"|recipient address rejected: access denied",
            Reason.USERUNKNOWN,
        ),
        (r"send hello first", Reason.SYNTAXERROR),
    ),
    # GoDaddy (secureserver.net): numbered "IBnnn" codes at the end of each reply
    # (godaddy.com help "Fix rejected email with a bounce error")
    _p(
        "godaddy",
        r"\bsecureserver\.net\b|\bgodaddy\b|\bIB\d{3}\b",
        (r"\bIB401\b", Reason.SECURITYERROR),
        (r"\bIB50[12]\b", Reason.NOTCOMPLIANTRFC),
        (r"\bIB506\b", Reason.REJECTED),
        (r"\bIB508\b", Reason.AUTHFAILURE),
        (r"\bIB108\b", Reason.REQUIREPTR),
        (r"\bIB212\b", Reason.SPAMDETECTED),
        (r"\bIB705\b", Reason.VIRUSDETECTED),
        (r"\bIB(?:605|007|101|504|510|607)\b", Reason.RATELIMITED),
        (r"\bIB(?:11[0-3]|10[4-6])\b", Reason.BLOCKED),
        (r"\bIB103\b", Reason.BADREPUTATION),
        (r"message is looping", Reason.SYSTEMERROR),
        (r"account storage limit", Reason.MAILBOXFULL),
    ),
    # Yahoo: "This user doesn't have a yahoo.com account"
    # and its documented codes (senders.yahooinc.com/smtp-error-codes); AOL is Yahoo's too
    _p(
        "yahoo",
        r"\byahoo(?:dns)?\.(?:com|co\.\w+|net)\b|\byahoo(?:-inc|inc)\.com\b"
        r"|\baol\.(?:com|jp)\b",
        (r"user doesn't have a \S+ account|mailbox not found", Reason.USERUNKNOWN),
        (r"requires all senders to authenticate with either spf or dkim", Reason.AUTHFAILURE),
        (
            r"because the ip is in spamhaus's list|not accepted from ip addresses on spamhaus",
            Reason.BLOCKED,
        ),
        (r"relaying denied for ", Reason.NORELAYING),
        (r"headers are not rfc compliant", Reason.NOTCOMPLIANTRFC),
        (r"not accepted for policy reasons", Reason.POLICYVIOLATION),
        (r"unresolvable rfc\.?5321|will be permanently deferred", Reason.REJECTED),
        (
            r"user is receiving mail too quickly|max message per connection reached",
            Reason.RATELIMITED,
        ),
        (r" is no longer valid\.|this mailbox is disabled", Reason.SUSPEND),
        (r"syntax error in parameters or arguments", Reason.SYNTAXERROR),
        (r"host or domain name not found", Reason.HOSTUNKNOWN),
    ),
    # Apple iCloud (support.apple.com/en-us/102322)
    _p(
        "apple",
        r"\b(?:icloud|me|mac|apple)\.com\b",
        (r"s dmarc policy|failing both spf and dkim", Reason.AUTHFAILURE),
        (
            r"domain present in the spamhaus|listing in spamhaus|proofpoint\.com/dnsbl"
            r"|not accepting connections",
            Reason.BLOCKED,
        ),
        (r"recipient no longer on server", Reason.HASMOVED),
        (r"user is over quota", Reason.MAILBOXFULL),
        (r"relay access denied", Reason.NORELAYING),
        (r"host/domain does not accept mail", Reason.NOTACCEPT),
        (r"due to local policy", Reason.POLICYVIOLATION),
        (r"due to excessive volume", Reason.RATELIMITED),
        (
            r"inactive email address|user does not exist|unknown or illegal alias",
            Reason.USERUNKNOWN,
        ),
    ),
    # Tencent QQ mail (service.mail.qq.com/detail/122)
    _p(
        "tencent",
        r"\b(?:qq|foxmail)\.com\b",
        (r"spf check failed|dmarc check failed", Reason.AUTHFAILURE),
        (r"suspected bounce attacks|suspected spam ip|connection denied", Reason.BLOCKED),
        (r"message too large", Reason.EMAILTOOLARGE),
        (r"suspected spam|mail is rejected by recipients", Reason.REJECTED),
        (r"spam is embedded in the email|mail content denied", Reason.SPAMDETECTED),
        (
            r"mailbox unavailable or access deni(?:n)?ed|frequency of receiving messages is limited"
            r"|(?:ip|domain|sender|connection) frequency limited",
            Reason.RATELIMITED,
        ),
        (r"is a deactivated mailbox", Reason.SUSPEND),
        (r"bad address syntax", Reason.SYNTAXERROR),
        (r"mailbox not found", Reason.USERUNKNOWN),
    ),
    # Symantec/Broadcom Email Security.cloud (MessageLabs): its knowledge-base error texts
    _p(
        "messagelabs",
        r"\bmessagelabs\.com\b|\bsymanteccloud\.com\b|\bsymantec\.com\b",
        (r"domain authentication fail", Reason.AUTHFAILURE),
        (r"connection rejected by policy", Reason.BADREPUTATION),
        (r"your ip is in the pbl|your ip address (?:\(\S+\) )?has been", Reason.BLOCKED),
        (r"stray linefeeds in message", Reason.CONTENTERROR),
        (r"tls/sslv3 connection required", Reason.FAILEDSTARTTLS),
        (r" as a relay, ", Reason.NORELAYING),
        (
            r"550 requested action aborted \[4\]|has detected that this message is not rfc 5322",
            Reason.NOTCOMPLIANTRFC,
        ),
        (
            r"sender envelope domain not allowed for sender ip|your (?:domain|email address) has "
            r"been (?:blocked|blacklisted)|envelope sender is in my badmailfrom list",
            Reason.REJECTED,
        ),
        (r"turn on smtp authentication in your mail client", Reason.SECURITYERROR),
        (r"message filtered|filtered by outbound scanning", Reason.SPAMDETECTED),
        (r"too many recipients received this hour|too many messages", Reason.RATELIMITED),
        (r"no such user|invalid recipient|mailbox is not allowed", Reason.USERUNKNOWN),
    ),
    # Facebook: "RCP-P2"-style codes of facebook.com/postmaster/response_codes
    _p(
        "facebook",
        r"\bfacebook(?:mail)?\.com\b|\bfb\.com\b",
        (r"\bPOL-[PT][1-4]\b", Reason.BLOCKED),
        (r"\bPOL-P5\b", Reason.VIRUSDETECTED),
        (r"\bPOL-P6\b", Reason.SPAMDETECTED),
        (r"\bMSG-P2\b", Reason.CONTENTERROR),
        (r"\bRCP-P[23]\b", Reason.FILTERED),
        (r"\b(?:MSG-P1|INT-P2)\b", Reason.EMAILTOOLARGE),
        (r"\bMSG-P3\b", Reason.NOTCOMPLIANTRFC),
        (r"\bDNS-(?:P[12]|T1)\b", Reason.REJECTED),
        (r"\bDNS-(?:P3|T2)\b", Reason.REQUIREPTR),
        (r"\bRCP-T4\b", Reason.SUSPEND),
        (r"\bRCP-T1\b", Reason.SYSTEMERROR),
        (r"\b(?:CON-T[1-4]|MSG-T1)\b", Reason.RATELIMITED),
        (r"\b(?:RCP-P1|INT-P[134])\b", Reason.USERUNKNOWN),
    ),
    # Zoho Mail (zoho.com/mail/help)
    _p(
        "zoho",
        r"\bzoho(?:mail)?\.(?:com|eu|in|jp)\b",
        (r"rejected per dmarc policy", Reason.AUTHFAILURE),
        (r"greylisted, try again after some time", Reason.BLOCKED),
        (r"reason: email flagged as spam|mail rejected by destination domain", Reason.REJECTED),
        (r"email policy violation detected|delivery restricted by policy", Reason.POLICYVIOLATION),
        (r"temporary system error", Reason.SYSTEMERROR),
        (r"user does not exist", Reason.USERUNKNOWN),
        (r" detected by zoho mail", Reason.VIRUSDETECTED),
    ),
    # Cloudflare Email Routing (developers.cloudflare.com/email-routing/postmaster)
    _p(
        "cloudflare",
        r"\bcloudflare\b",
        (r"found on one or more dnsbls", Reason.BLOCKED),
        (r"upstream error", Reason.SYSTEMERROR),
    ),
    # KDDI/au (au.com support "mail trouble"): its MX names the address when it has no such
    # user ("550 <a@ezweb.ne.jp>: User unknown"), not when a filter refused ("550 : User unknown")
    _p(
        "kddi",
        r"\bezweb\.ne\.jp\b|\bau\.com\b|\bkddi\.com\b|\bauone-net\.jp\b"
        r"|\bdion\.ne\.jp\b",
        (r"550 : user unknown", Reason.FILTERED),
        (r">: user unknown", Reason.USERUNKNOWN),
    ),
    # i.ua: numbered pages mail.i.ua/err/N/ explain each refusal
    _p(
        "iua",
        r"\bi\.ua\b",
        (r"\.i\.ua/err/(?:1|6)/", Reason.NORELAYING),
        (r"\.i\.ua/err/2/", Reason.USERUNKNOWN),
        (r"\.i\.ua/err/3/", Reason.SUSPEND),
        (r"\.i\.ua/err/4/", Reason.MAILBOXFULL),
        (r"\.i\.ua/err/5/", Reason.RATELIMITED),
        (r"\.i\.ua/err/(?:7|9)/", Reason.BLOCKED),
        (r"\.i\.ua/err/8/", Reason.REJECTED),
        (r"\.i\.ua/err/10/", Reason.FILTERED),
    ),
)


def provider_reason(
    diagnostic: str | None, *where: str | None, heads: set[str] | None = None
) -> Reason | None:
    """The reason a provider's own table gives, or None (see ``provider_decision``)."""
    found = provider_decision(diagnostic, *where, heads=heads)
    return found[0] if found is not None else None


def provider_decision(
    diagnostic: str | None, *where: str | None, heads: set[str] | None = None
) -> tuple[Reason, str, str] | None:
    """``(reason, rule id, matched text)`` of the provider row that decides, or None.

    ``heads``, when the caller has them, are ``token_heads(diagnostic.lower())``.
    Those of the whole diagnostic serve for its first 600 characters: a host
    pattern's head is made of characters of the match, so a match inside the
    cut text starts a token with the same head in the whole one.
    """
    if not diagnostic:
        return None
    cut = diagnostic[:600]
    context = " ".join(w for w in where if w) + " " + cut
    # the context's token heads rule out most providers by a few dict lookups (see
    # parsers/heads.py); a text the heads cannot speak for (a character that
    # re.IGNORECASE folds to ASCII, see parsers/gates.py) runs every pattern
    low = gate_text(context)
    if low is None:
        candidates = [True] * len(PROVIDERS)
    elif heads is None:
        candidates = _GATES.candidates(low, token_heads(low))
    else:  # lower() kept every length: gate_text refused the one character that changes it
        candidates = _GATES.candidates(low, token_heads(low[: len(low) - len(cut)]), heads)
    for index, provider in enumerate(PROVIDERS):
        if candidates[index] and provider.hosts.search(context):
            # The rules read what the provider wrote, not a 32 kB text bounce around it.
            text = diagnostic[:_RULE_TEXT]
            gate_low = gate_text(text)  # for the literal gates
            for n, (pattern, reason) in enumerate(provider.rules):
                m = gated_search(pattern, text, gate_low)
                if m is not None:
                    return reason, provider.ids[n], m.group(0)
    return None


#: every provider's ``gate`` in one table (``Provider.gate``)
_GATES = HeadGates([p.gate for p in PROVIDERS])
_RULE_TEXT = 4000
