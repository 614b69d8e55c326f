"""The bounce factory's reply table: real-world SMTP replies, with the verdict each deserves.

Every row is one reply a receiving server really gives (the text of an MTA's
source or documentation, or a provider's published SMTP error reference),
the reason it means in Sisimai's vocabulary, and where the text comes from.
The scripted sink (tests/factory/sink.py) answers with the row's text; the
real MTA under test (Postfix, Exim, OpenSMTPD) then writes its own DSN, and
returnpath's parsers must find the row's reason in it.

The expected ``kind`` is not written per row: it follows from the reply code
and the reason, as DESIGN.md defines it. A permanent (5xx) reply whose reason
says the address will never work (``vocabulary.HARD_REASONS``: userunknown,
hostunknown, hasmoved, notaccept) is a hard bounce; every other permanent
reply is a soft bounce; every temporary (4xx) reply is a soft bounce once the
MTA gives up (issue 17: "Temporary failures are never hard").

Reasons follow Sisimai's vocabulary as returnpath uses it: a malformed
*recipient* address (X.1.3, "Bad destination mailbox address syntax") is
``userunknown`` (that address can never work), ``syntaxerror`` is kept for
SMTP command syntax (5.5.x); a STARTTLS demand is ``failedstarttls``.

``{rcpt}`` in a text is replaced by the recipient address, as the servers do.
A text with ``\\n`` is a multi-line reply (each line gets the code, as Gmail's
replies do). IP addresses in the texts are from the documentation ranges
(RFC 5737), hosts under example.* (RFC 2606).

Nothing here is taken from /work/shared/corpus (the scoring set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from returnpath.parsers.model import Kind
from returnpath.parsers.vocabulary import HARD_REASONS, Reason

R = Reason


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted reply: its id, its text, its reason and its source."""

    id: str
    text: str  # "550 5.1.1 <{rcpt}>: ..."; "\n" separates the lines of a multi-line reply
    reason: Reason
    source: str

    @property
    def code(self) -> int:
        return int(self.text[:3])

    @property
    def temporary(self) -> bool:
        return self.text.startswith("4")

    @property
    def kind(self) -> Kind:
        if not self.temporary and self.reason in HARD_REASONS:
            return Kind.HARD_BOUNCE
        return Kind.SOFT_BOUNCE

    def wire(self, rcpt: str) -> str:
        """The reply as the server sends it: ``NNN-`` continuation lines, each
        repeating the enhanced status code when the reply has one (as Gmail does)."""
        first, *rest = self.text.replace("{rcpt}", rcpt).split("\n")
        code, _, text = first.partition(" ")
        status = text.split(" ", 1)[0]
        prefix = f"{status} " if _ENHANCED.fullmatch(status) else ""
        lines = [text, *(prefix + line for line in rest)]
        return "\r\n".join(
            f"{code}{' ' if n == len(lines) - 1 else '-'}{line}" for n, line in enumerate(lines)
        )


_ENHANCED = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")

# sources, named once
PF = "Postfix 3.7 src/smtpd/smtpd_check.c"
PF_SMTPD = "Postfix 3.7 src/smtpd/smtpd.c"
PF_DOC = "Postfix documentation, postconf(5)"
PG = "postgrey(8) (Postfix policy server), default greylist text"
EX = "Exim 4.96 source (src/acl.c, src/smtp_in.c, src/verify.c)"
EX_SPEC = "Exim specification (spec.txt), chapters 42-43 (ACLs)"
SM = "Sendmail 8.17 source (sendmail/parseaddr.c, srvrsmtp.c, cf/m4/proto.m4)"
QM = "qmail 1.03 source (qmail-smtpd.c, qmail-remote.c)"
CHK = "chkuser for qmail/vpopmail documentation (chkuser_settings.h messages)"
CI = "Courier mail server documentation (courier(8), esmtpd)"
GOOGLE = (
    "Google Workspace Admin Help, Gmail SMTP errors and codes (support.google.com/a/answer/3726730)"
)
MS = "Microsoft Learn, Email non-delivery reports and SMTP errors in Exchange Online"
YAHOO = "Yahoo Sender Hub, SMTP error codes (senders.yahooinc.com/smtp-error-codes)"
APPLE = "Apple iCloud Mail postmaster information (support.apple.com/en-us/HT204137) and its published replies"
ORANGE = "Orange postmaster (postmaster.orange.fr), OFR error codes"
MAILRU = "Mail.ru postmaster help (help.mail.ru/developers), SMTP replies of mxs.mail.ru"
RFC3463 = "RFC 3463 (Enhanced Mail System Status Codes), code table"
RFC5321 = "RFC 5321 section 4.2.3 (reply codes)"
RFC7505 = "RFC 7505 (null MX), section 4.2 and RFC 7504 (5.1.10)"
SPAMHAUS = "Spamhaus DNSBL usage documentation (reject texts of MTAs using zen.spamhaus.org)"
PROOFPOINT = "Proofpoint Essentials / PPS documentation, rejection replies"
MIMECAST = "Mimecast knowledge base, SMTP error codes"
BARRACUDA = "Barracuda Email Security Gateway documentation, SMTP reply codes"
GMX = "GMX / WEB.DE postmaster (postmaster.gmx.net), SMTP error replies"
COMCAST = "Comcast (Xfinity) postmaster, SMTP error codes (postmaster.comcast.net)"
ATT = "AT&T postmaster, SMTP error codes"
ZOHO = "Zoho Mail help, SMTP error codes"

REPLIES: tuple[Reply, ...] = (
    # --- Postfix: smtpd_check.c / smtpd.c reply texts ------------------------------------
    Reply(
        "pf-local-unknown",
        "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table",
        R.USERUNKNOWN,
        PF,
    ),
    Reply(
        "pf-virtual-unknown",
        "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
        R.USERUNKNOWN,
        PF,
    ),
    Reply(
        "pf-alias-unknown",
        "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual alias table",
        R.USERUNKNOWN,
        PF,
    ),
    Reply(
        "pf-relay-unknown",
        "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in relay recipient table",
        R.USERUNKNOWN,
        PF,
    ),
    Reply(
        "pf-unverified",
        "550 5.1.1 <{rcpt}>: Recipient address rejected: undeliverable address: host mail.example.org[192.0.2.10] said: 550 5.1.1 <{rcpt}>: User unknown",
        R.USERUNKNOWN,
        PF,
    ),
    Reply("pf-relay-denied", "554 5.7.1 <{rcpt}>: Relay access denied", R.NORELAYING, PF),
    Reply(
        "pf-rcpt-domain-notfound",
        "550 5.1.2 <{rcpt}>: Recipient address rejected: Domain not found",
        R.HOSTUNKNOWN,
        PF,
    ),
    Reply(
        "pf-rcpt-domain-temp",
        "450 4.1.2 <{rcpt}>: Recipient address rejected: Domain not found",
        R.HOSTUNKNOWN,
        PF,
    ),
    Reply(
        "pf-nullmx",
        "556 5.1.10 <{rcpt}>: Recipient address rejected: Domain example.org does not accept mail (nullMX)",
        R.NOTACCEPT,
        PF,
    ),
    Reply(
        "pf-sender-domain",
        "550 5.1.8 <b@bounces.example.com>: Sender address rejected: Domain not found",
        R.REJECTED,
        PF,
    ),
    Reply(
        "pf-sender-domain-temp",
        "450 4.1.8 <b@bounces.example.com>: Sender address rejected: Domain not found",
        R.REJECTED,
        PF,
    ),
    Reply(
        "pf-access-denied",
        "554 5.7.1 <{rcpt}>: Recipient address rejected: Access denied",
        R.REJECTED,
        PF,
    ),
    Reply(
        "pf-client-noptr",
        "550 5.7.25 Client host rejected: cannot find your hostname, [192.0.2.25]",
        R.REQUIREPTR,
        PF,
    ),
    Reply(
        "pf-client-noptr-temp",
        "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.25]",
        R.REQUIREPTR,
        PF,
    ),
    Reply(
        "pf-client-reverse",
        "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.25]",
        R.REQUIREPTR,
        PF,
    ),
    Reply(
        "pf-helo-notfound",
        "450 4.7.1 <mx.example.net>: Helo command rejected: Host not found",
        R.BLOCKED,
        PF,
    ),
    Reply(
        "pf-helo-invalid",
        "501 5.5.2 <mx_example>: Helo command rejected: Invalid name",
        R.BLOCKED,
        PF,
    ),
    Reply(
        "pf-rbl",
        "554 5.7.1 Service unavailable; Client host [192.0.2.25] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.25",
        R.BLOCKED,
        PF,
    ),
    Reply(
        "pf-rbl-sbl",
        "554 5.7.1 Service unavailable; Client host [192.0.2.25] blocked using sbl.spamhaus.org",
        R.BLOCKED,
        PF,
    ),
    Reply(
        "pf-rhsbl-sender",
        "554 5.7.1 Service unavailable; Sender address [b@bounces.example.com] blocked using dbl.spamhaus.org",
        R.BLOCKED,
        PF,
    ),
    Reply("pf-temp-lookup", "451 4.3.0 <{rcpt}>: Temporary lookup failure", R.SYSTEMERROR, PF),
    Reply(
        "pf-insufficient-storage", "452 4.3.1 Insufficient system storage", R.SYSTEMFULL, PF_SMTPD
    ),
    Reply("pf-too-many-rcpt", "452 4.5.3 Error: too many recipients", R.RATELIMITED, PF_SMTPD),
    Reply("pf-size", "552 5.3.4 Message size exceeds fixed limit", R.EMAILTOOLARGE, PF_SMTPD),
    Reply(
        "pf-too-many-conn",
        "421 4.7.0 mx.example.org Error: too many connections from 192.0.2.25",
        R.RATELIMITED,
        PF_SMTPD,
    ),
    Reply(
        "pf-too-many-errors",
        "421 4.7.0 mx.example.org Error: too many errors",
        R.RATELIMITED,
        PF_SMTPD,
    ),
    Reply(
        "pf-pipelining",
        "554 5.5.0 Error: SMTP protocol synchronization",
        R.NOTCOMPLIANTRFC,
        PF_SMTPD,
    ),
    Reply(
        "pf-starttls", "530 5.7.0 Must issue a STARTTLS command first", R.FAILEDSTARTTLS, PF_SMTPD
    ),
    Reply(
        "pf-service-unavailable", "421 4.3.2 Service currently unavailable", R.SYSTEMERROR, PF_SMTPD
    ),
    Reply(
        "pf-need-fqdn",
        "504 5.5.2 <{rcpt}>: Recipient address rejected: need fully-qualified address",
        R.SYNTAXERROR,
        PF,
    ),
    Reply(
        "pf-header-reject",
        "550 5.7.1 Message content rejected",
        R.CONTENTERROR,
        PF_DOC + " (header_checks REJECT default text)",
    ),
    Reply(
        "pf-body-reject",
        "550 5.7.1 Error: content rejected",
        R.CONTENTERROR,
        PF_DOC + " (body_checks)",
    ),
    Reply(
        "pf-mailbox-full",
        "552 5.2.2 <{rcpt}>: Recipient address rejected: mailbox full",
        R.MAILBOXFULL,
        PF_DOC + " (virtual(8) quota reply via check_recipient_access)",
    ),
    Reply(
        "pf-local-quota",
        "552 5.2.2 cannot update mailbox /var/mail/user for user user. error writing message: File too large",
        R.MAILBOXFULL,
        "Postfix 3.7 src/local/mailbox.c",
    ),
    Reply(
        "pf-greylist-postgrey",
        "450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html",
        R.BLOCKED,
        PG,
    ),
    Reply(
        "pf-greylist-postgrey-short",
        "450 4.7.1 <{rcpt}>: Recipient address rejected: Greylisted for 300 seconds",
        R.BLOCKED,
        PG,
    ),
    Reply(
        "pf-smtpd-timeout",
        "421 4.4.2 mx.example.org Error: timeout exceeded",
        R.NETWORKERROR,
        PF_SMTPD,
    ),
    Reply(
        "pf-policy-defer",
        "450 4.7.1 <{rcpt}>: Recipient address rejected: Policy rejection not logged",
        R.POLICYVIOLATION,
        PF,
    ),
    Reply(
        "pf-postscreen",
        "550 5.7.1 Service unavailable; client [192.0.2.25] blocked using b.barracudacentral.org",
        R.BLOCKED,
        "Postfix 3.7 src/postscreen/postscreen_dnsbl.c",
    ),
    Reply(
        "pf-postscreen-pregreet",
        "421 4.3.2 Service currently unavailable",
        R.SYSTEMERROR,
        "Postfix 3.7 src/postscreen/postscreen_early.c",
    ),
    # --- Exim: reply texts of its source and its default configuration ---------------------
    Reply("ex-unrouteable", "550 Unrouteable address", R.HOSTUNKNOWN, EX),
    Reply(
        "ex-unknown-user",
        "550 Unknown user",
        R.USERUNKNOWN,
        "Exim Debian default configuration (exim4-config, acl_check_rcpt 'Unknown user')",
    ),
    Reply(
        "ex-verify-rcpt",
        "550 Verification failed for <{rcpt}>\nUnrouteable address",
        R.USERUNKNOWN,
        EX,
    ),
    Reply(
        "ex-no-such-user",
        "550 5.1.1 <{rcpt}>: No such user here",
        R.USERUNKNOWN,
        EX_SPEC + " (verify = recipient message)",
    ),
    Reply(
        "ex-relay",
        "550 relay not permitted",
        R.NORELAYING,
        "Exim default configuration (configure.default, acl_check_rcpt)",
    ),
    Reply("ex-admin-prohibition", "550 Administrative prohibition", R.REJECTED, EX),
    Reply("ex-temp-local", "451 Temporary local problem - please try later", R.SYSTEMERROR, EX),
    Reply("ex-too-many-rcpt", "452 too many recipients", R.RATELIMITED, EX),
    Reply(
        "ex-too-many-conn",
        "421 Too many concurrent SMTP connections; please try again later.",
        R.RATELIMITED,
        EX,
    ),
    Reply("ex-size", "552 Message size exceeds maximum permitted", R.EMAILTOOLARGE, EX),
    Reply("ex-sender-verify", "550 Sender verify failed", R.REJECTED, EX),
    Reply("ex-sender-verify-temp", "451 Could not complete sender verify", R.REJECTED, EX),
    Reply(
        "ex-rbl",
        "550 Rejected because 192.0.2.25 is in a black list at zen.spamhaus.org",
        R.BLOCKED,
        EX_SPEC + " (dnslists default message)",
    ),
    Reply(
        "ex-spam",
        "550 Rejected: this message scored 12.5 spam points.",
        R.SPAMDETECTED,
        EX_SPEC + " (content scanning, spam condition)",
    ),
    Reply(
        "ex-virus",
        "550 This message contains a virus (Eicar-Test-Signature).",
        R.VIRUSDETECTED,
        EX_SPEC + " (content scanning, malware condition)",
    ),
    Reply(
        "ex-quota",
        "552 Mailbox quota exceeded",
        R.MAILBOXFULL,
        "Exim appendfile transport (quota) documentation",
    ),
    Reply(
        "ex-greylist",
        "451 4.7.1 Greylisted, please try again later",
        R.BLOCKED,
        EX_SPEC + " (greylisting with ratelimit/seen)",
    ),
    Reply(
        "ex-ratelimit",
        "450 4.7.0 Sender rate overlimit - 100.0 / 1h / per_rcpt",
        R.RATELIMITED,
        EX_SPEC + " (ratelimit condition)",
    ),
    Reply("ex-helo-syntax", "501 Syntactically invalid HELO argument(s)", R.BLOCKED, EX),
    Reply("ex-sync", "554 SMTP synchronization error", R.NOTCOMPLIANTRFC, EX),
    Reply("ex-tls-required", "530 5.7.0 TLS required", R.FAILEDSTARTTLS, EX_SPEC),
    Reply("ex-spool-full", "452 Space shortage, please try later", R.SYSTEMFULL, EX),
    Reply(
        "ex-host-lookup",
        "451 Temporary local problem - please try later (host lookup)",
        R.SYSTEMERROR,
        EX,
    ),
    Reply("ex-defer-verify", "451 4.3.0 Could not complete recipient verify", R.SYSTEMERROR, EX),
    Reply(
        "ex-malformed-header",
        "550 Message rejected: header syntax",
        R.NOTCOMPLIANTRFC,
        EX_SPEC + " (verify = header_syntax)",
    ),
    Reply(
        "ex-no-from",
        "550 5.7.1 Message rejected: no valid From: header",
        R.NOTCOMPLIANTRFC,
        EX_SPEC + " (verify = header_sender)",
    ),
    # --- Sendmail ---------------------------------------------------------------------------
    Reply("sm-user-unknown", "550 5.1.1 <{rcpt}>... User unknown", R.USERUNKNOWN, SM),
    Reply(
        "sm-host-unknown",
        "550 5.1.2 <{rcpt}>... Host unknown (Name server: example.org: host not found)",
        R.HOSTUNKNOWN,
        SM,
    ),
    Reply("sm-relaying-denied", "550 5.7.1 <{rcpt}>... Relaying denied", R.NORELAYING, SM),
    Reply(
        "sm-relaying-denied-ip",
        "550 5.7.1 <{rcpt}>... Relaying denied. IP name lookup failed [192.0.2.25]",
        R.NORELAYING,
        SM,
    ),
    Reply("sm-access-denied", "550 5.7.1 <{rcpt}>... Access denied", R.REJECTED, SM),
    Reply("sm-mailbox-full", "552 5.2.2 <{rcpt}>... Mailbox full", R.MAILBOXFULL, SM),
    Reply("sm-quota", "452 4.2.2 <{rcpt}>... Over quota", R.MAILBOXFULL, SM),
    Reply("sm-size", "552 5.2.3 Message size exceeds maximum value", R.EMAILTOOLARGE, SM),
    Reply("sm-temp-failure", "451 4.3.0 <{rcpt}>... Temporary failure", R.SYSTEMERROR, SM),
    Reply("sm-disk", "452 4.4.5 Insufficient disk space; try again later", R.SYSTEMFULL, SM),
    Reply("sm-rate", "421 4.3.2 Connection rate limit exceeded.", R.RATELIMITED, SM),
    Reply("sm-conn-concurrency", "421 4.3.2 Too many open connections.", R.RATELIMITED, SM),
    Reply(
        "sm-dnsbl",
        "550 5.7.1 Rejected: 192.0.2.25 listed at zen.spamhaus.org",
        R.BLOCKED,
        SM + " (FEATURE(dnsbl) default text)",
    ),
    Reply(
        "sm-dnsbl-temp",
        "451 4.7.1 Temporary lookup failure of 192.0.2.25 at zen.spamhaus.org",
        R.BLOCKED,
        SM + " (FEATURE(dnsbl) temporary text)",
    ),
    Reply(
        "sm-sender-domain",
        "553 5.1.8 <b@bounces.example.com>... Domain of sender address b@bounces.example.com does not exist",
        R.REJECTED,
        SM,
    ),
    Reply(
        "sm-sender-domain-temp",
        "451 4.1.8 Domain of sender address b@bounces.example.com does not resolve",
        R.REJECTED,
        SM,
    ),
    Reply(
        "sm-user-address-required", "553 5.1.3 <{rcpt}>... User address required", R.USERUNKNOWN, SM
    ),
    Reply("sm-unbalanced", "553 5.1.3 <{rcpt}>... Unbalanced '<'", R.USERUNKNOWN, SM),
    Reply("sm-hop-count", "554 5.4.6 Too many hops 26 (25 max)", R.NETWORKERROR, SM),
    Reply("sm-mail-loop", "554 5.4.6 Mail loops back to me (MX problem?)", R.NETWORKERROR, SM),
    Reply("sm-service-unavailable", "554 5.0.0 Service unavailable", R.REJECTED, SM),
    Reply("sm-too-many-rcpt", "452 4.5.3 Too many recipients", R.RATELIMITED, SM),
    Reply(
        "sm-greet-pause",
        "554 5.5.0 mx.example.org not accepting messages",
        R.REJECTED,
        SM + " (FEATURE(greet_pause))",
    ),
    Reply(
        "sm-user-moved",
        "551 5.1.6 <{rcpt}>... User has moved; please try <new@example.org>",
        R.HASMOVED,
        SM + " (FEATURE(redirect), .REDIRECT)",
    ),
    Reply(
        "sm-milter-reject",
        "550 5.7.1 Command rejected",
        R.REJECTED,
        SM + " (milter default reject text)",
    ),
    Reply(
        "sm-milter-tempfail",
        "451 4.7.1 Please try again later",
        R.BLOCKED,
        SM + " (milter default tempfail text)",
    ),
    # --- qmail, vpopmail/chkuser ------------------------------------------------------------
    Reply(
        "qm-rcpthosts",
        "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
        R.NORELAYING,
        QM,
    ),
    Reply(
        "qm-badmailfrom",
        "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)",
        R.REJECTED,
        QM,
    ),
    Reply(
        "qm-databytes",
        "552 sorry, that message size exceeds my databytes limit (#5.3.4)",
        R.EMAILTOOLARGE,
        QM,
    ),
    Reply("qm-qq-temp", "451 qq temporary problem (#4.3.0)", R.SYSTEMERROR, QM),
    Reply("qm-qq-write", "451 qq write error or disk full (#4.3.0)", R.SYSTEMFULL, QM),
    Reply(
        "qm-perm-reject", "554 mail server permanently rejected message (#5.3.0)", R.REJECTED, QM
    ),
    Reply("qm-controls", "421 unable to read controls (#4.3.0)", R.SYSTEMERROR, QM),
    Reply("qm-out-of-memory", "451 out of memory (#4.3.0)", R.SYSTEMERROR, QM),
    Reply("qm-bare-lf", "451 See http://pobox.com/~djb/docs/smtplf.html.", R.NOTCOMPLIANTRFC, QM),
    Reply(
        "chk-no-mailbox",
        "550 5.1.1 sorry, no mailbox here by that name (chkuser)",
        R.USERUNKNOWN,
        CHK,
    ),
    Reply(
        "chk-no-mailbox-511",
        "511 sorry, no mailbox here by that name (#5.1.1 - chkuser)",
        R.USERUNKNOWN,
        CHK,
    ),
    Reply(
        "chk-over-quota",
        "552 sorry, mailbox {rcpt} is over quota (#5.2.2 - chkuser)",
        R.MAILBOXFULL,
        CHK,
    ),
    Reply(
        "chk-mailbox-disabled",
        "550 sorry, this mailbox is disabled (#5.2.1 - chkuser)",
        R.SUSPEND,
        CHK,
    ),
    Reply(
        "chk-sender-domain",
        "553 sorry, can't find a valid MX for sender domain (#5.1.1 - chkuser)",
        R.REJECTED,
        CHK,
    ),
    Reply(
        "chk-rcpt-mx",
        "550 sorry, can't find a valid MX for rcpt domain (#5.1.2 - chkuser)",
        R.HOSTUNKNOWN,
        CHK,
    ),
    Reply(
        "chk-too-many-rcpt",
        "571 sorry, reached maximum number of recipients for one session (#5.7.1 - chkuser)",
        R.RATELIMITED,
        CHK,
    ),
    Reply(
        "chk-invalid-char",
        "553 sorry, invalid character in recipient address (#5.1.1 - chkuser)",
        R.USERUNKNOWN,
        CHK,
    ),
    Reply(
        "chk-tmp-mbx",
        "451 sorry, temporary unavailable mailbox (#4.2.1 - chkuser)",
        R.SYSTEMERROR,
        CHK,
    ),
    # --- Courier ----------------------------------------------------------------------------
    Reply("ci-unknown-user", "550 User unknown.", R.USERUNKNOWN, CI),
    Reply("ci-relay", "513 Relaying denied.", R.NORELAYING, CI),
    Reply("ci-mailbox-full", "552 Mail quota exceeded.", R.MAILBOXFULL, CI),
    Reply("ci-blacklisted", "517 Your mail server has been blacklisted.", R.BLOCKED, CI),
    Reply("ci-dns-temp", "451 DNS lookup failed.", R.SYSTEMERROR, CI),
    # --- Google (Gmail, Workspace) ------------------------------------------------------------
    Reply(
        "g-nosuchuser",
        "550 5.1.1 The email account that you tried to reach does not exist. Please try\ndouble-checking the recipient's email address for typos or\nunnecessary spaces. For more information, go to\nhttps://support.google.com/mail/?p=NoSuchUser 41be03b00d2f7-b-0001 - gsmtp",
        R.USERUNKNOWN,
        GOOGLE,
    ),
    Reply(
        "g-disabled",
        "550 5.2.1 The email account that you tried to reach is disabled. For more\ninformation, go to https://support.google.com/mail/?p=DisabledUser - gsmtp",
        R.SUSPEND,
        GOOGLE,
    ),
    Reply(
        "g-inactive",
        "550 5.2.1 The email account that you tried to reach is inactive. For more\ninformation, go to https://support.google.com/mail/?p=DisabledUser - gsmtp",
        R.SUSPEND,
        GOOGLE,
    ),
    Reply(
        "g-overquota-perm",
        "552 5.2.2 The email account that you tried to reach is over quota. For more\ninformation, go to https://support.google.com/mail/?p=OverQuotaPerm - gsmtp",
        R.MAILBOXFULL,
        GOOGLE,
    ),
    Reply(
        "g-overquota-temp",
        "452 4.2.2 The email account that you tried to reach is over quota. Please direct\nthe recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp",
        R.MAILBOXFULL,
        GOOGLE,
    ),
    Reply(
        "g-receiving-rate",
        "450 4.2.1 The user you are trying to contact is receiving mail at a rate that\nprevents additional messages from being delivered. Please resend your\nmessage at a later time. If the user is able to receive mail at that\ntime, your message will be delivered. - gsmtp",
        R.RATELIMITED,
        GOOGLE,
    ),
    Reply(
        "g-receiving-quickly",
        "450 4.2.1 The user you are trying to contact is receiving mail too quickly.\nPlease resend your message at a later time. - gsmtp",
        R.RATELIMITED,
        GOOGLE,
    ),
    Reply(
        "g-relay-limit",
        "450 4.2.1 Peak SMTP relay limit exceeded for customer. - gsmtp",
        R.RATELIMITED,
        GOOGLE,
    ),
    Reply(
        "g-temp-system",
        "421 4.3.0 Temporary System Problem. Try again later. - gsmtp",
        R.SYSTEMERROR,
        GOOGLE,
    ),
    Reply("g-busy", "421 4.4.5 Server busy, try again later. - gsmtp", R.SYSTEMERROR, GOOGLE),
    Reply(
        "g-whitelist",
        "421 4.7.0 IP not in whitelist for RCPT domain, closing connection. - gsmtp",
        R.BLOCKED,
        GOOGLE,
    ),
    Reply(
        "g-unsolicited-temp",
        "421 4.7.0 Our system has detected an unusual rate of unsolicited mail originating\nfrom your IP address. To protect our users from spam, mail sent from your IP\naddress has been temporarily blocked. - gsmtp",
        R.BADREPUTATION,
        GOOGLE,
    ),
    Reply(
        "g-unsolicited-perm",
        "550 5.7.1 Our system has detected an unusual rate of unsolicited mail originating\nfrom your IP address. To protect our users from spam, mail sent from your IP\naddress has been blocked. - gsmtp",
        R.BADREPUTATION,
        GOOGLE,
    ),
    Reply(
        "g-tls-rcpt",
        "421 4.7.0 TLS required for RCPT domain, closing connection. - gsmtp",
        R.FAILEDSTARTTLS,
        GOOGLE,
    ),
    Reply(
        "g-try-later",
        "421 4.7.0 Try again later, closing connection. - gsmtp",
        R.SYSTEMERROR,
        GOOGLE,
    ),
    Reply(
        "g-temp-rejected",
        "451 4.3.0 Mail server temporarily rejected message. - gsmtp",
        R.SYSTEMERROR,
        GOOGLE,
    ),
    Reply(
        "g-multi-domain",
        "451 4.3.0 Multiple destination domains per transaction is unsupported. Please\ntry again. - gsmtp",
        R.SYSTEMERROR,
        GOOGLE,
    ),
    Reply("g-timeout", "451 4.4.2 Timeout - closing connection. - gsmtp", R.NETWORKERROR, GOOGLE),
    Reply(
        "g-protocol-temp",
        "451 4.5.0 SMTP protocol violation, see RFC 2821. - gsmtp",
        R.NOTCOMPLIANTRFC,
        GOOGLE,
    ),
    Reply(
        "g-too-many-rcpt",
        "452 4.5.3 Your message has too many recipients. - gsmtp",
        R.RATELIMITED,
        GOOGLE,
    ),
    Reply(
        "g-domain-policy-size",
        "452 4.5.3 Domain policy size per transaction exceeded, please try this\nrecipient in a separate transaction. - gsmtp",
        R.RATELIMITED,
        GOOGLE,
    ),
    Reply(
        "g-starttls",
        "530 5.7.0 Must issue a STARTTLS command first. - gsmtp",
        R.FAILEDSTARTTLS,
        GOOGLE,
    ),
    Reply(
        "g-unauth-5726",
        "550 5.7.26 This mail is unauthenticated, which poses a security risk to the\nsender and Gmail users, and has been blocked. The sender must authenticate\nwith at least one of SPF or DKIM. - gsmtp",
        R.AUTHFAILURE,
        GOOGLE,
    ),
    Reply(
        "g-dmarc",
        "550 5.7.26 Unauthenticated email from example.com is not accepted due to\ndomain's DMARC policy. Please contact the administrator of example.com\ndomain if this was a legitimate mail. - gsmtp",
        R.AUTHFAILURE,
        GOOGLE,
    ),
    Reply(
        "g-spf-fail",
        "550 5.7.26 This mail has been blocked because the sender is unauthenticated.\nGmail requires all senders to authenticate with either SPF or DKIM.\nAuthentication results: DKIM = did not pass SPF [example.com] with ip:\n[192.0.2.25] = did not pass - gsmtp",
        R.AUTHFAILURE,
        GOOGLE,
    ),
    Reply(
        "g-ptr",
        "550 5.7.25 The IP address sending this message does not have a PTR record\nsetup, or the corresponding forward DNS entry does not point to the\nsending IP. As a policy, Gmail does not accept messages from IPs with\nmissing PTR records. - gsmtp",
        R.REQUIREPTR,
        GOOGLE,
    ),
    Reply(
        "g-ptr-temp",
        "421 4.7.23 The sending IP does not match the IP address of the hostname\nspecified in the pointer (PTR) record. - gsmtp",
        R.REQUIREPTR,
        GOOGLE,
    ),
    Reply(
        "g-dmarc-temp",
        "421 4.7.32 Your email has been rate limited because the From: header\n(RFC5322) in this message isn't aligned with either the authenticated\nSPF or DKIM organizational domain. - gsmtp",
        R.AUTHFAILURE,
        GOOGLE,
    ),
    Reply(
        "g-unsolicited-domain",
        "421 4.7.28 Gmail has detected an unusual rate of unsolicited mail containing\none of your URLs. To protect our users from spam, mail sent from\nyour domain has been temporarily rate limited. - gsmtp",
        R.BADREPUTATION,
        GOOGLE,
    ),
    Reply(
        "g-security-content",
        "552 5.7.0 This message was blocked because its content presents a potential\nsecurity issue. - gsmtp",
        R.VIRUSDETECTED,
        GOOGLE,
    ),
    Reply(
        "g-size",
        "552 5.3.4 Your message exceeded Google's message size limits. - gsmtp",
        R.EMAILTOOLARGE,
        GOOGLE,
    ),
    Reply(
        "g-header-size",
        "552 5.3.4 The size of your message header exceeded Google's message header\nsize limits. - gsmtp",
        R.EMAILTOOLARGE,
        GOOGLE,
    ),
    Reply(
        "g-no-from",
        "550 5.7.1 Messages missing a valid address in From: header, or having no From:\nheader, are not accepted. - gsmtp",
        R.NOTCOMPLIANTRFC,
        GOOGLE,
    ),
    Reply(
        "g-rfc5322",
        "550 5.7.1 This message is not RFC 5322 compliant. There are multiple From\nheaders. - gsmtp",
        R.NOTCOMPLIANTRFC,
        GOOGLE,
    ),
    Reply(
        "g-gcdp",
        "550 5.7.1 This message violates example.com email policy. - gcdp - gsmtp",
        R.POLICYVIOLATION,
        GOOGLE,
    ),
    Reply(
        "g-spam-content",
        "550 5.7.1 Our system has detected that this message is likely unsolicited mail.\nTo reduce the amount of spam sent to Gmail, this message has been\nblocked. - gsmtp",
        R.SPAMDETECTED,
        GOOGLE,
    ),
    Reply(
        "g-recipient-daily",
        "550 5.4.5 Daily user sending limit exceeded. - gsmtp",
        R.RATELIMITED,
        GOOGLE,
    ),
    Reply(
        "g-relay-denied",
        "550 5.7.0 Mail relay denied 192.0.2.25. Invalid credentials for relay for one\nof the domains in: example.com. - gsmtp",
        R.NORELAYING,
        GOOGLE,
    ),
    Reply(
        "g-app-blocked",
        "552 5.7.0 This message was blocked because its content presents a potential\nsecurity issue. Please visit https://support.google.com/mail/?p=BlockedMessage\nto review our message content and attachment content guidelines. - gsmtp",
        R.VIRUSDETECTED,
        GOOGLE,
    ),
    Reply(
        "g-blocked-sender",
        "550 5.7.1 The user or domain that you are sending to (or from) has a policy\nthat prohibited the mail that you sent. - gsmtp",
        R.POLICYVIOLATION,
        GOOGLE,
    ),
    Reply(
        "g-bad-domain",
        "550 5.1.2 We weren't able to find the recipient domain. Please check for any\nspelling errors, and make sure you didn't enter any spaces, periods,\nor other punctuation after the recipient's email address. - gsmtp",
        R.HOSTUNKNOWN,
        GOOGLE,
    ),
    Reply(
        "g-bad-syntax",
        "553 5.1.3 The recipient address <{rcpt}> is not a valid RFC 5321 address. - gsmtp",
        R.USERUNKNOWN,
        GOOGLE,
    ),
    Reply(
        "g-ipv6-ptr",
        "550 5.7.1 [2001:db8::25] Our system has detected that this message does not meet\nIPv6 sending guidelines regarding PTR records and authentication. - gsmtp",
        R.REQUIREPTR,
        GOOGLE,
    ),
    Reply(
        "g-ipv6-ptr-temp",
        "421 4.7.1 [2001:db8::25] Our system has detected that this message does not meet\nIPv6 sending guidelines regarding PTR records and authentication. - gsmtp",
        R.REQUIREPTR,
        GOOGLE,
    ),
    # --- Microsoft (Exchange Online, Outlook.com) ---------------------------------------------
    Reply("ms-recipnotfound", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", R.USERUNKNOWN, MS),
    Reply(
        "ms-recipientnotfound",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {rcpt} not found by SMTP address lookup",
        R.USERUNKNOWN,
        MS + " (5.1.10 here is Exchange's 'recipient not found', not RFC 7505)",
    ),
    Reply(
        "ms-dbeb",
        "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DB5EUR03FT001.eop-EUR03.prod.protection.outlook.com]",
        R.USERUNKNOWN,
        MS + " (Directory Based Edge Blocking: the recipient does not exist)",
    ),
    Reply(
        "ms-outlook-unknown",
        "550 5.5.0 Requested action not taken: mailbox unavailable. [AM4PEPF00025F9C.EURPRD10.PROD.OUTLOOK.COM]",
        R.USERUNKNOWN,
        MS + " (outlook.com consumer mailboxes)",
    ),
    Reply(
        "ms-rbl-spamhaus",
        "550 5.7.1 Service unavailable, Client host [192.0.2.25] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/192.0.2.25 (AS3130). [BN1NAM02FT001.eop-nam02.prod.protection.outlook.com]",
        R.BLOCKED,
        MS,
    ),
    Reply(
        "ms-banned-ip",
        "550 5.7.606 Access denied, banned sending IP [192.0.2.25]. To request removal from this list please visit https://sender.office.com/ and follow the directions.",
        R.BLOCKED,
        MS,
    ),
    Reply(
        "ms-traffic-not-accepted",
        "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
        R.BLOCKED,
        MS,
    ),
    Reply(
        "ms-s3140",
        "550 5.7.1 Unfortunately, messages from [192.0.2.25] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors.",
        R.BLOCKED,
        MS + " (outlook.com S3140)",
    ),
    Reply(
        "ms-s3150",
        "550 5.7.1 Unfortunately, messages from [192.0.2.25] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
        R.BLOCKED,
        MS + " (outlook.com S3150)",
    ),
    Reply(
        "ms-server-busy",
        "451 4.7.500 Server busy. Please try again later from [192.0.2.25]. (S77719) [AM4PEPF00025F9C.EURPRD10.PROD.OUTLOOK.COM]",
        R.RATELIMITED,
        MS,
    ),
    Reply(
        "ms-temp-rate",
        "451 4.7.650 The mail server [192.0.2.25] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775)",
        R.BADREPUTATION,
        MS,
    ),
    Reply("ms-too-many-rcpt", "452 4.5.3 Too many recipients", R.RATELIMITED, MS),
    Reply(
        "ms-quota",
        "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded",
        R.MAILBOXFULL,
        MS,
    ),
    Reply("ms-quota-550", "550 5.2.2 Mailbox full", R.MAILBOXFULL, MS),
    Reply(
        "ms-dmarc",
        "550 5.7.509 Access denied, sending domain example.com does not pass DMARC verification and has a DMARC policy of reject.",
        R.AUTHFAILURE,
        MS,
    ),
    Reply(
        "ms-dmarc-5-7-515",
        "550 5.7.515 Access denied, sending domain example.com doesn't meet the required authentication level.",
        R.AUTHFAILURE,
        MS,
    ),
    Reply(
        "ms-auth-required",
        "550 5.7.1 RESOLVER.RST.AuthRequired; authentication required",
        R.REJECTED,
        MS,
    ),
    Reply(
        "ms-not-authorized", "550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized", R.REJECTED, MS
    ),
    Reply(
        "ms-group-auth",
        "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed because the sender was not authenticated when sending to this group",
        R.REJECTED,
        MS,
    ),
    Reply(
        "ms-group-restricted",
        "550 5.7.124 RESOLVER.RST.SenderNotAllowedForGroup; Sender not in allowed-senders list",
        R.REJECTED,
        MS,
    ),
    Reply(
        "ms-client-not-auth",
        "530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM",
        R.SECURITYERROR,
        MS,
    ),
    Reply(
        "ms-hop-count",
        "554 5.4.14 Hop count exceeded - possible mail loop ATTR34",
        R.NETWORKERROR,
        MS,
    ),
    Reply("ms-loop", "554 5.4.6 Hop count exceeded - possible mail loop", R.NETWORKERROR, MS),
    Reply(
        "ms-dns-domain-missing",
        "550 5.4.310 DNS domain example.org does not exist",
        R.HOSTUNKNOWN,
        MS,
    ),
    Reply(
        "ms-dns-failed",
        "451 4.4.0 DNS query failed. The error was: DNS query failed with error: ErrorRetry",
        R.NETWORKERROR,
        MS,
    ),
    Reply("ms-dns-failed-312", "451 4.4.312 DNS query failed", R.NETWORKERROR, MS),
    Reply(
        "ms-size", "552 5.3.4 Message size exceeds fixed maximum message size", R.EMAILTOOLARGE, MS
    ),
    Reply(
        "ms-corrupt",
        "554 5.6.0 Corrupt message content; STOREDRV.Deliver.Exception:ConversionFailedPermanentException",
        R.CONTENTERROR,
        MS,
    ),
    Reply(
        "ms-spam", "550 5.7.350 Remote server returned message detected as spam", R.SPAMDETECTED, MS
    ),
    Reply(
        "ms-tenant-threshold",
        "550 5.7.705 Access denied, tenant has exceeded threshold",
        R.BLOCKED,
        MS,
    ),
    Reply(
        "ms-outbound-threshold",
        "550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains.",
        R.BLOCKED,
        MS,
    ),
    Reply("ms-bad-sender", "550 5.1.8 Access denied, bad outbound sender", R.REJECTED, MS),
    Reply(
        "ms-daily-recipients",
        "550 5.1.90 Your message can't be sent because you've reached your daily limit for message recipients",
        R.RATELIMITED,
        MS,
    ),
    Reply("ms-queue-expired", "451 4.4.7 Message expired", R.EXPIRED, MS),
    Reply(
        "ms-connect-timeout",
        "441 4.4.1 Error encountered while communicating with primary target IP address: Failed to connect. Winsock error code: 10060",
        R.NETWORKERROR,
        MS,
    ),
    Reply("ms-tls-required", "451 5.7.3 STARTTLS is required to send mail", R.FAILEDSTARTTLS, MS),
    Reply(
        "ms-transport-tls", "530 5.7.0 Must issue a STARTTLS command first", R.FAILEDSTARTTLS, MS
    ),
    Reply(
        "ms-journal",
        "550 5.7.520 Access denied, Your organization does not allow external forwarding.",
        R.POLICYVIOLATION,
        MS,
    ),
    Reply("ms-storage-temp", "452 4.3.1 Insufficient system resources", R.SYSTEMFULL, MS),
    Reply("ms-mailbox-disabled", "550 5.2.1 Mailbox cannot be accessed", R.SUSPEND, MS),
    Reply("ms-invalid-address", "501 5.1.3 Invalid address", R.USERUNKNOWN, MS),
    # --- Yahoo / AOL -------------------------------------------------------------------------
    Reply(
        "y-dd-no-account",
        "554 delivery error: dd This user doesn't have a yahoo.com account ({rcpt}) [0] - mta1234.mail.gq1.yahoo.com",
        R.USERUNKNOWN,
        YAHOO,
    ),
    Reply(
        "y-dd-disabled",
        "554 delivery error: dd Sorry your message to {rcpt} cannot be delivered. This mailbox is disabled (554.30). - mta1234.mail.gq1.yahoo.com",
        R.SUSPEND,
        YAHOO,
    ),
    Reply(
        "y-dd-not-accepting",
        "554 delivery error: dd Not a valid recipient - atlas123.aol.mail.ne1.yahoo.com",
        R.USERUNKNOWN,
        YAHOO + " (AOL recipients)",
    ),
    Reply(
        "y-mailbox-full", "552 1 Requested mail action aborted, mailbox full", R.MAILBOXFULL, YAHOO
    ),
    Reply(
        "y-tss04",
        "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        R.BADREPUTATION,
        YAHOO,
    ),
    Reply(
        "y-ts03",
        "421 4.7.0 [TS03] All messages from 192.0.2.25 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes",
        R.BADREPUTATION,
        YAHOO,
    ),
    Reply(
        "y-tss09",
        "421 4.7.0 [TSS09] All messages from 192.0.2.25 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes",
        R.BADREPUTATION,
        YAHOO,
    ),
    Reply(
        "y-tss11",
        "421 4.7.0 [TSS11] Excessive unknown recipients - possible Directory Harvest Attack; see https://postmaster.yahooinc.com/error-codes",
        R.BADREPUTATION,
        YAHOO,
    ),
    Reply(
        "y-bl21",
        "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.25, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
        R.BLOCKED,
        YAHOO,
    ),
    Reply(
        "y-bl23",
        "553 5.7.1 [BL23] Connections not accepted from IP addresses on Spamhaus XBL; see https://postmaster.yahooinc.com/error-codes",
        R.BLOCKED,
        YAHOO,
    ),
    Reply(
        "y-unauth",
        "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.",
        R.AUTHFAILURE,
        YAHOO,
    ),
    Reply(
        "y-dmarc",
        "554 5.7.9 Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes",
        R.POLICYVIOLATION,
        YAHOO,
    ),
    Reply(
        "y-ph01",
        "554 Message not allowed - [PH01] Email not accepted for policy reasons. Please visit https://postmaster.yahooinc.com/error-codes [150]",
        R.POLICYVIOLATION,
        YAHOO,
    ),
    Reply(
        "y-unresolvable-from",
        "451 Message temporarily deferred due to unresolvable RFC.5321 from domain; see https://postmaster.yahooinc.com/error-codes",
        R.REJECTED,
        YAHOO,
    ),
    Reply(
        "y-max-per-conn",
        "421 Max message per connection reached, closing transmission channel",
        R.RATELIMITED,
        YAHOO,
    ),
    Reply(
        "y-resources",
        "451 Resources temporarily unavailable. Please try again later [#4.16.1].",
        R.SYSTEMERROR,
        YAHOO,
    ),
    Reply(
        "y-content",
        "554 5.7.9 Message not accepted for policy reasons [#4.16.56]",
        R.POLICYVIOLATION,
        YAHOO,
    ),
    Reply(
        "y-rfc5322",
        "554 5.7.9 Message not accepted: Invalid Header. See RFC 5322 section 3.6.",
        R.NOTCOMPLIANTRFC,
        YAHOO,
    ),
    Reply(
        "y-ptr",
        "421 4.7.1 [TSS01] Messages from 192.0.2.25 temporarily deferred due to PTR lookup failure; see https://postmaster.yahooinc.com/error-codes",
        R.REQUIREPTR,
        YAHOO,
    ),
    # --- Apple iCloud ------------------------------------------------------------------------
    Reply("a-user-not-exist", "550 5.1.1 <{rcpt}>: user does not exist", R.USERUNKNOWN, APPLE),
    Reply("a-over-quota", "552 5.2.2 <{rcpt}>: user is over quota", R.MAILBOXFULL, APPLE),
    Reply("a-inactive", "550 5.2.1 <{rcpt}>: inactive email address", R.SUSPEND, APPLE),
    Reply(
        "a-cs01",
        "550 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
        R.POLICYVIOLATION,
        APPLE,
    ),
    Reply(
        "a-cs02",
        "554 5.7.1 [CS02] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
        R.POLICYVIOLATION,
        APPLE,
    ),
    Reply(
        "a-hm08",
        "554 5.7.1 [HM08] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
        R.POLICYVIOLATION,
        APPLE,
    ),
    Reply(
        "a-deferred-volume",
        "421 4.7.1 Messages to {rcpt} deferred due to excessive volume. Try again later - https://support.apple.com/en-us/HT204137",
        R.RATELIMITED,
        APPLE,
    ),
    Reply(
        "a-service-unavailable",
        "451 4.7.1 Service unavailable - try again later",
        R.SYSTEMERROR,
        APPLE,
    ),
    Reply("a-too-many-errors", "421 4.7.0 icloud.com Error: too many errors", R.RATELIMITED, APPLE),
    Reply(
        "a-dmarc",
        "550 5.7.1 Your message was rejected due to example.com DMARC policy.",
        R.AUTHFAILURE,
        APPLE,
    ),
    Reply(
        "a-dbl",
        "550 5.7.1 Your email was rejected due to having a domain present in the Spamhaus DBL -- see https://www.spamhaus.org/dbl/",
        R.BLOCKED,
        APPLE,
    ),
    # --- Orange (orange.fr, wanadoo.fr) -------------------------------------------------------
    Reply(
        "o-invalid-rcpt",
        "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
        R.USERUNKNOWN,
        ORANGE,
    ),
    Reply(
        "o-mailbox-full",
        "552 5.2.2 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]",
        R.MAILBOXFULL,
        ORANGE,
    ),
    Reply(
        "o-too-many-conn",
        "421 mwinf5c10 ME Trop de connexions, veuillez verifier votre configuration. Too many connections, slow down. OFR004_104 [104]",
        R.RATELIMITED,
        ORANGE,
    ),
    Reply(
        "o-service-refused",
        "421 mwinf5c79 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR004_105 [105]",
        R.BLOCKED,
        ORANGE,
    ),
    Reply(
        "o-999",
        "421 mwinf5c20 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR_999 [999]",
        R.BLOCKED,
        ORANGE,
    ),
    Reply(
        "o-ip-spam",
        "550 mwinf5c20 ME Adresse IP source bloquee pour incident de spam. Client host blocked for spamming issues. OFR006_102 Ref http://csi.cloudmark.com/reset-request/?ip=192.0.2.25 [102]",
        R.BLOCKED,
        ORANGE,
    ),
    Reply(
        "o-too-many-msg",
        "421 mwinf5c10 ME Trop de messages, veuillez verifier votre configuration. Too many messages, slow down. OFR004_103 [103]",
        R.RATELIMITED,
        ORANGE,
    ),
    Reply(
        "o-sender-domain",
        "550 5.1.0 Adresse d'expedition invalide. Invalid sender. OFR_505 [505]",
        R.REJECTED,
        ORANGE,
    ),
    Reply(
        "o-spam-content",
        "554 5.7.1 Le contenu de ce message est considere comme du spam. Message content is considered as spam. OFR_506 [506]",
        R.SPAMDETECTED,
        ORANGE,
    ),
    Reply(
        "o-ptr",
        "550 5.7.25 Le reverse DNS de votre adresse IP n'est pas valide. Invalid reverse DNS. OFR_108 [108]",
        R.REQUIREPTR,
        ORANGE,
    ),
    # --- Mail.ru -----------------------------------------------------------------------------
    Reply(
        "mr-user-not-found",
        "550 Message was not accepted -- invalid mailbox.  Local mailbox {rcpt} is unavailable: user not found",
        R.USERUNKNOWN,
        MAILRU,
    ),
    Reply(
        "mr-account-disabled",
        "550 Message was not accepted -- invalid mailbox.  Local mailbox {rcpt} is unavailable: account is disabled",
        R.SUSPEND,
        MAILRU,
    ),
    Reply(
        "mr-spam",
        "550 spam message rejected. Please visit http://help.mail.ru/notspam-support/id?c=abc123 or report details to abuse@corp.mail.ru. Error code: abc123. ID: 0123456789abcdef.",
        R.SPAMDETECTED,
        MAILRU,
    ),
    # --- other large receivers' published replies --------------------------------------------
    Reply("gmx-unknown", "550 Requested action not taken: mailbox unavailable", R.USERUNKNOWN, GMX),
    Reply(
        "gmx-ip-blocked",
        "554 gmx.net (mxgmx001) Nemesis ESMTP Service not available\nNo SMTP service\nIP address is block listed.",
        R.BLOCKED,
        GMX,
    ),
    Reply(
        "gmx-reverse",
        "554 gmx.net (mxgmx001) Nemesis ESMTP Service not available\nNo SMTP service\ninvalid DNS PTR resource record, IP=192.0.2.25",
        R.REQUIREPTR,
        GMX,
    ),
    Reply(
        "gmx-over-quota",
        "552 Requested mail action aborted: exceeded storage allocation",
        R.MAILBOXFULL,
        GMX,
    ),
    Reply(
        "gmx-temp", "451 Requested action aborted: local error in processing", R.SYSTEMERROR, GMX
    ),
    Reply(
        "gmx-too-many",
        "421 gmx.net (mxgmx001) Nemesis ESMTP Service not available - Too many connections",
        R.RATELIMITED,
        GMX,
    ),
    Reply("cc-unknown", "550 5.1.1 Not our Customer", R.USERUNKNOWN, COMCAST),
    Reply(
        "cc-bl",
        "554 5.7.1 resimta-po-01v.sys.comcast.net comcast 192.0.2.25 Comcast block for spam. Please see http://postmaster.comcast.net/smtp-error-codes.php#BL000000",
        R.BLOCKED,
        COMCAST,
    ),
    Reply(
        "cc-rl",
        "421 4.2.0 resimta-po-01v.sys.comcast.net 192.0.2.25 Comcast rate limit exceeded. Please see http://postmaster.comcast.net/smtp-error-codes.php#RL000001",
        R.RATELIMITED,
        COMCAST,
    ),
    Reply(
        "cc-ptr",
        "554 5.7.1 resimta-po-01v.sys.comcast.net comcast 192.0.2.25 PTR record required. Please see http://postmaster.comcast.net/smtp-error-codes.php#RE000003",
        R.REQUIREPTR,
        COMCAST,
    ),
    Reply("att-unknown", "550 5.1.1 <{rcpt}>... User unknown", R.USERUNKNOWN, ATT),
    Reply(
        "att-blocked",
        "553 5.3.0 flph829 DNSBL:RBL 521< 192.0.2.25 >_is_blocked.For assistance forward this error to abuse_rbl@abuse-att.net",
        R.BLOCKED,
        ATT,
    ),
    Reply("zoho-invalid", "550 5.1.1 User does not exist - <{rcpt}>", R.USERUNKNOWN, ZOHO),
    Reply("zoho-inactive", "550 5.2.1 Mailbox is inactive", R.SUSPEND, ZOHO),
    Reply("zoho-spam", "554 5.7.7 Email policy violation detected", R.POLICYVIOLATION, ZOHO),
    Reply(
        "pp-rejected",
        "554 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.25",
        R.BLOCKED,
        PROOFPOINT,
    ),
    Reply("pp-no-such-user", "550 5.1.1 User Unknown", R.USERUNKNOWN, PROOFPOINT),
    Reply(
        "pp-spam",
        "554 5.7.1 Message blocked due to spam content in the message.",
        R.SPAMDETECTED,
        PROOFPOINT,
    ),
    Reply(
        "mc-antispoof",
        "550 Rejected by header based Anti-Spoofing policy: b@bounces.example.com",
        R.POLICYVIOLATION,
        MIMECAST,
    ),
    Reply(
        "mc-invalid",
        "550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550",
        R.USERUNKNOWN,
        MIMECAST,
    ),
    Reply(
        "mc-greylist",
        "451 Internal resource temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451",
        R.SYSTEMERROR,
        MIMECAST,
    ),
    Reply(
        "mc-envelope",
        "550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550",
        R.REJECTED,
        MIMECAST,
    ),
    Reply("bc-invalid", "550 No such user ({rcpt})", R.USERUNKNOWN, BARRACUDA),
    Reply(
        "bc-blocked",
        "554 Service unavailable; Client host [192.0.2.25] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.25",
        R.BLOCKED,
        BARRACUDA,
    ),
    # --- RFC 3463 / 5321 generic texts ----------------------------------------------------------
    Reply("rfc-5.1.1", "550 5.1.1 Bad destination mailbox address", R.USERUNKNOWN, RFC3463),
    Reply("rfc-5.1.2", "550 5.1.2 Bad destination system address", R.HOSTUNKNOWN, RFC3463),
    Reply("rfc-5.1.3", "553 5.1.3 Bad destination mailbox address syntax", R.USERUNKNOWN, RFC3463),
    Reply(
        "rfc-5.1.6",
        "551 5.1.6 Destination mailbox has moved, No forwarding address",
        R.HASMOVED,
        RFC3463,
    ),
    Reply("rfc-5.1.10", "556 5.1.10 Recipient address has null MX", R.NOTACCEPT, RFC7505),
    Reply("rfc-5.2.1", "550 5.2.1 Mailbox disabled, not accepting messages", R.SUSPEND, RFC3463),
    Reply("rfc-5.2.2", "552 5.2.2 Mailbox full", R.MAILBOXFULL, RFC3463),
    Reply("rfc-4.2.2", "452 4.2.2 Mailbox full", R.MAILBOXFULL, RFC3463),
    Reply(
        "rfc-5.2.3",
        "552 5.2.3 Message length exceeds administrative limit",
        R.EMAILTOOLARGE,
        RFC3463,
    ),
    Reply("rfc-5.3.4", "552 5.3.4 Message too big for system", R.EMAILTOOLARGE, RFC3463),
    Reply("rfc-4.3.1", "452 4.3.1 Mail system full", R.SYSTEMFULL, RFC3463),
    Reply("rfc-4.3.2", "421 4.3.2 System not accepting network messages", R.SYSTEMERROR, RFC3463),
    Reply("rfc-4.4.1", "451 4.4.1 No answer from host", R.NETWORKERROR, RFC3463),
    Reply("rfc-4.4.2", "421 4.4.2 Bad connection", R.NETWORKERROR, RFC3463),
    Reply("rfc-4.4.3", "451 4.4.3 Directory server failure", R.SYSTEMERROR, RFC3463),
    Reply("rfc-4.4.5", "451 4.4.5 System congestion", R.SYSTEMERROR, RFC3463),
    Reply("rfc-5.4.6", "554 5.4.6 Routing loop detected", R.NETWORKERROR, RFC3463),
    Reply("rfc-5.6.0", "554 5.6.0 Other or undefined media error", R.CONTENTERROR, RFC3463),
    Reply("rfc-5.7.1", "550 5.7.1 Delivery not authorized, message refused", R.REJECTED, RFC3463),
    Reply("rfc-5.7.7", "554 5.7.7 Message integrity failure", R.SECURITYERROR, RFC3463),
    Reply(
        "rfc-5.7.8",
        "535 5.7.8 Authentication credentials invalid",
        R.SECURITYERROR,
        "RFC 4954 section 6",
    ),
    Reply(
        "rfc-5.7.11",
        "554 5.7.11 Encryption required for requested authentication mechanism",
        R.SECURITYERROR,
        "RFC 4954 section 6",
    ),
    Reply("rfc-5.7.23", "550 5.7.23 SPF validation failed", R.AUTHFAILURE, "RFC 7372 section 3.2"),
    Reply(
        "rfc-5.7.20",
        "550 5.7.20 No passing DKIM signature found",
        R.AUTHFAILURE,
        "RFC 7372 section 3.1",
    ),
    Reply(
        "rfc-5.7.25",
        "550 5.7.25 Reverse DNS validation failed",
        R.REQUIREPTR,
        "RFC 7372 section 3.3",
    ),
    Reply(
        "rfc-5.7.26",
        "550 5.7.26 Multiple authentication checks failed",
        R.AUTHFAILURE,
        "RFC 7372 section 3.3",
    ),
    Reply("rfc-5.7.27", "550 5.7.27 Sender address has null MX", R.REJECTED, RFC7505),
    Reply("rfc-4.7.0", "450 4.7.0 Other or undefined security status", R.SECURITYERROR, RFC3463),
    Reply("rfc-4.2.1", "450 4.2.1 Mailbox disabled, not accepting messages", R.SUSPEND, RFC3463),
    Reply(
        "rfc-450",
        "450 Requested mail action not taken: mailbox unavailable",
        R.SYSTEMERROR,
        RFC5321,
    ),
    Reply(
        "rfc-451", "451 Requested action aborted: local error in processing", R.SYSTEMERROR, RFC5321
    ),
    Reply(
        "rfc-452",
        "452 Requested action not taken: insufficient system storage",
        R.SYSTEMFULL,
        RFC5321,
    ),
    Reply(
        "rfc-421",
        "421 mx.example.org Service not available, closing transmission channel",
        R.SYSTEMERROR,
        RFC5321,
    ),
    Reply("rfc-550", "550 Requested action not taken: mailbox unavailable", R.USERUNKNOWN, RFC5321),
    Reply("rfc-551", "551 User not local; please try <someone@example.org>", R.HASMOVED, RFC5321),
    Reply(
        "rfc-552",
        "552 Requested mail action aborted: exceeded storage allocation",
        R.MAILBOXFULL,
        RFC5321,
    ),
    Reply(
        "rfc-553",
        "553 Requested action not taken: mailbox name not allowed",
        R.USERUNKNOWN,
        RFC5321,
    ),
    Reply("rfc-554", "554 Transaction failed", R.REJECTED, RFC5321),
    Reply("rfc-5.5.4", "501 5.5.4 Invalid command arguments", R.SYNTAXERROR, RFC3463),
    # --- widely deployed filters (SpamAssassin/rspamd/amavis via MTAs) ---------------------------
    Reply(
        "amavis-spam",
        "554 5.7.0 Reject, id=12345-01 - spam",
        R.SPAMDETECTED,
        "amavisd-new documentation (reject texts)",
    ),
    Reply(
        "amavis-virus",
        "554 5.7.0 Reject, id=12345-01 - INFECTED: Eicar-Test-Signature",
        R.VIRUSDETECTED,
        "amavisd-new documentation (reject texts)",
    ),
    Reply(
        "amavis-banned",
        "554 5.7.0 Reject, id=12345-01 - BANNED: .exe,test.exe",
        R.VIRUSDETECTED,
        "amavisd-new documentation (reject texts)",
    ),
    Reply(
        "amavis-temp",
        "451 4.5.0 Error in processing, id=12345-01, virus_scan FAILED",
        R.SYSTEMERROR,
        "amavisd-new documentation (tempfail texts)",
    ),
    Reply(
        "rspamd-spam",
        "554 5.7.1 Spam message rejected",
        R.SPAMDETECTED,
        "rspamd documentation (milter reject action default message)",
    ),
    Reply(
        "rspamd-greylist",
        "451 4.7.1 Try again later",
        R.BLOCKED,
        "rspamd documentation (greylist action default message)",
    ),
    Reply(
        "rspamd-soft-reject",
        "451 4.7.1 Try again later",
        R.BLOCKED,
        "rspamd documentation (soft reject action)",
    ),
    Reply(
        "spamass-milter",
        "550 5.7.1 Blocked by SpamAssassin",
        R.SPAMDETECTED,
        "spamass-milter documentation (-r reject text)",
    ),
    Reply(
        "clamav-milter",
        "550 5.7.1 Virus found: Eicar-Test-Signature",
        R.VIRUSDETECTED,
        "clamav-milter documentation (reject text)",
    ),
    Reply(
        "opendmarc",
        "550 5.7.1 rejected by DMARC policy for example.com",
        R.AUTHFAILURE,
        "OpenDMARC opendmarc.conf(5) RejectFailures default text",
    ),
    Reply(
        "policyd-spf",
        "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=b@bounces.example.com;ip=192.0.2.25;r=<UNKNOWN>",
        R.AUTHFAILURE,
        "postfix-policyd-spf-python documentation (Reason_Message default)",
    ),
    Reply(
        "policyd-spf-temp",
        "450 4.7.24 Message deferred due to: SPF Temperror. Please see http://www.openspf.net/Why?s=mfrom",
        R.AUTHFAILURE,
        "postfix-policyd-spf-python documentation (temperror)",
    ),
    Reply(
        "sqlgrey",
        "450 4.7.1 Greylisting in action, please come back later",
        R.BLOCKED,
        "sqlgrey documentation (reject text)",
    ),
    Reply(
        "milter-greylist",
        "451 4.7.1 Greylisting in action, please come back in 00:05:00",
        R.BLOCKED,
        "milter-greylist documentation (greylist.conf default message)",
    ),
    Reply(
        "dovecot-lmtp-quota",
        "552 5.2.2 <{rcpt}> Quota exceeded (mailbox for user is full)",
        R.MAILBOXFULL,
        "Dovecot quota plugin documentation (quota_exceeded_message default)",
    ),
    Reply(
        "dovecot-lmtp-quota-temp",
        "452 4.2.2 <{rcpt}> Quota exceeded (mailbox for user is full)",
        R.MAILBOXFULL,
        "Dovecot quota plugin documentation (quota_full_tempfail = yes)",
    ),
    Reply(
        "dovecot-lmtp-unknown",
        "550 5.1.1 <{rcpt}> User doesn't exist: {rcpt}",
        R.USERUNKNOWN,
        "Dovecot LMTP source (src/lmtp/lmtp-local.c)",
    ),
    Reply(
        "dovecot-lmtp-temp",
        "451 4.3.0 <{rcpt}> Temporary internal error",
        R.SYSTEMERROR,
        "Dovecot LMTP source (src/lmtp/lmtp-local.c)",
    ),
    Reply(
        "cyrus-unknown",
        "550 5.1.1 User unknown",
        R.USERUNKNOWN,
        "Cyrus IMAP lmtpd source (imap/lmtpengine.c)",
    ),
    Reply(
        "cyrus-overquota",
        "452 4.2.2 Over quota",
        R.MAILBOXFULL,
        "Cyrus IMAP lmtpd source (imap/lmtpengine.c)",
    ),
    Reply(
        "cyrus-overquota-perm",
        "552 5.2.2 Over quota",
        R.MAILBOXFULL,
        "Cyrus IMAP lmtpd source (imap/lmtpengine.c, lmtp_over_quota_perm_failure)",
    ),
)

BY_ID: dict[str, Reply] = {reply.id: reply for reply in REPLIES}
if len(BY_ID) != len(REPLIES):  # an id used twice would make a row unreachable
    raise RuntimeError("duplicate reply ids in tests/factory/replies.py")
