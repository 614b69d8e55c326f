"""Why a delivery failed, as data: the ordered rule tables the decision reads.

``RULES`` is read top to bottom and the first row that matches decides
(``parsers.reasons`` says how a row matches): rows go from the most specific
cause to the least, so a full mailbox that the MTA reports with 5.1.1 is
still a full mailbox, and "blocked" alone, what many servers say about
anything, comes late. ``STATUS_REASONS`` (the enhanced code alone) is read
only when no row of ``RULES`` matched, ``LATE_RULES`` after it, and
``SUBJECT_REASONS`` (the code's subject) last.

Sources: the reason names are Sisimai's (``vocabulary.Reason``). Each row of
``RULES`` and ``LATE_RULES`` names, in a comment, the Sisimai module whose
patterns its phrases follow (``lib/Sisimai/Reason/<Name>.pm``) and, where the
shared corpus or the fixtures hold its words, "the corpus": the remote hosts'
own words, added as they were met (``tests/parsers/test_corpus.py`` holds the
rows to the corpus labels). A row or phrase that comes from one MTA or
provider names it too. The status codes are RFC 3463's and the IANA registry
of RFC 5248.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from returnpath.parsers.vocabulary import Reason


@dataclass(frozen=True, slots=True)
class Rule:
    """One row: a reason, the words that show it, and the status codes that mean it.

    ``words`` are literal lower-case phrases found in the diagnostic (each
    starting at a word boundary); ``regexes`` are for the few shapes words
    cannot say, each behind a gate of literals one of which every match
    contains, so the regex engine runs only when it may match. ``unless`` lists
    words that, when present, veto a match by status code alone: "550 5.1.1
    ... blocked by spam filter" is not an unknown user. ``commands`` /
    ``not_commands`` tie the words to the SMTP command the remote host
    answered: "user unknown" after RCPT TO is an unknown user, after DATA it
    is a content filter pretending so.
    """

    reason: Reason
    words: tuple[str, ...] = ()
    regexes: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = ()
    statuses: frozenset[str] = frozenset()
    unless: tuple[str, ...] = ()
    replycodes: frozenset[str] = frozenset()
    #: the words count only after these SMTP commands (empty: after any;
    #: ``None`` in the set: also when the command is unknown)
    commands: frozenset[str | None] = frozenset()
    #: the words do not count after these SMTP commands
    not_commands: frozenset[str] = frozenset()
    #: the words count only for a permanent (5xx) failure
    permanent: bool = False
    #: with no known command, an explicit status naming another reason wins
    #: over the words ("550 5.2.1 ... User unknown" is a filter's refusal)
    defer_to_status: bool = False
    #: the row's stable name, what a finding's ``decided_by`` says: ``<table>.<reason>.<slug
    #: of its first word, regex, status or reply code>`` (``rules.userunknown.user-unknown``),
    #: given to every row once its table is complete (``_named``); ``id=`` in ``_rule``
    #: overrides it when two rows of a table would otherwise share one
    id: str = ""


def _rule(
    reason: Reason,
    words: Iterable[str] = (),
    regexes: Iterable[tuple[str | tuple[str, ...], str]] = (),
    statuses: Iterable[str] = (),
    unless: Iterable[str] = (),
    replycodes: Iterable[str] = (),
    commands: Iterable[str | None] = (),
    not_commands: Iterable[str] = (),
    permanent: bool = False,
    defer_to_status: bool = False,
    id: str = "",
) -> Rule:
    compiled = tuple(
        ((gate,) if isinstance(gate, str) else gate, re.compile(r)) for gate, r in regexes
    )
    return Rule(
        reason,
        tuple(words),
        compiled,
        frozenset(statuses),
        tuple(unless),
        frozenset(replycodes),
        frozenset(commands),
        frozenset(not_commands),
        permanent,
        defer_to_status,
        id,
    )


# The words a user-unknown rejection uses; shared by two rows (see "filtered").
_USER_UNKNOWN_WORDS = (
    "user unknown",
    "unknown user",
    "no such user",
    "no such mailbox",
    "no such recipient",
    "no such address",
    "no such person",
    "no such account",
    "unknown recipient",
    "recipient unknown",
    "unknown mailbox",
    "mailbox unknown",
    "invalid recipient",
    "invalid mailbox",
    "invalid address",
    "recipient not found",
    "user not found",
    "mailbox not found",
    "address not found",
    "mailbox does not exist",
    "recipient does not exist",
    "user does not exist",
    "address does not exist",
    "account does not exist",
    "email account that you tried to reach does not exist",
    "unknown local part",
    "unknown or illegal alias",
    "not a valid mailbox",
    "not a valid user",
    "not a valid recipient",
    "is not a known user",
    "not our customer",
    "bad destination mailbox",
    "address unknown",
    "addressee unknown",
    "recipient address rejected: user",
    "user not active",
    "recipient address rejected: invalid",
    "recipient address rejected: unknown",
    "bad recipient",
    "badrcptto",
    "no account by that name",
    "mailbox not present",
    "mailbox invalid",
    "destination addresses were unknown",
    "unknown address",
    "no such local user",
    "not listed in domino directory",
    "is not a valid address",
    "nonexistent user",
    "non-existent user",
    "unknown e-mail address",
    "user invalid",
    "resolver.adr.recipnotfound",
    "resolver.adr.recipientnotfound",
    "validrcptto",
    "utilisateur inconnu",
    "invalid or unknown virtual user",
    "not a local address",
    "email address could not be found",
    "no one at this address",
    "this account does not exist",
    "doesn't have a",
    "recipient not ok",
    "there is no user",
    "address is not valid",
    "recipient address is invalid",
    "unknown account",
    "invalid account",
    "mailbox not exist",
    "is not an active address",
    "invalid final delivery userid",
    "no mailbox here by that name",
    "no mail box available",
    "address invalid",
    "unknown recipient address",
    "check if address is correct",
    "no valid recipients",
    "recipient name is not recognized",
    "recipient not found",
    "address couldn't be found",
    "address could not be found",
    "5.1.1 bad address",
    "5.1.0 address rejected",
    "address not present in directory",
    "can't accept user",
    "destination server rejected recipients",
    "nessun utente simile",
    "no existe dicha persona",
    "no existe ese usuario",
    "no mailbox found",
    "rejected: account unavailable",
    "recipient is not local",
    "recipient refuses to accept your mail",
    "recipient notfound",
    "envelope recipient has been denied",
    "domain or user isn't in my list of allowed rcpthosts",
    "recipients was undeliverable",
    "email name is not found",
    "no longer accepts mail",
    "wrong or no longer valid",
    "badrecipientto",
    "user missing home directory",
    "user not known",
    "adresse nicht gefunden",
    "unknown email address",
    "recipient is not accepted",
)
# "The mailbox does not exist" in the words of the MTAs' sources and the providers'
# published error references, each with where it comes from; read like the words above
# (after RCPT TO a dead mailbox, after DATA a filter)
_SOURCED_USER_UNKNOWN_WORDS = (
    # Postfix src/smtpd/smtpd_check.c: "User unknown in local recipient table",
    # "... in virtual mailbox table", "... in virtual alias table", "... in relay
    # recipient table"; local(8)/virtual(8): "unknown user: \"%s\""
    "user unknown in",
    # Exim's default configuration (acl_check_rcpt) and its redirect router
    "no such user here",
    "unknown local-part",
    # Sendmail: "<a>... User unknown", "<a>... No such user here"; mail.local(8)
    "... user unknown",
    "... unknown user",
    # qmail-local.c / vpopmail / chkuser: "Sorry, no mailbox here by that name. (#5.1.1)"
    "sorry, no mailbox here by that name",
    # Courier: courierdeliver / courieresmtpd "User unknown.", its local "Unknown user."
    # OpenSMTPD smtp_session.c: "550 Invalid recipient", lka: "Unknown user"
    "invalid recipient:",
    # Microsoft Exchange Online: 5.4.1 "Recipient address rejected: Access denied" is
    # Directory Based Edge Blocking's answer for an address not in the directory
    # (learn.microsoft.com "Fix email delivery issues for error code 5.4.1")
    "access denied. as(201806281)",
    # Lotus Notes / Domino: "User <name> (<addr>) not listed in Domino Directory",
    # "No such user"
    "not listed in domino directory",
    # Google "Gmail SMTP errors and codes" (support.google.com/a/answer/3726730):
    # 550 5.1.1 "The email account that you tried to reach does not exist"
    "account that you tried to reach does not exist",
    # Yahoo / AOL (senders.yahooinc.com/smtp-error-codes): 554 "delivery error: dd This
    # user doesn't have a yahoo.com account", 550 "mailbox not found"
    "user doesn't have a",
    # Apple iCloud (support.apple.com/102322): 550 5.1.1 "user does not exist"
    # Zoho Mail (zoho.com/mail/help "SMTP error codes"): 550 5.1.1 "User does not exist"
    "user does not exist",
    # Comcast (xfinity postmaster "error codes"): 550 5.1.1 "Not our Customer"
    "not our customer",
    # Mail.ru (help.mail.ru postmaster): 550 "Message was not accepted -- invalid
    # mailbox. Local mailbox <a> is unavailable: user not found"
    "invalid mailbox",
    "user not found",
    # Yandex (yandex.com/support/mail "SMTP error codes"): 550 5.7.1 "No such user!"
    "no such user!",
    # GMX / WEB.DE (postmaster.gmx.net / postmaster.web.de, "Fehlercodes"): 550 5.1.1
    # "Mailbox not found", "Recipient address rejected: mailbox unavailable"
    "mailbox not found",
    # Orange (postmaster Orange, LPNnnn_416/417): "Adresse d au moins un destinataire
    # invalide. Invalid recipient"
    "destinataire invalide",
    # RFC 3463 section 3.2 X.1.1 "Bad destination mailbox address", as MTAs spell it
    "bad destination mailbox address",
)

# directory results only a lookup gives, never a content filter: they count whatever
# the SMTP command (the first USERUNKNOWN row)
_DIRECTORY_WORDS = (
    # Lotus Notes R4/R5 SMTP MTA and Domino's localised directory texts (Sisimai
    # lib/Sisimai/Lhost/Domino.pm lists them)
    "not listed in public name & address book",
    "no se encuentra en el directorio de domino",
    # Microsoft Exchange / Exchange Online directory results (learn.microsoft.com
    # "Email non-delivery reports and SMTP errors in Exchange Online": 5.1.1
    # RESOLVER.ADR.RecipNotFound / ExRecipNotFound, 5.1.10 RecipientNotFound)
    "recipnotfound",
    "exrecipnotfound",
    # the human part of Exchange's own NDRs: 2007 "The recipient's e-mail address
    # was not found in the recipient's e-mail system", 2010/2013 "The e-mail
    # address you entered couldn't be found", Exchange Online "<name> wasn't
    # found at <domain>" (its NDR template for 5.1.1 / 5.1.10)
    "was not found in the recipient's e-mail system",
    "was not found in the recipient's email system",
    "address you entered couldn't be found",
    "address you entered could not be found",
    "wasn't found at",
)

# a name lookup that failed for now (the NETWORKERROR row before the host-unknown
# rows names the sources)
_TEMPORARY_DNS_WORDS = (
    "host not found, try again",
    "temporary failure in name resolution",
    "host lookup did not complete",
    "couldn't find any host by that name",
    "cname lookup failed temporarily",
    "host name lookup failure",
    "name server timeout",
    "servfail",
    "dns query failed",
    "temporary dns failure",
    "dns lookup timed out",
)

# RFC 5321 section 4.2.2's own texts for 450 *and* 550 ("Requested action not taken:
# mailbox unavailable"): a dead mailbox only when the failure is permanent; with a 4xx
# it is a busy or temporarily blocked one
_UNAVAILABLE_WORDS = (
    "mailbox unavailable",
    "mailbox not available",
    "mailbox is unavailable",
    "mailbox unavaiable",
    # RFC 5321 section 4.2.2: "553 Requested action not taken: mailbox name not allowed
    # (e.g., mailbox syntax incorrect)": the address can never be delivered (X.1.3)
    "mailbox name not allowed",
)
#: phrases of the rows below (first met in samples, filed with Sisimai's) whose words are
#: those of a standard, an MTA's source or a provider's published reference: where each
#: comes from. A phrase not named here or in the tuples above has no source but samples
#: (``bench/corpus_folds.py`` leaves those out by family to measure the fit)
PHRASE_SOURCES: dict[str, str] = {
    # RFC 5321 section 4.2.2/4.2.3, the standard reply texts
    "service not available, closing transmission channel": "RFC 5321 4.2.2 (421)",
    "transaction failed": "RFC 5321 4.2.2 (554)",
    "command parameter not implemented": "RFC 5321 4.2.2 (504)",
    "parameter not implemented": "RFC 5321 4.2.2 (504, 555)",
    "bad sequence of commands": "RFC 5321 4.2.2 (503)",
    # RFC 4954 section 6 (530 5.7.0), RFC 3207 section 4 (530 STARTTLS first)
    "authentication required": "RFC 4954 6 (530 5.7.0 Authentication required)",
    "starttls": "RFC 3207 4 (Must issue a STARTTLS command first)",
    # RFC 3463 3.3, the X.2.1 text
    "mailbox disabled": "RFC 3463 3.3 X.2.1 (Mailbox disabled, not accepting messages)",
    # RFC 7505 null MX as Exim reports it
    "indicated no smtp service": "Exim host.c: an MX or SRV record indicated no SMTP service",
    # RFC 4407 (Sender ID), which Courier and others quote
    "purported responsible address": "RFC 4407 2 (purported responsible address)",
    # POSIX strerror texts the MTAs print for a failed connection
    "no route to host": "strerror(EHOSTUNREACH)",
    "connection reset by peer": "strerror(ECONNRESET)",
    "operation timed out": "strerror(ETIMEDOUT), BSD libc",
    # Postfix
    "lost connection": "Postfix smtp_proto.c: lost connection with %s while %s",
    "blocked using": "Postfix smtpd_check.c: Client host [%s] blocked using %s",
    "queue file": "Postfix cleanup(8): queue file write error",
    "write error": "Postfix cleanup(8): queue file write error",
    "command died": "Postfix pipe(8): Command died with signal %d",
    # sendmail
    "domain of sender address": "sendmail cf/m4/proto.m4: Domain of sender address %s does not exist",
    "insufficient disk space": "sendmail srvrsmtp.c: 452 4.4.5 Insufficient disk space",
    "connection refused by": "sendmail deliver.c: Connection refused by %s",
    "too many hops": "sendmail recipient.c: 554 5.4.6 Too many hops",
    "mail.local: unknown user": "sendmail mail.local.c: unknown user",
    # Exim
    "retry timeout exceeded": "Exim deliver.c: retry timeout exceeded",
    "unrouteable address": "Exim deliver.c/verify.c: Unrouteable address",
    "malformed address:": "Exim verify.c: malformed address: %s may not follow %s",
    "pipe to |": "Exim bounce text naming a pipe transport: pipe to |%s",
    # qmail
    "couldn't find a mail exchanger": "qmail-remote.c: Sorry, I couldn't find a mail exchanger",
    "no mailbox here by that name": "qmail-local.c: Sorry, no mailbox here by that name",
    # OpenSMTPD
    "network error": "OpenSMTPD mta.c: Network error on destination MXs",
    "no mx found": "OpenSMTPD mta.c: No MX found for domain",
    # Microsoft (learn.microsoft.com, NDRs in Exchange Online)
    "hop count exceeded": "Microsoft 5.4.14: Hop count exceeded - possible mail loop",
    "recipientnotfound": "Microsoft 5.1.10: RESOLVER.ADR.RecipientNotFound",
    "resolver.adr.recipientnotfound": "Microsoft 5.1.10: RESOLVER.ADR.RecipientNotFound",
    "required authentication level": "Microsoft 5.7.515: does not meet the required authentication level",
    # Google (support.google.com/a/answer/3726730)
    "email account that you tried to reach is disabled": "Google 550 5.2.1",
    "content presents a potential": "Google 552 5.7.0",
    "messages with multiple addresses": "Google 550 5.7.1 (multiple addresses in From:)",
    "multiple addresses in from": "Google 550 5.7.1 (multiple addresses in From:)",
    "header are not accepted": "Google 550 5.7.1 (multiple addresses in From:)",
    "authentication information": "Google 550 5.7.26 (does not have authentication information)",
    "receiving mail at a rate": "Google 450 4.2.1",
    "low reputation": "Google 550 5.7.1 (very low reputation of the sending IP address)",
    "reputation of the": "Google 550 5.7.1 (very low reputation of the sending IP address)",
    "suspicious": "Google 550 5.7.1 (this message is likely suspicious)",
    # providers' own pages, as in parsers/providers.py
    "unknown or illegal alias": "Apple iCloud support.apple.com/102322",
    "rejected by destination domain": "Zoho Mail help: Mail rejected by destination domain",
    "refused due to recipient preferences": "Facebook postmaster response codes RCP-P2",
    # rows written from their sources after the bounce factory's misses (issue 17)
    "recipient address rejected: access denied": "Postfix smtpd_check.c check_table_result",
    "mailbox is inactive": "Zoho Mail help, SMTP error codes: 550 5.2.1 Mailbox is inactive",
    "possible directory harvest attack": "Yahoo senders.yahooinc.com/smtp-error-codes TSS11",
    "user not local; please try": "RFC 5321 4.2.2 (551)",
    "sender address has null mx": "RFC 7505 4.2 (550 5.7.27)",
    "recipient address has null mx": "RFC 7505 4.1 (550 5.1.10)",
    "does not accept mail (nullmx)": "Postfix smtp_connect.c (RFC 7505 null MX)",
    "too many open connections": "sendmail cf/feature/conncontrol.m4",
    "rate overlimit": "Exim spec, ACL ratelimit example",
    "error: too many errors": "Postfix smtpd.c smtpd_hard_error_limit",
    "maximum number of recipients for one session": "qmail chkuser CHKUSER_MAXRCPT_STRING",
    "space shortage": "Exim smtp_in.c: 452 Space shortage, please try later",
    "smtp protocol synchronization": "Postfix smtpd.c reject_unauth_pipelining",
    "smtp synchronization error": "Exim smtp_in.c: 554 SMTP synchronization error",
    "docs/smtplf.html": "qmail-smtpd.c straynewline()",
    "in my badmailfrom list": "qmail-smtpd.c err_bmf()",
    "could not complete sender verify": "Exim verify.c",
}

#: every phrase above whose source is an MTA's code or documentation or a provider's
#: published reference (not a sample): ``bench/corpus_folds.py`` keeps them in every fold
SOURCED_WORDS: frozenset[str] = frozenset(
    (
        *_DIRECTORY_WORDS,
        *_TEMPORARY_DNS_WORDS,
        *_SOURCED_USER_UNKNOWN_WORDS,
        *_UNAVAILABLE_WORDS,
        *PHRASE_SOURCES,
    )
)
_USER_UNKNOWN_REGEXES: tuple[tuple[str | tuple[str, ...], str], ...] = (
    (
        "exist",
        r"\b(?:user|mailbox|recipient|address|account|addressee)\b[^.;]{0,40}"
        r"(?:does not|doesn't|not) exist",
    ),
    ("user ", r"user \S+ (?:was not found|unknown)"),
    ("> ", r"<\S+> (?:not found|does not exist)"),
    (("no user", "no mailbox"), r"\bno (?:user|mailbox) (?:by that name|here)"),
    ("recipient address rejected", r"recipient address rejected\.?\s*(?:\(|$)"),
    ("directory", r"\bno \S+ in name directory"),
    ("was not found in", r"\brecipient \S+ was not found in"),
)

# Phrases are matched against the lower-cased diagnostic with whitespace
# collapsed. Keep rows ordered: specific causes first.
RULES: tuple[Rule, ...] = (
    _rule(
        # source: Sisimai lib/Sisimai/Reason/Suppressed.pm
        # the sending side's own (or its ESP's) list said no: nothing was attempted
        Reason.SUPPRESSED,
        words=(
            "suppression list",
            "address is suppressed",
            "recipient is suppressed",
            "has been suppressed",
            "on the suppression",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/MailboxFull.pm, and the corpus
        Reason.MAILBOXFULL,
        words=(
            "mailbox full",
            "mailbox is full",
            "mailbox quota",
            "mailbox size limit exceeded",
            "mailbox has exceeded",
            "mailbox would exceed",
            "mailfolder is full",
            "full mailbox",
            "quota exceeded",
            "over quota",
            "overquota",
            "over the quota",
            "exceeded storage",
            "exceeded the quota",
            "exceeds the quota",
            "quota violation",
            "quota full",
            "no space left on device",
            "not sufficient disk space",
            "mailbox exceeded",
            "user has too many messages",
            "too much mail data",
            "mailbox exceeds allowed size",
            "user's space has been used up",
            "out of storage space",
            "inbox is out of storage",
            "is over its storage",
            "storage quota",
            "disk quota",
            "boite du destinataire pleine",
            "recipient's mailbox is full",
            "maildir over quota",
            "account is full",
            "mailbox has reached its limit",
            "exceeding receiving limits",
            "mailbox is over",
            "not enough disk space",
            "exceeded quota",
        ),
        regexes=(
            ("full", r"mailbox\b[^.]{0,40}\bfull"),
            ("exceed", r"quota[^.]{0,30}exceed"),
            ("exceed", r"exceed[^.]{0,30}quota"),
            ("exceed", r"mailbox[^.]{0,30}exceed"),
        ),
        statuses=("4.2.2", "5.2.2"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/EmailTooLarge.pm, and the corpus
        Reason.EMAILTOOLARGE,
        words=(
            "message too large",
            "message too big",
            "message is too large",
            "message is too big",
            "message size exceeds",
            "message exceeds the",
            "size limit",
            "exceeds size limit",
            "exceeds maximum message size",
            "message length exceeds",
            "mail size limit",
            "email size exceeds",
            "message larger than",
            "too big for system",
            "size exceeds",
            "exceeded the maximum message size",
            "exceeds the maximum size",
            "maximum inbound message size",
            "maximum incoming message size",
            "max message size exceeded",
            "message file too big",
            "line limit exceeded",
            "taille limite du message",
            "maximum size the user accepts",
        ),
        statuses=("5.3.4", "4.3.4", "5.2.3", "4.2.3", "5.7.16", "4.7.16"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/Suspend.pm, and the corpus
        Reason.SUSPEND,
        words=(
            "is currently suspended",
            "has been suspended",
            "account has been disabled",
            "account is disabled",
            "account disabled",
            "mailbox disabled",
            "mailbox is disabled",
            "this mailbox is disabled",
            "account suspended",
            "user suspended",
            "mailbox is frozen",
            "inactive account",
            "account is inactive",
            "invalid/inactive user",
            "is a deactivated mailbox",
            "user is terminated",
            "mailbox currently suspended",
            "temporarily inactive",
            "recipient suspend the service",
            "disabled or discontinued",
            "account has been temporarily suspended",
            "user or domain is disabled",
            "account is locked",
            "archived recipient",
            "boite du destinataire archivee",
            "account has been locked",
            "account is expired",
            "account expired",
            "mailbox unavailable or access denied",
            "temporary locked",
            "email account that you tried to reach is disabled",
            "the email account that you tried to reach is inactive",
            "mailaddress is administrativ",
            # RFC 3463 3.3 X.2.1 "Mailbox disabled, not accepting messages" as Zoho Mail
            # words it (zoho.com/mail/help "SMTP error codes": 550 5.2.1 "Mailbox is
            # inactive"): the address exists and is switched off
            "mailbox is inactive",
        ),
        regexes=(
            # RFC 3463 3.3 X.2.1 "Mailbox disabled, not accepting messages", as servers
            # word it of a mailbox, an account or a user: the address exists and is off
            (
                ("locked", "disabled", "suspended", "deactivated"),
                r"\b(?:user|account|mailbox)\b[^.;:]{0,40}?\b(?:is |has been |was )?"
                r"(?:temporar(?:y|ily) )?(?:locked|disabled|suspended|deactivated)\b",
            ),
        ),
        replycodes=("525",),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/HasMoved.pm, and the corpus
        Reason.HASMOVED,
        words=(
            "has been moved",
            "mailbox has moved",
            "address has changed",
            "has moved to",
            "user has moved",
            "has been replaced by",
            # RFC 5321 section 4.2.2 / 3.4: "551 User not local; please try <forward-path>":
            # the server knows the user's new address and will not forward
            "user not local; please try",
        ),
        statuses=("5.1.6", "4.1.6", "5.7.17", "5.7.18"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/NoRelaying.pm, and the corpus
        Reason.NORELAYING,
        words=(
            "relay access denied",
            "relaying denied",
            "relay denied",
            "relay not permitted",
            "relaying not permitted",
            "relaying not allowed",
            "relay not allowed",
            "relaying mail to",
            "unable to relay",
            "not permitted to relay",
            "no relaying",
            "we do not relay",
            "not allowed to relay",
            "relay prohibited",
            "relaying prohibited",
            "that domain isn't in my list of allowed rcpthosts",
            "not a gateway",
            "mail relay denied",
            "insecure mail relay",
            "relay access",
            "configured to relay",
            "not our domain",
            "as a relay",
            "non-local e-mail address",
            "not an open relay",
            "not local host",
            "specified domain is not allowed",
            "we don't handle mail for",
        ),
        regexes=(("relay", r"relay(?:ing)? (?:is )?(?:not |denied|prohibited)"),),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/AuthFailure.pm, and the corpus
        Reason.AUTHFAILURE,
        words=(
            "spf check",
            "spf fail",
            "spf validation",
            "failed spf",
            "spf=fail",
            "spf softfail",
            "spf: fail",
            "fails spf",
            "spf verification",
            "spf policy",
            "by spf",
            "bad spf",
            "per it's spf",
            "per its spf",
            "spf settings",
            "invalid spf",
            "dkim",
            "dmarc",
            "sender policy framework",
            "not pass authentication",
            "unauthenticated email",
            "sender id",
            "arc validation",
            "is not designated as permitted sender",
            "not authorized to send on behalf",
            "authentication information",
            "fails to pass authentication",
            "authentication checks",
            "required authentication level",
            "spf.pobox.com",
            "authentication requirements defined for the sender",
        ),
        statuses=(
            "5.7.20",
            "5.7.21",
            "5.7.22",
            "5.7.23",
            "5.7.24",
            "5.7.26",
            "5.7.29",
            "4.7.24",
            "4.7.26",
        ),
        unless=("blocked using", "spamhaus"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/Rejected.pm, and the corpus
        Reason.REJECTED,
        words=("temporarily deferred due to unexpected volume", "access denied"),
        commands=("MAIL",),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/BadReputation.pm, and the corpus
        Reason.BADREPUTATION,
        words=(
            "low reputation",
            "poor reputation",
            "sender reputation",
            "reputation of the",
            "ip reputation",
            "domain reputation",
            "bad reputation",
            "has a poor reputation",
            "sending reputation",
            "reputation is",
            "temporarily deferred due to unexpected volume or user complaints",
            # Yahoo (senders.yahooinc.com/smtp-error-codes): "421 4.7.0 [TSS11] Excessive
            # unknown recipients - possible Directory Harvest Attack": our IP is deferred
            # for the unknown recipients it sent, not this recipient's mailbox. Before the
            # user-unknown rows, which read "unknown recipient"
            "possible directory harvest attack",
        ),
    ),
    _rule(
        # a name lookup that failed *for now* (the resolver's TRY_AGAIN / SERVFAIL /
        # timeout): the domain may well exist. Before every row that reads "host not
        # found" or "could not find any host" as a dead domain. Sources:
        # - Postfix src/dns/dns_strerror.c (TRY_AGAIN: "Host not found, try again"),
        #   src/smtp/smtp_addr.c ("Name service error for name=%s type=%s: %s")
        # - glibc gai_strerror(EAI_AGAIN): "Temporary failure in name resolution"
        # - Exim src/host.c / deliver.c: "host lookup did not complete"
        # - qmail-remote.c temp_dns(): "Sorry, I couldn't find any host by that name.
        #   (#4.1.2)" and "CNAME lookup failed temporarily. (#4.4.3)"
        # - sendmail deliver.c / domain.c: "host name lookup failure", "Name server timeout"
        # - RFC 1035 section 4.1.1 RCODE 2: SERVFAIL; Microsoft Exchange 4.4.7 / 4.4.0
        #   "DNS query failed" (learn.microsoft.com, "NDRs in Exchange Online")
        Reason.NETWORKERROR,
        words=_TEMPORARY_DNS_WORDS,
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/HostUnknown.pm
        # the domain part, not the mailbox, is what the host could not find
        Reason.HOSTUNKNOWN,
        words=(
            "unknown domain name",
            "domain mentioned in email address is unknown",
            "unroutable address",
        ),
        permanent=True,
    ),
    _rule(
        # RFC 7505 section 4.2: "550 5.7.27 Sender address has null MX" (IANA X.7.27) is
        # about OUR sender domain, never the recipient: a refusal of the sender. Before
        # the NOTACCEPT row, which reads "null mx" of the recipient's domain. Words, not
        # the code: sendmail writes 5.7.27 with RFC 7504's "Host does not accept mail"
        # for a recipient domain's null MX (NOTACCEPT reads those words)
        Reason.REJECTED,
        words=("sender address has null mx",),
    ),
    _rule(
        # the recipient's domain publishes a null MX: it accepts no mail, ever
        # - RFC 7505 section 4.1: "550 5.1.10 Recipient address has null MX"
        # - Postfix src/smtp/smtp_connect.c (nullMX, RFC 7505): "Domain %s does not accept
        #   mail (nullMX)", with status 5.1.0
        # before the user-unknown rows, which read 5.1.0 as a dead mailbox. Words only:
        # Exchange Online writes 5.1.10 for RESOLVER.ADR.RecipientNotFound
        Reason.NOTACCEPT,
        words=("recipient address has null mx", "does not accept mail (nullmx)"),
        permanent=True,
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/UserUnknown.pm, and the corpus
        # what a provider says only of an address it looked up and did not find
        Reason.USERUNKNOWN,
        words=(
            "because the address couldn't be found",
            "not listed in domino directory",
            "recipientnotfound",
            "invalid final delivery userid",
            # the local delivery agent found no such mailbox (after the MTA accepted)
            "mail.local: unknown user",
            "local delivery: unknown user",
            *_DIRECTORY_WORDS,
        ),
    ),
    _rule(
        # source: RFC 5321 section 4.2.2 (the standard reply texts of 450 and 550)
        Reason.USERUNKNOWN,
        words=_UNAVAILABLE_WORDS,
        commands=("RCPT",),
        permanent=True,
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/UserUnknown.pm, and the corpus
        Reason.USERUNKNOWN,
        words=(*_USER_UNKNOWN_WORDS, *_SOURCED_USER_UNKNOWN_WORDS),
        regexes=_USER_UNKNOWN_REGEXES,
        # 4.1.1 is not here: a temporary "bad destination mailbox" (Postfix's address
        # verification in progress, a directory lookup that failed) says nothing final
        statuses=("5.1.1", "5.1.0", "5.1.3"),
        unless=(
            "blocked",
            "spam",
            "rejected by policy",
            "blacklist",
            "full",
            "quota",
            "sender address rejected",
            "sender verify",
            # qmail chkuser's chkuser_settings.h gives #5.1.1 to texts about other things:
            # CHKUSER_SENDERMX_STRING "sorry, can't find a valid MX for sender domain
            # (#5.1.1 - chkuser)" (our sender domain), CHKUSER_MAXWRONGRCPT_STRING "sorry,
            # you are violating our security policies (#5.1.1 - chkuser)" (a harvest guard)
            "for sender domain",
            "violating our security policies",
            "relay",
            "dmarc",
            "disabled",
            "suspended",
            "sender rejected",
            "too many recipients",
            "recipient preferences",
            "rate",
        ),
        commands=("RCPT",),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/Filtered.pm, and the corpus
        Reason.FILTERED,
        words=(
            "message filtered",
            "user refuses to receive",
            "refuse to receive",
            "rejected due to user rules",
            "recipient is only accepting mail from",
            "refused due to recipient preferences",
            "has restricted sms e-mail",
            "account is protected by",
            "you have been blocked by the recipient",
            "user reject",
            "bounced address",
            "recipient id refuse",
            "not accepting any mail",
            "blocked by the recipient",
            "filtered by recipient",
            "rejected by recipient",
            "recipient's settings",
            "user's filter",
            "domain filter",
            *_USER_UNKNOWN_WORDS,
            *_SOURCED_USER_UNKNOWN_WORDS,
            *_UNAVAILABLE_WORDS,
        ),
        regexes=_USER_UNKNOWN_REGEXES,
        not_commands=("CONN", "HELO", "MAIL", "RCPT"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/PolicyViolation.pm
        # a list or mailbox that takes only some mail: the address itself is alive
        Reason.POLICYVIOLATION,
        words=(
            "not accepting mail with",
            "members-only list",
            "closed mailing list",
            "not subscribed to this group",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/NotAccept.pm, and the corpus
        Reason.NOTACCEPT,
        words=(
            "does not accept mail",
            "null mx",
            "accepts no mail",
            "mail receiving disabled",
            "no mx record found for domain",
            "no host found for existing smtp connection",
            "no route for current request",
            "smtp protocol returned a permanent error",
            "does not receive mail",
            "domain does not accept",
            "no mail accepted",
            "mail is not accepted",
            "does not accept e-mail",
            "couldn't find a mail exchanger",
            "no mx record",
            "indicated no smtp service",
            "no mx found",
        ),
        # (5.7.27 alone is the *sender's* null MX, RFC 7505 4.2: STATUS_REASONS; 4.3.2 is
        # a busy or closing host, RFC 3463 3.5: STATUS_REASONS)
        statuses=("5.3.2", "5.1.10"),
        unless=("rate", "too many", "recipient not found", "recipientnotfound"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/RequirePTR.pm, and the corpus
        Reason.REQUIREPTR,
        words=(
            "no ptr record",
            "ptr record",
            "reverse dns",
            "reverse lookup",
            "rdns",
            "cannot find your hostname",
            "cannot resolve your address",
            "no reverse",
            "unresolvable relay host name",
            "client host rejected: cannot find your",
            "does not resolve to your ip",
            "reverse-dns",
            "mismatches client ip",
            "forward-confirmed",
            "no dns ptr",
            "fcrdns",
            "name lookup failed for",
            "please set up a matching",
            "not have a reverse",
            "ip name lookup failed",
            "unable to reverse",
            "unverifyable sending ip",
            "bad dns ptr resource record",
            "forward dns entry does not point to the sending ip",
            "generic dns ptr",
        ),
        statuses=("5.7.25", "4.7.25"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/NotCompliantRFC.pm, and the corpus
        Reason.NOTCOMPLIANTRFC,
        words=(
            "not rfc 5322 compliant",
            "not rfc5322 compliant",
            "rfc 5322 compliant",
            "duplicate header",
            "multiple from",
            "multiple addresses in from",
            "bare lf",
            "bare <lf>",
            "not compliant with rfc",
            "violates rfc",
            "rfc5322",
            "rfc 5322",
            "more than one from",
            "rfcmessagenoncompliant",
            # the client broke the protocol: Postfix smtpd.c (reject_unauth_pipelining)
            # "554 5.5.0 Error: SMTP protocol synchronization", Exim smtp_in.c "554 SMTP
            # synchronization error", qmail-smtpd.c straynewline() "451 See
            # http://pobox.com/~djb/docs/smtplf.html." (a bare LF)
            "smtp protocol synchronization",
            "smtp synchronization error",
            "docs/smtplf.html",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/ContentError.pm, and the corpus
        Reason.CONTENTERROR,
        words=(
            "improper use of 8-bit data",
            "message header size",
            "mime complexity",
            "improperly-formatted binary content",
            "unnecessary base64 encoding",
            "too many received",
            'too many "received"',
            "headers are not",
            "illegal attachment",
            "invalid mime",
            "mime error",
            "message contains invalid",
            "message content is not acceptable",
            "invalid header",
            "bad header",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/Rejected.pm, and the corpus
        Reason.REJECTED,
        words=(
            "sender rejected",
            "sender address rejected",
            "sender was rejected",
            "sender verify failed",
            "sender verification",
            "invalid sender",
            "domain of sender address",
            "sender domain",
            "sender is in my black list",
            "sender address has been blacklisted",
            "address has been blacklisted",
            "email address has been blacklisted",
            "envelope blocked",
            "empty envelope senders",
            "null sender is not allowed",
            "returned mail not accepted",
            "unroutable sender",
            "bogus mail from",
            "mail from not owned by user",
            "from: domain is invalid",
            "batv",
            "not on the recipient's list of senders",
            "access denied (in reply to mail from",
            "not allowed to post to this mailing list",
            "administrative prohibition",
            "fully qualified email address required",
            "sender not pre-approved",
            "unknown sender",
            "sender denied",
            "delivery not authorized, message refused",
            "your email address has been",
            "spam reporting address",
            "this server does not accept mail from",
            "message rejected: email address is not verified",
            "not a registered gateway user",
            "sending this from a different address",
            "sender is spammer",
            "purported responsible address",
            "access denied (sender blacklisted)",
            "rejected by destination domain",
            "isn't on the recipient's list of senders",
            "denied [bouncedeny]",
            "valid-address-filter",
            "does not exist e2110",
            "senderfilterconfig",
            "emetteur invalide",
            "no third-party dsns",
            "rule imposed mailbox access for",
            "sender email address rejected",
            "are not accepting mail from",
            "is not accepting mail from",
            # qmail-smtpd.c err_bmf(): "553 sorry, your envelope sender is in my
            # badmailfrom list (#5.7.1)"; Exim verify.c (a sender callout that could not
            # finish): "451 Could not complete sender verify"
            "in my badmailfrom list",
            "could not complete sender verify",
            # Postfix smtpd_check.c: an access(5) table's REJECT without text answers
            # "<%s>: Recipient address rejected: Access denied" (554 5.7.1 by default,
            # access_map_reject_code): the recipient's site refused us, its mailbox may live
            "recipient address rejected: access denied",
        ),
        regexes=(
            ("access denied", r"^(?:\d{3}[ -])?(?:\d\.\d\.\d+ )?access denied"),
            ("access denied", r"addresses rejected\s*:\s*access denied"),
        ),
        statuses=("5.1.7", "5.1.8", "4.1.7", "4.1.8"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/HostUnknown.pm, and the corpus
        Reason.HOSTUNKNOWN,
        words=(
            "host unknown",
            "unknown host",
            "host not found",
            "domain not found",
            "no such domain",
            "domain does not exist",
            "unrouteable mail domain",
            "name or service not known",
            "host or domain name not found",
            "unknown domain",
            "invalid domain",
            "domain is invalid",
            "domain name not found",
            "nxdomain",
            "unable to route",
            "could not be resolved",
            "bad destination system",
            "domain must exist",
            "hostname lookup failed",
            "domain is not valid",
            "not a valid domain",
            "unknown mail domain",
            "unrouteable address",
            "domain doesn't exist",
            "domain is not reachable",
            "dns lookup failure",
            "i couldn't find any host",
            "all host address lookups failed permanently",
            "mx records point to non-existent hosts",
        ),
        regexes=(
            ("not found", r"host \S+ not found"),
            # Microsoft Exchange Online 5.4.310 "DNS domain <domain> does not exist"
            # (learn.microsoft.com "Fix email delivery issues for error code 5.4.310")
            ("does not exist", r"\bdns domain \S+ does not exist"),
        ),
        statuses=("5.1.2", "5.4.4", "4.1.2", "5.4.310"),
        unless=("sender domain", "sender address"),
        permanent=True,
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/VirusDetected.pm, and the corpus
        Reason.VIRUSDETECTED,
        words=(
            "virus",
            "malware",
            "infected",
            "malicious content",
            "dangerous attachment",
            "banned attachment",
            "potentially executable attachment",
        ),
        regexes=(("trojan", r"\btrojan\b"),),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/Blocked.pm
        # spam said of the sending host, not of this message: a block of the client
        Reason.BLOCKED,
        words=(
            "currently sending spam",
            "you are sending spam",
            "spam ips blocked",
            "dynamic/zombied",
            "looks suspiciously like spammer",
            "too many spams from your ip",
            "spamcop.net/bl",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/SpamDetected.pm, and the corpus
        Reason.SPAMDETECTED,
        words=(
            "spam message",
            "message is spam",
            "as spam",
            "spam content",
            "spam detected",
            "spam filter",
            "likely spam",
            "spam score",
            "spam classification",
            "spamassassin",
            "spam policy",
            "considered spam",
            "looks like spam",
            "spam signature",
            "spam rejected",
            "spam mail",
            "spam-like",
            "spammy",
            "detected spam",
            "spam blocked",
            "be spam",
            "junk mail",
            "unsolicited",
            "bulk mail",
            "content filter",
            "message content rejected",
            "content rejected",
            "rejected as bulk",
            "classified as",
            "scored too high",
            "blocked for abuse",
            "high probability of",
            "suspicious",
            "mail appears to be",
            "rejected by our content",
            "message looks like",
            "considered unsolicited",
            "due to content",
            "mail flood",
            "blacklisted url",
            "url in message",
            "spam classification",
            "mail content denied",
            "unacceptable content",
            "spamprofiler",
            "bulk.advertising",
            "bulk email",
            "rejecting banned content",
            "rejecting mail content",
            "recurrent pattern detection",
            "antispam checks",
            "spam points",
            "probability of being spam",
        ),
        # "spam" alone names the message, unless the text is about the sending host
        # being listed (that is a block of the client, further down)
        regexes=(
            (
                "spam",
                r"^(?!.*(?:blocked using|listed|blocklist|blacklist|\brbl\b|dnsbl"
                r"|spamcop|spamhaus|your ip|sender ip|spam source)).*\bspam\b",
            ),
            ("score", r"\bmail score \("),
        ),
        not_commands=("CONN", "HELO"),
        statuses=("5.7.28",),
        unless=("blocked using", "listed in", "blacklist", "blocklist", "rbl"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/RateLimited.pm, and the corpus
        Reason.RATELIMITED,
        words=(
            "too many connections",
            "too many concurrent",
            "connection limit",
            "too many sessions",
            "too many smtp sessions",
            "too many simultaneous",
            "rate limit",
            "ratelimit",
            "rate-limit",
            "too many messages",
            "too many recipients",
            "too many emails",
            "too fast",
            "sending too many",
            "exceeded the rate",
            "throttl",
            "receiving mail at a rate",
            "unusual rate",
            "too much mail",
            "messages per",
            "transmission rate",
            "too quickly",
            "max emails per hour",
            "please try again slower",
            "trop de connexions",
            "numerous attempts to deliver this message",
            "too many errors from your ip",
            # Exim spec (ACL ratelimit example): "Sender rate overlimit - $sender_rate /
            # $sender_rate_period"; Postfix smtpd.c (smtpd_hard_error_limit): "421 4.7.0 %s
            # Error: too many errors"; qmail chkuser CHKUSER_MAXRCPT_STRING "sorry, reached
            # maximum number of recipients for one session"
            "rate overlimit",
            "error: too many errors",
            "maximum number of recipients for one session",
            # sendmail cf/feature/conncontrol.m4: "421 4.3.2 Too many open connections."
            "too many open connections",
        ),
        statuses=("5.5.3", "4.5.3"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/Blocked.pm, and the corpus
        Reason.BLOCKED,
        words=(
            "blocked using",
            "blacklisted",
            "blacklist",
            "blocklist",
            "block list",
            "blocked by",
            "listed in",
            "listed on",
            "spamhaus",
            "spamcop",
            "sorbs",
            "barracudacentral",
            "rbl",
            "dnsbl",
            "your ip",
            "client host rejected",
            "helo command rejected",
            "access denied for",
            "connection refused by",
            "connection dropped",
            "connection reset by peer",
            "not accepting connections",
            "go away",
            "dynamic ip",
            "dynamic/zombied",
            "residential",
            "zombie",
            "not allowed to send mail from",
            "confirm this mail server",
            "we do not accept mail from",
            "your access to submit messages",
            "ip address is",
            "mail server at",
            "was blocked by",
            "after initial connection",
            "refused to talk to me",
            "bad sender ip",
            "please use the smtp server of your isp",
            "extreme bad ip profile",
            "open proxy",
            "poor reputation ip",
            "service not available, closing transmission channel",
            "server access forbidden",
            "not currently accepting mail from your ip",
            "banned sending ip",
            "messages from",
            "your server",
            "is an open relay",
            "no access from mail server",
            "said: 550 blocked",
            "blocked - see http",
            "refused - see http",
            "connection was dropped by remote host",
            "currently sending spam",
            "you are sending spam",
            "invalid ip for sending mail",
            "is in a black list",
            "sender has not passed validation",
            "sender ip address rejected",
            "too many unwanted messages have been sent",
            "you are not allowed to connect",
        ),
        regexes=(
            (
                ("blocked", "listed"),
                r"\b(?:ip|address|host|server|network|domain)\b[^.]{0,40}\b(?:is|has been|was)"
                r" (?:blocked|blacklisted|listed)",
            ),
            (
                ("blocked", "refused", "abusive", "rejected"),
                r"\b(?:access from ip address \S+ blocked|mail from \S+ refused"
                r"|server ip \S+ listed as abusive|your access ip \S+ has been rejected)",
            ),
            ("rbl on", r"\bis in an \S*rbl on\b"),
        ),
        statuses=("4.7.1",),
    ),
)

#: the enhanced status code alone (RFC 3463, 5248 registry)
STATUS_REASONS: dict[str, Reason] = {
    "5.1.0": Reason.USERUNKNOWN,
    "5.1.1": Reason.USERUNKNOWN,
    "5.1.3": Reason.USERUNKNOWN,
    "5.1.2": Reason.HOSTUNKNOWN,
    "5.4.4": Reason.HOSTUNKNOWN,
    # Microsoft Exchange Online: 5.4.310 DNS domain does not exist
    "5.4.310": Reason.HOSTUNKNOWN,
    "5.1.4": Reason.FILTERED,
    "5.2.0": Reason.FILTERED,
    "5.2.1": Reason.FILTERED,
    "5.2.4": Reason.FILTERED,
    "4.2.4": Reason.FILTERED,
    "4.1.6": Reason.HASMOVED,
    "5.1.6": Reason.HASMOVED,
    "5.7.17": Reason.HASMOVED,
    "5.7.18": Reason.HASMOVED,
    "4.1.7": Reason.REJECTED,
    "4.1.8": Reason.REJECTED,
    "5.1.7": Reason.REJECTED,
    "5.1.8": Reason.REJECTED,
    "4.2.1": Reason.BLOCKED,
    "4.7.1": Reason.BLOCKED,
    "4.7.2": Reason.BLOCKED,
    "4.2.2": Reason.MAILBOXFULL,
    "5.2.2": Reason.MAILBOXFULL,
    "4.2.3": Reason.EMAILTOOLARGE,
    "5.2.3": Reason.EMAILTOOLARGE,
    "5.3.4": Reason.EMAILTOOLARGE,
    "4.7.16": Reason.EMAILTOOLARGE,
    "5.7.16": Reason.EMAILTOOLARGE,
    "4.3.1": Reason.SYSTEMFULL,
    "5.3.1": Reason.SYSTEMFULL,
    "4.4.5": Reason.SYSTEMFULL,
    # RFC 3463 3.5 X.3.2 "System not accepting network messages": "an imminent shutdown,
    # excessive load, or system maintenance"; transient, it names a busy host
    "4.3.2": Reason.SYSTEMERROR,
    "5.3.2": Reason.NOTACCEPT,
    "5.1.10": Reason.NOTACCEPT,
    # RFC 7505 section 4.2: the sender's domain has a null MX (a refusal of the sender)
    "5.7.27": Reason.REJECTED,
    "5.3.0": Reason.SYSTEMERROR,
    "4.3.3": Reason.SYSTEMERROR,
    "5.3.3": Reason.SYSTEMERROR,
    "4.3.5": Reason.SYSTEMERROR,
    "5.3.5": Reason.SYSTEMERROR,
    "4.4.3": Reason.SYSTEMERROR,
    "5.4.3": Reason.SYSTEMERROR,
    "4.1.9": Reason.SYSTEMERROR,
    "5.1.9": Reason.SYSTEMERROR,
    "4.5.3": Reason.SYSTEMERROR,
    "5.5.4": Reason.SYSTEMERROR,
    "4.5.5": Reason.SYSTEMERROR,
    "5.5.5": Reason.SYSTEMERROR,
    "5.5.3": Reason.RATELIMITED,
    "4.4.1": Reason.EXPIRED,
    "4.4.7": Reason.EXPIRED,
    "5.4.7": Reason.EXPIRED,
    "4.4.2": Reason.NETWORKERROR,
    "4.4.4": Reason.NETWORKERROR,
    "4.4.6": Reason.NETWORKERROR,
    "5.4.6": Reason.NETWORKERROR,
    "4.4.8": Reason.NETWORKERROR,
    "5.4.0": Reason.NETWORKERROR,
    "5.5.2": Reason.SYNTAXERROR,
    "5.5.6": Reason.SYNTAXERROR,
    "5.7.13": Reason.SUSPEND,
    "5.7.20": Reason.AUTHFAILURE,
    "5.7.21": Reason.AUTHFAILURE,
    "5.7.22": Reason.AUTHFAILURE,
    "5.7.23": Reason.AUTHFAILURE,
    "5.7.24": Reason.AUTHFAILURE,
    "5.7.26": Reason.AUTHFAILURE,
    "5.7.29": Reason.AUTHFAILURE,
    "4.7.24": Reason.AUTHFAILURE,
    "4.7.26": Reason.AUTHFAILURE,
    "5.7.25": Reason.REQUIREPTR,
    "4.7.25": Reason.REQUIREPTR,
    "5.7.28": Reason.SPAMDETECTED,
    "5.7.30": Reason.FAILEDSTARTTLS,
    "2.1.5": Reason.DELIVERED,
    "4.6.0": Reason.CONTENTERROR,
    "5.6.0": Reason.CONTENTERROR,
    "5.6.1": Reason.CONTENTERROR,
    "5.6.2": Reason.CONTENTERROR,
    "5.6.3": Reason.CONTENTERROR,
    "5.6.5": Reason.CONTENTERROR,
    "5.7.0": Reason.SECURITYERROR,
    "5.7.1": Reason.SECURITYERROR,
    "5.7.2": Reason.SECURITYERROR,
    "5.7.3": Reason.SECURITYERROR,
    "5.7.4": Reason.SECURITYERROR,
    "5.7.5": Reason.SECURITYERROR,
    "5.7.6": Reason.SECURITYERROR,
    "5.7.7": Reason.SECURITYERROR,
    "5.7.8": Reason.SECURITYERROR,
    "5.7.9": Reason.SECURITYERROR,
    "5.7.10": Reason.SECURITYERROR,
    "5.7.11": Reason.SECURITYERROR,
    "5.7.14": Reason.SECURITYERROR,
    "5.7.15": Reason.SECURITYERROR,
    "5.7.19": Reason.SECURITYERROR,
}

#: status reasons that beat user-unknown words when the SMTP command is unknown
DEFERRED_TO: frozenset[Reason] = frozenset(
    {Reason.FILTERED, Reason.SECURITYERROR, Reason.SYSTEMERROR}
)

#: reasons a status code suggests only weakly: words in LATE_RULES may still
#: name the cause better ("4.4.1" is "expired" unless the text says why)
WEAK_STATUS_REASONS: frozenset[Reason] = frozenset(
    {
        Reason.UNDEFINED,
        Reason.ONHOLD,
        Reason.SYSTEMERROR,
        Reason.SECURITYERROR,
        Reason.EXPIRED,
        Reason.NETWORKERROR,
        Reason.HOSTUNKNOWN,
        Reason.USERUNKNOWN,
    }
)

#: consulted after RULES: causes whose phrases are vague enough that they must
#: not beat a row above, and that only refine a weak status code.
LATE_RULES: tuple[Rule, ...] = (
    _rule(
        # source: Sisimai lib/Sisimai/Reason/PolicyViolation.pm, and the corpus
        Reason.POLICYVIOLATION,
        words=(
            "policy violation",
            "protocol violation",
            "violates our",
            "violation of",
            "policy reasons",
            "local policy",
            "content policy",
            "email policy",
            "policy rejection",
            "rejected by policy",
            "rejected for policy reasons",
            "policy rule",
            "due to policy",
            "against our policy",
            "prohibited by policy",
            "policy restriction",
            "content presents a potential security issue",
            "header error",
            "header are not accepted",
            "organizational settings",
            "message given low priority",
            "messages with multiple addresses",
            "content presents a potential",
            "containing images or other attachments",
            "using a mass mailer",
            "without solving a captcha",
        ),
        regexes=(("policy", r"\bpolicy\b"),),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/SystemFull.pm, and the corpus
        Reason.SYSTEMFULL,
        words=(
            "mail system full",
            "system full",
            "insufficient system storage",
            "out of disk space",
            "disk full",
            "spool full",
            "insufficient disk space",
            # Exim smtp_in.c (check_spool_space): "452 Space shortage, please try later"
            "space shortage",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/Expired.pm, and the corpus
        # a connection that timed out is a failure of time (Sisimai "expired"), even
        # when the same words also say the connection could not be made
        Reason.EXPIRED,
        words=(
            "connection timed out",
            "operation timed out",
            "timed out while",
            "connection timeout",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/NetworkError.pm, and the corpus
        Reason.NETWORKERROR,
        words=(
            "network error",
            "could not connect",
            "unable to connect",
            "can't connect",
            "cannot connect",
            "lost connection",
            "connection lost",
            "no route to host",
            "network is unreachable",
            "host unreachable",
            "temporary failure in name resolution",
            "dns error",
            "dns query failed",
            "dns failure",
            "mail loop",
            "loop detected",
            "routing loop",
            "too many hops",
            "hop count exceeded",
            "malformed or unexpected name",
            "name server",
            "nameserver",
            "establish an smtp connection",
            "nxdomain",
            "domain name not found",
            "host name lookup failure",
            "host not found, try again",
            "listed as a best-preference mx",
            "dns lookup failed",
            "malformed name server reply",
            "unable to resolve route",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/SystemError.pm, and the corpus
        Reason.SYSTEMERROR,
        words=(
            "system error",
            "internal error",
            "server error",
            "local error",
            "configuration error",
            "misconfigured",
            "transaction failed",
            "local configuration",
            "could not load",
            "recipient error",
            "write error",
            "i/o error",
            "queue file",
            "ldap server",
            "directory server failure",
            "unable to contact ldap",
            "ldap attribute",
            "ldap lookup",
            "homedir creat",
            "results returned but needs to be unique",
            "while executing qmail-forward",
            "forwarding loop broken",
            "can't create user output file",
            "interrupted system call",
            "encountered an error while being processed",
            "loop was found in the mail exchanger",
            "loops back to myself",
            "there is no mdb",
            "service currently unavailable",
            "system config error",
            "temporary local problem",
            "timeout waiting for input",
            "delivery to file forbidden",
            "delivery to pipe forbidden",
            "local delivery failed",
            "lmtp error after",
            "connection reset",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/Expired.pm, and the corpus
        Reason.EXPIRED,
        words=(
            "delivery time expired",
            "message expired",
            "retry timeout exceeded",
            "retry time not reached",
            "has been delayed",
            "giving up",
            "gave up",
            "too long in the queue",
            "queue too long",
            "was not delivered within",
            "delivery expired",
            "message timed out",
            "timed out",
            "timeout",
            "retry period",
            "expired",
            "could not be delivered for",
            "host not reachable",
            "could not find a gateway for",
            "delivery attempts will continue",
            "failed to deliver to domain",
            "have been failing for a long time",
            "has not been collected after",
            "server did not respond",
            "after multiple retries",
            "within the allowed queue period",
            "has been frozen",
            "frozen on arrival",
        ),
        regexes=(("attempts", r"failed \d+ attempts"),),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/FailedSTARTTLS.pm, and the corpus
        Reason.FAILEDSTARTTLS,
        words=("starttls", "tls required", "tls handshake", "encryption required"),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/MailerError.pm, and the corpus
        Reason.MAILERERROR,
        words=(
            "mailer error",
            "command died",
            "program error",
            "procmail",
            "x-unix",
            "exit status",
            "unknown mailer error",
            "pipe to |",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/SecurityError.pm, and the corpus
        Reason.SECURITYERROR,
        words=(
            "authentication required",
            "unauthenticated",
            "unauthorized",
            "password",
            "security",
            "account not subscribed to ses",
            "authentication credentials invalid",
            "authentication failure",
            "authentication failed",
            "authentication turned on",
            "executable files are not allowed in compressed files",
            "verification failure",
            "authentication is required",
            "is a dead domain",
            "not authorized to perform ses:",
        ),
    ),
    _rule(
        # source: Sisimai lib/Sisimai/Reason/SyntaxError.pm, and the corpus
        Reason.SYNTAXERROR,
        words=(
            "syntax error",
            "command unrecognized",
            "unrecognized command",
            "command not recognized",
            "bad sequence of commands",
            "line too long",
            "incorrectly constructed",
            "command parameter not implemented",
            "angle-brackets nested too deep",
            'expected word or "<"',
            "domain missing in source-routed address",
            "malformed address:",
            "parameter not implemented",
        ),
        replycodes=("500", "501", "502", "503", "504"),
    ),
)

#: by subject sub-code when the full code names nothing (RFC 3463 section 2)
SUBJECT_REASONS: dict[str, Reason] = {"6": Reason.CONTENTERROR, "7": Reason.SECURITYERROR}


# -- row ids (``Rule.id``): derived from each row's own content, never its position, so
# that adding, moving or removing a row changes no other row's id ---------------------------

_ESCAPES_RE = re.compile(r"\\[A-Za-z]|\(\?[:!=<]+|\(\?P<\w+>")
_NON_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slug(text: str, cap: int = 40) -> str:
    """``text`` as an id's last part: lower-case letters and digits joined by ``-``, at most
    ``cap`` characters cut at a ``-`` (a regex's escapes and group syntax dropped first:
    ``\\b(?:OFR|LPN)\\w*_416\\b`` -> ``ofr-lpn-416``)."""
    words = _NON_SLUG_RE.sub("-", _ESCAPES_RE.sub(" ", text).lower()).strip("-")
    if len(words) > cap:
        cut = words[: cap + 1].rfind("-")
        words = words[: cut if cut > 0 else cap]
    return words or "any"


def _row_slug(rule: Rule) -> str:
    if rule.words:
        return slug(rule.words[0])
    if rule.regexes:
        return slug(rule.regexes[0][1].pattern)
    if rule.statuses:
        return slug(min(rule.statuses))
    if rule.replycodes:
        return slug(min(rule.replycodes))
    return "row"


def _named(table: str, rows: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """The rows of ``table`` with their ids (an explicit ``id=`` is kept as written)."""
    return tuple(
        r
        if r.id
        else Rule(
            r.reason,
            r.words,
            r.regexes,
            r.statuses,
            r.unless,
            r.replycodes,
            r.commands,
            r.not_commands,
            r.permanent,
            r.defer_to_status,
            f"{table}.{r.reason.value}.{_row_slug(r)}",
        )
        for r in rows
    )


RULES = _named("rules", RULES)
LATE_RULES = _named("late", LATE_RULES)


def status_id(status: str) -> str:
    """The id of a ``STATUS_REASONS`` entry: ``status.5.1.1``."""
    return f"status.{status}"


def subject_id(subject: str) -> str:
    """The id of a ``SUBJECT_REASONS`` entry: ``subject.7``."""
    return f"subject.{subject}"
