"""Why a delivery failed: tables of codes and phrases, read top to bottom.

The vocabulary is Sisimai's (see DESIGN.md). A bounce gives up to four
clues: the DSN ``Action``, the RFC 3463 enhanced status code, the RFC 5321
reply code and the remote host's own words. Status codes are coarse (5.7.1
covers a blacklisted IP, a DMARC failure and a recipient who blocked the
sender), so the words are read first, in the order of ``RULES``: the first
row whose phrases occur in the diagnostic, *or* whose status codes include
the given status, decides. Rows after ``RULES`` are consulted only when no
row matched: ``STATUS_REASONS`` (the enhanced code alone), then the class of
the code.

Rows are ordered from the most specific cause to the least: a full mailbox
that the MTA reports with 5.1.1 is still a full mailbox; "blocked" alone is
what many servers say about anything.

Why hard bounces are rare: the sending side suppresses an address for good on
a hard bounce, so only causes that say *this address will never work*
(unknown user, unknown domain, moved, domain accepting no mail) are hard. A
full mailbox or a blacklisted IP with a 5.x.x code is soft.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from returnpath.parsers.heads import phrase_heads, token_heads
from returnpath.parsers.model import Kind

#: reasons that make an address permanently undeliverable
HARD_REASONS = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})

#: Sisimai's pseudo reason for "we cannot tell"
UNDEFINED = "undefined"

# Reference forms (what these match, position for position):
#   _STATUS_RE       \b([245])\.(\d{1,3})\.(\d{1,3})\b
#   _REPLY_RE        (?<![\d.])([245][0-5]\d)(?=[ \-]|$)(?![\d.])        (re.M)
# (_FAIL_*: the same with [45]). Written to start with the digit class and test
# what precedes it by a lookbehind *after* that digit: a pattern that starts with
# an assertion makes the regex engine try every position of the text, one that
# starts with a character class lets it skip to the candidates (4-5x faster here;
# tests/parsers/test_fast_patterns.py checks both forms agree).
_STATUS_RE = re.compile(r"([245])(?<=\b[245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_RE = re.compile(r"([245](?<![\d.][245])[0-5]\d)(?=[ \-]|$)(?![\d.])", re.M)
_FAIL_STATUS_RE = re.compile(r"([45])(?<=\b[45])\.(\d{1,3})\.(\d{1,3})\b")
_FAIL_REPLY_RE = re.compile(r"([45](?<![\d.][45])[0-5]\d)(?=[ \-]|$)(?![\d.])", re.M)


_TOKEN_RE = re.compile(r"[a-z0-9]+")


def _key(phrase: str) -> str:
    """The index key of a phrase: the first four characters of its first word.

    A phrase is found only where its first word starts a word of the text
    ("spam" matches "spammer" but not "antispam"): the price of an index that
    makes matching hundreds of phrases cost a few microseconds.
    """
    m = _TOKEN_RE.search(phrase)
    return m.group(0)[:4] if m else phrase[:4]


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

    reason: str
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


def _rule(
    reason: str,
    words: Iterable[str] = (),
    regexes: Iterable[tuple[str | tuple[str, ...], str]] = (),
    statuses: Iterable[str] = (),
    unless: Iterable[str] = (),
    replycodes: Iterable[str] = (),
    commands: Iterable[str | None] = (),
    not_commands: Iterable[str] = (),
    permanent: bool = False,
    defer_to_status: bool = False,
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
    "mailbox unavailable",
    "mailbox not available",
    "mailbox is unavailable",
    "recipient address rejected: user",
    "user not active",
    "recipient address rejected: invalid",
    "recipient address rejected: unknown",
    "recipient address rejected: access denied",
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
    "mailbox is inactive",
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
    "mailbox unavaiable",
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
        # the sending side's own (or its ESP's) list said no: nothing was attempted
        "suppressed",
        words=(
            "suppression list",
            "address is suppressed",
            "recipient is suppressed",
            "has been suppressed",
            "on the suppression",
        ),
    ),
    _rule(
        "mailboxfull",
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
        "emailtoolarge",
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
        "suspend",
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
        ),
        replycodes=("525",),
    ),
    _rule(
        "hasmoved",
        words=(
            "has been moved",
            "mailbox has moved",
            "address has changed",
            "has moved to",
            "user has moved",
            "has been replaced by",
        ),
        statuses=("5.1.6", "4.1.6", "5.7.17", "5.7.18"),
    ),
    _rule(
        "norelaying",
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
        "authfailure",
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
        "rejected",
        words=("temporarily deferred due to unexpected volume", "access denied"),
        commands=("MAIL",),
    ),
    _rule(
        "badreputation",
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
        ),
    ),
    _rule(
        # the domain part, not the mailbox, is what the host could not find
        "hostunknown",
        words=(
            "unknown domain name",
            "domain mentioned in email address is unknown",
            "unroutable address",
        ),
        permanent=True,
    ),
    _rule(
        # what a provider says only of an address it looked up and did not find
        "userunknown",
        words=(
            "because the address couldn't be found",
            "not listed in domino directory",
            "recipientnotfound",
            "invalid final delivery userid",
            # the local delivery agent found no such mailbox (after the MTA accepted)
            "mail.local: unknown user",
            "local delivery: unknown user",
        ),
    ),
    _rule(
        "userunknown",
        words=_USER_UNKNOWN_WORDS,
        regexes=_USER_UNKNOWN_REGEXES,
        statuses=("5.1.1", "5.1.0", "5.1.3", "4.1.1"),
        unless=(
            "blocked",
            "spam",
            "rejected by policy",
            "blacklist",
            "full",
            "quota",
            "sender address rejected",
            "sender verify",
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
        "filtered",
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
        ),
        regexes=_USER_UNKNOWN_REGEXES,
        not_commands=("CONN", "HELO", "MAIL", "RCPT"),
    ),
    _rule(
        # a list or mailbox that takes only some mail: the address itself is alive
        "policyviolation",
        words=(
            "not accepting mail with",
            "members-only list",
            "closed mailing list",
            "not subscribed to this group",
        ),
    ),
    _rule(
        "notaccept",
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
        statuses=("5.3.2", "4.3.2", "5.1.10", "5.7.27"),
        unless=("rate", "too many", "recipient not found", "recipientnotfound"),
    ),
    _rule(
        "requireptr",
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
        "notcompliantrfc",
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
        ),
    ),
    _rule(
        "contenterror",
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
        "rejected",
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
        ),
        regexes=(
            ("access denied", r"^(?:\d{3}[ -])?(?:\d\.\d\.\d+ )?access denied"),
            ("access denied", r"addresses rejected\s*:\s*access denied"),
        ),
        statuses=("5.1.7", "5.1.8", "4.1.7", "4.1.8"),
    ),
    _rule(
        "hostunknown",
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
        regexes=(("not found", r"host \S+ not found"),),
        statuses=("5.1.2", "5.4.4", "4.1.2"),
        unless=("sender domain", "sender address"),
        permanent=True,
    ),
    _rule(
        "virusdetected",
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
        # spam said of the sending host, not of this message: a block of the client
        "blocked",
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
        "spamdetected",
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
        "ratelimited",
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
        ),
        statuses=("5.5.3", "4.5.3"),
    ),
    _rule(
        "blocked",
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
STATUS_REASONS: dict[str, str] = {
    "4.1.1": "userunknown",
    "5.1.0": "userunknown",
    "5.1.1": "userunknown",
    "5.1.3": "userunknown",
    "5.1.2": "hostunknown",
    "5.4.4": "hostunknown",
    "5.1.4": "filtered",
    "5.2.0": "filtered",
    "5.2.1": "filtered",
    "5.2.4": "filtered",
    "4.2.4": "filtered",
    "4.1.6": "hasmoved",
    "5.1.6": "hasmoved",
    "5.7.17": "hasmoved",
    "5.7.18": "hasmoved",
    "4.1.7": "rejected",
    "4.1.8": "rejected",
    "5.1.7": "rejected",
    "5.1.8": "rejected",
    "4.2.1": "blocked",
    "4.7.1": "blocked",
    "4.7.2": "blocked",
    "4.2.2": "mailboxfull",
    "5.2.2": "mailboxfull",
    "4.2.3": "emailtoolarge",
    "5.2.3": "emailtoolarge",
    "5.3.4": "emailtoolarge",
    "4.7.16": "emailtoolarge",
    "5.7.16": "emailtoolarge",
    "4.3.1": "systemfull",
    "5.3.1": "systemfull",
    "4.4.5": "systemfull",
    "4.3.2": "notaccept",
    "5.3.2": "notaccept",
    "5.1.10": "notaccept",
    "5.7.27": "notaccept",
    "5.3.0": "systemerror",
    "4.3.3": "systemerror",
    "5.3.3": "systemerror",
    "4.3.5": "systemerror",
    "5.3.5": "systemerror",
    "4.4.3": "systemerror",
    "5.4.3": "systemerror",
    "4.1.9": "systemerror",
    "5.1.9": "systemerror",
    "4.5.3": "systemerror",
    "5.5.4": "systemerror",
    "4.5.5": "systemerror",
    "5.5.5": "systemerror",
    "5.5.3": "ratelimited",
    "4.4.1": "expired",
    "4.4.7": "expired",
    "5.4.7": "expired",
    "4.4.2": "networkerror",
    "4.4.4": "networkerror",
    "4.4.6": "networkerror",
    "5.4.6": "networkerror",
    "4.4.8": "networkerror",
    "5.4.0": "networkerror",
    "5.5.2": "syntaxerror",
    "5.5.6": "syntaxerror",
    "5.7.13": "suspend",
    "5.7.20": "authfailure",
    "5.7.21": "authfailure",
    "5.7.22": "authfailure",
    "5.7.23": "authfailure",
    "5.7.24": "authfailure",
    "5.7.26": "authfailure",
    "5.7.29": "authfailure",
    "4.7.24": "authfailure",
    "4.7.26": "authfailure",
    "5.7.25": "requireptr",
    "4.7.25": "requireptr",
    "5.7.28": "spamdetected",
    "5.7.30": "failedstarttls",
    "2.1.5": "delivered",
    "4.6.0": "contenterror",
    "5.6.0": "contenterror",
    "5.6.1": "contenterror",
    "5.6.2": "contenterror",
    "5.6.3": "contenterror",
    "5.6.5": "contenterror",
    "5.7.0": "securityerror",
    "5.7.1": "securityerror",
    "5.7.2": "securityerror",
    "5.7.3": "securityerror",
    "5.7.4": "securityerror",
    "5.7.5": "securityerror",
    "5.7.6": "securityerror",
    "5.7.7": "securityerror",
    "5.7.8": "securityerror",
    "5.7.9": "securityerror",
    "5.7.10": "securityerror",
    "5.7.11": "securityerror",
    "5.7.14": "securityerror",
    "5.7.15": "securityerror",
    "5.7.19": "securityerror",
}

#: status reasons that beat user-unknown words when the SMTP command is unknown
DEFERRED_TO = frozenset({"filtered", "securityerror", "systemerror"})

#: reasons a status code suggests only weakly: words in LATE_RULES may still
#: name the cause better ("4.4.1" is "expired" unless the text says why)
WEAK_STATUS_REASONS = frozenset(
    {
        "undefined",
        "onhold",
        "systemerror",
        "securityerror",
        "expired",
        "networkerror",
        "hostunknown",
        "userunknown",
    }
)

#: consulted after RULES: causes whose phrases are vague enough that they must
#: not beat a row above, and that only refine a weak status code.
LATE_RULES: tuple[Rule, ...] = (
    _rule(
        "policyviolation",
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
        "systemfull",
        words=(
            "mail system full",
            "system full",
            "insufficient system storage",
            "out of disk space",
            "disk full",
            "spool full",
            "insufficient disk space",
        ),
    ),
    _rule(
        # a connection that timed out is a failure of time (Sisimai "expired"), even
        # when the same words also say the connection could not be made
        "expired",
        words=(
            "connection timed out",
            "operation timed out",
            "timed out while",
            "connection timeout",
        ),
    ),
    _rule(
        "networkerror",
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
        "systemerror",
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
        "expired",
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
        "failedstarttls",
        words=("starttls", "tls required", "tls handshake", "encryption required"),
    ),
    _rule(
        "mailererror",
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
        "securityerror",
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
        "syntaxerror",
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

#: which SMTP command the remote host answered, in the words MTAs use for it;
#: the earliest mention in the diagnostic wins
COMMAND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "DATA",
        (
            "end of data",
            " data command",
            "final data",
            "after data",
            ">>> data",
            "in reply to data",
            "[data]",
            # qmail-remote's own account of the session
            "failed after i sent the message",
        ),
    ),
    (
        "RCPT",
        (
            "rcpt to",
            "rcpt command",
            ">>> rcpt",
            "smtp:rcpt",
            "does not like recipient",
            "recipient address rejected",
            "[rcpt_to]",
            # replies only a directory lookup at RCPT time gives
            "resolver.adr.",
            # Gmail's DSN headline for a recipient the remote refused at RCPT time,
            # and its old notices' session state for RCPT
            "because the address couldn't be found",
            "(state 14)",
        ),
    ),
    ("MAIL", ("mail from", "sender address rejected", "[mail_from]")),
    (
        "HELO",
        (
            "helo ",
            "ehlo ",
            "helo:",
            "ehlo:",
            "helo command",
            "ehlo command",
            "but my name was rejected",
        ),
    ),
    ("CONN", ("initial connection", "connect to", "greeting", " banner")),
)

#: command evidence words cannot state: (gate literal, command, pattern)
COMMAND_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    # Office 365 relaying a remote refusal: RCPT only when the remote's reply names the
    # address ("-> 550 5.1.1 <a@b>: ..."), not when it is a bare "-> 550 : User unknown"
    (
        "returned unknown recipient",
        "RCPT",
        re.compile(r"returned unknown recipient or mailbox unavailable ->[^@\n]{0,80}@"),
    ),
)

#: literals shared by many ``COMMAND_WORDS`` (each word is filed under the first
#: one it contains, or under itself): a text lacking a gate lacks all its words,
#: so most texts cost a dozen substring tests instead of one per word
COMMAND_GATES: tuple[str, ...] = (
    "data",
    "rcpt",
    "helo",
    "ehlo",
    "connect",
)


def _gate_command_words() -> tuple[tuple[str, frozenset[str]], ...]:
    gated: dict[str, set[str]] = {}
    for _, words in COMMAND_WORDS:
        for word in words:
            gate = next((g for g in COMMAND_GATES if g in word), word)
            gated.setdefault(gate, set()).add(word)
    return tuple((gate, frozenset(words)) for gate, words in gated.items())


def _head_command_words() -> tuple[
    tuple[tuple[str, frozenset[str]], ...], tuple[tuple[str, frozenset[str]], ...]
]:
    """``_COMMAND_GATED`` for a text whose token heads are known: a word with a head
    of its own (``phrase_heads``: " data command" needs ``data`` and ``comm``) is
    filed under the longest such head, a set lookup; the others ("rcpt to", which
    may end a longer token such as "xrcpt to") keep their literal gate."""
    by_head: dict[str, set[str]] = {}
    by_literal: dict[str, set[str]] = {}
    for _, words in COMMAND_WORDS:
        for word in words:
            needs = sorted(phrase_heads(word))
            if needs:
                by_head.setdefault(max(needs, key=len), set()).add(word)
            else:
                gate = next((g for g in COMMAND_GATES if g in word), word)
                by_literal.setdefault(gate, set()).add(word)
    return (
        tuple((h, frozenset(w)) for h, w in by_head.items()),
        tuple((g, frozenset(w)) for g, w in by_literal.items()),
    )


_COMMAND_GATED = _gate_command_words()
_COMMAND_BY_HEAD, _COMMAND_BY_LITERAL = _head_command_words()

_COLLAPSE_RE = re.compile(r"\s+")
_DELIVERED_ACTIONS = frozenset({"delivered", "relayed", "expanded"})


# reference form: (?<!\S)[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}(?!\S))?  (see _STATUS_RE)
_REPLY_PREFIX_RE = re.compile(r"[245](?<!\S[245])\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}(?!\S))?")


def _collapse(text: str) -> str:
    """``_COLLAPSE_RE.sub(" ", text)`` by ``str.split`` (which splits on exactly the
    characters ``\\s`` matches): runs of whitespace become one space, ends included."""
    words = text.split()
    if not words:
        return " " if text else ""
    out = " ".join(words)
    if text[0].isspace():
        out = " " + out
    if text[-1].isspace():
        out += " "
    return out


def _join_reply_lines(text: str) -> str:
    """Drop the code prefixes of a multi-line reply's continuation lines.

    "552-5.7.0 ... a potential 552-5.7.0 security issue" must read as
    "... a potential security issue" for the phrase tables. The first
    prefix stays (it is the reply code). ``text`` is collapsed (``_collapse``):
    a reply of one line then comes back as it is, without a new string.
    """
    first = _REPLY_PREFIX_RE.search(text)
    if first is None:
        return text
    tail = text[first.end() :]
    if _REPLY_PREFIX_RE.search(tail) is None:
        return text  # = head + _collapse(tail): a collapsed text's tail is collapsed
    return text[: first.end()] + _collapse(_REPLY_PREFIX_RE.sub("", tail))


def find_status(text: str | None) -> str | None:
    """The first failure code (4.x.x, 5.x.x) in a text, else the first success code.

    A transcript shows ``250 2.1.5 Ok`` for RCPT before ``451 4.3.0`` for DATA:
    the failure is what the report is about.
    """
    if not text:
        return None
    m = _FAIL_STATUS_RE.search(text) or _STATUS_RE.search(text)
    return f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else None


def find_reply_code(text: str | None) -> str | None:
    """The first failure reply code (4xx, 5xx) in a text, else the first reply code."""
    if not text:
        return None
    m = _FAIL_REPLY_RE.search(text) or _REPLY_RE.search(text)
    return m.group(1) if m else None


def find_command(text: str | None, heads: set[str] | None = None) -> str | None:
    """``RCPT``, ``DATA``, ``MAIL``, ``HELO`` or ``CONN``: what the remote host refused.

    ``heads``, when the caller has them, are ``token_heads(text.lower())``: most
    words are then ruled out by set lookups instead of substring searches.
    """
    if not text:
        return None
    low = text.lower()
    best, where = None, len(low)
    live: set[str] = set()
    if heads is None:
        for gate, gated in _COMMAND_GATED:
            if gate in low:
                live.update(gated)
    else:
        for head, gated in _COMMAND_BY_HEAD:
            if head in heads:
                live.update(gated)
        for gate, gated in _COMMAND_BY_LITERAL:
            if gate in low:
                live.update(gated)
    if live:  # only words whose gate occurs can occur
        for command, words in COMMAND_WORDS:
            for word in words:
                if word in live:
                    at = low.find(word, 0, where)
                    if at >= 0:
                        best, where = command, at
    for gate, command, pattern in COMMAND_PATTERNS:
        if gate in low:
            m = pattern.search(low, 0, where)
            if m is not None:
                best, where = command, m.start()
    return best


def is_vague(status: str | None) -> bool:
    """X.0.0 carries only the class: Exim writes 5.0.0 for every failure."""
    return not status or status.endswith(".0.0") or ".0.9" in status


def _build_index(rules: tuple[Rule, ...]) -> dict[str, list[tuple[int, str]]]:
    index: dict[str, list[tuple[int, str]]] = {}
    for n, rule in enumerate(rules):
        for phrase in rule.words:
            index.setdefault(_key(phrase), []).append((n, phrase))
    return index


_ALL_RULES = RULES + LATE_RULES
_INDEX = _build_index(_ALL_RULES)
_INDEX_KEYS = frozenset(_INDEX)
#: the phrases filed under each key (each once), and the rows each phrase belongs to
_KEY_PHRASES: dict[str, tuple[str, ...]] = {
    key: tuple(dict.fromkeys(phrase for _, phrase in rows)) for key, rows in _INDEX.items()
}
_PHRASE_ROWS: dict[str, tuple[int, ...]] = {}
for _rows in _INDEX.values():
    for _n, _phrase in _rows:
        _PHRASE_ROWS[_phrase] = (*_PHRASE_ROWS.get(_phrase, ()), _n)


def _buckets() -> dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]:
    """Per index key: its phrases grouped by the other heads they need.

    Every text holding a phrase has the heads of its later words
    (``phrase_heads``), so a phrase is searched for only when the text has them
    all: for the ~460 diagnostics of the corpus that leaves ~6 substring
    searches each of ~21 with the key alone. Each group is (heads, phrases);
    the heads are a tuple, walked by plain membership tests."""
    out: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {}
    for key, phrases in _KEY_PHRASES.items():
        groups: dict[tuple[str, ...], list[str]] = {}
        for phrase in phrases:
            needs = tuple(sorted(phrase_heads(phrase) - {key}))
            groups.setdefault(needs, []).append(phrase)
        out[key] = tuple((needs, tuple(found)) for needs, found in groups.items())
    return out


_KEY_BUCKETS = _buckets()
_REGEX_RULES = tuple((n, r.regexes) for n, r in enumerate(_ALL_RULES) if r.regexes)
_LATE_OFFSET = len(RULES)
#: row -> its regexes, each behind its gate literals
_ROW_REGEXES: dict[int, tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]] = dict(_REGEX_RULES)
#: the regex rows among RULES and among LATE_RULES: ``reason_for`` visits them in order
_EARLY_REGEX_ROWS = frozenset(n for n, _ in _REGEX_RULES if n < _LATE_OFFSET)
_LATE_REGEX_ROWS = frozenset(n for n, _ in _REGEX_RULES if n >= _LATE_OFFSET)
_TEXT_CAP = 4000


def _rows_by(codes: str) -> dict[str, frozenset[int]]:
    """Status (``codes="statuses"``) or reply code -> the rows (of RULES + LATE_RULES)
    that list it: with the text hits the only rows ``_match`` can accept."""
    rows: dict[str, set[int]] = {}
    for n, rule in enumerate(_ALL_RULES):
        for code in getattr(rule, codes):
            rows.setdefault(code, set()).add(n)
    return {code: frozenset(found) for code, found in rows.items()}


_STATUS_ROWS = _rows_by("statuses")
_REPLY_ROWS = _rows_by("replycodes")


def _phrase_hits(text: str, heads: set[str] | None = None) -> set[int]:
    """Indexes of the rows whose words occur in ``text``.

    Why not one regex per row: an alternation of hundreds of phrases costs
    the regex engine every phrase at every position (about 0.4 ms per
    diagnostic, the whole parsing budget). Instead each phrase is filed
    under the start of its first word; the text's token heads (``heads``,
    ``token_heads(text)`` when not given) pick the few candidates, and a plain
    substring test confirms them.
    """
    hits: set[int] = set()
    if not text:
        return hits
    if heads is None:
        heads = token_heads(text)
    # every phrase filed under a head of the text whose other heads the text has too
    # (plain loops: compiled by mypyc, they call the substring search directly)
    for key in heads:
        bucket = _KEY_BUCKETS.get(key)
        if bucket is None:
            continue
        for needs, phrases in bucket:
            missing = False
            for head in needs:
                if head not in heads:
                    missing = True
                    break
            if missing:
                continue
            for phrase in phrases:
                if phrase in text:
                    for n in _PHRASE_ROWS[phrase]:
                        hits.add(n)
    return hits


def _regex_hit(n: int, text: str) -> bool:
    """Whether one of row ``n``'s regexes matches, each run only when one of its gate
    literals occurs (several of these regexes cost 5-15 µs on a long diagnostic)."""
    for gate, regex in _ROW_REGEXES[n]:
        for word in gate:
            if word in text:
                if regex.search(text) is not None:
                    return True
                break
    return False


def _match(
    n: int,
    rule: Rule,
    hits: set[int],
    text: str,
    status: str | None,
    reply: str | None,
    command: str | None,
    temporary: bool,
) -> bool:
    if n in hits:
        ok = True
        if rule.commands and command not in rule.commands:
            ok = bool(status and status in rule.statuses)
        if rule.not_commands and command in rule.not_commands:
            ok = False
        if rule.permanent and temporary:
            ok = False
        if (
            rule.defer_to_status
            and command is None
            and status
            and STATUS_REASONS.get(status) in DEFERRED_TO
        ):
            ok = False
        if ok:
            return True
    if status and status in rule.statuses:
        return not any(w in text for w in rule.unless)
    return bool(reply and reply in rule.replycodes)


def reason_text(diagnostic: str | None, collapsed: bool = False) -> str:
    """The diagnostic as the phrase tables read it: lower case, whitespace collapsed,
    continuation-line reply codes dropped, at most ``_TEXT_CAP`` characters.
    ``collapsed``: the caller collapsed the whitespace already (base.make_finding)."""
    if not diagnostic:
        return ""
    text = diagnostic[:_TEXT_CAP].lower()
    return _join_reply_lines(text if collapsed else _collapse(text))


def reason_for(
    diagnostic: str | None,
    status: str | None = None,
    reply_code: str | None = None,
    action: str | None = None,
    command: str | None = None,
    diagnostic_type: str | None = None,
    text: str | None = None,
    heads: set[str] | None = None,
) -> str:
    """The Sisimai reason for one recipient's failure (see the module docstring).

    ``text`` and ``heads``, when the caller has them, are ``reason_text(diagnostic)``
    and its ``token_heads`` (base.make_finding shares them with its other lookups).
    """
    action = (action or "").lower()
    if action in _DELIVERED_ACTIONS or (status or "").startswith("2."):
        return "delivered"
    if text is None:
        text = reason_text(diagnostic)
    if heads is None:
        heads = token_heads(text)
    temporary = (status or reply_code or "").startswith("4")
    if is_vague(status):
        status = None
    if command is None:
        command = find_command(text, heads)
    hits = _phrase_hits(text, heads)
    # Only rows in ``hits``, listing the status / reply code, or with regexes can
    # match (``_match`` is False for every other row): test those, in table order. A
    # regex row's regexes run when the row's turn comes and its words did not hit:
    # rows after the deciding one never pay for theirs.
    by_code = _REPLY_ROWS.get(reply_code, ()) if reply_code else ()
    early = hits.union(_STATUS_ROWS.get(status, ()), by_code) if status else hits.union(by_code)
    for n in sorted(early.union(_EARLY_REGEX_ROWS)):
        if n >= _LATE_OFFSET:
            break
        if n in _EARLY_REGEX_ROWS and n not in hits and text and _regex_hit(n, text):
            hits.add(n)
        rule = RULES[n]
        if _match(n, rule, hits, text, status, reply_code, command, temporary):
            return rule.reason
    by_status = STATUS_REASONS.get(status or "")
    if by_status and by_status not in WEAK_STATUS_REASONS:
        return by_status
    # the late rows are read without the status
    for n in sorted(hits.union(by_code, _LATE_REGEX_ROWS)):
        if n >= _LATE_OFFSET:
            if n in _LATE_REGEX_ROWS and n not in hits and text and _regex_hit(n, text):
                hits.add(n)
            rule = _ALL_RULES[n]
            if _match(n, rule, hits, text, None, reply_code, command, temporary):
                return rule.reason
    if by_status:
        return by_status
    if status:
        subject = status.split(".")[1]
        if subject in SUBJECT_REASONS:
            return SUBJECT_REASONS[subject]
    if (diagnostic_type or "").lower().startswith("x-unix"):
        return "mailererror"
    if action == "delayed" or (action == "failed" and status and status.startswith("4.")):
        # a specific temporary failure reported as final is the MTA giving up after
        # retries (Postfix's maximal_queue_lifetime keeps the last deferral's 4.x.x)
        return "expired"
    if command in ("HELO", "CONN"):
        return "blocked"
    return "onhold" if text else UNDEFINED


#: by subject sub-code when the full code names nothing (RFC 3463 section 2)
SUBJECT_REASONS: dict[str, str] = {"6": "contenterror", "7": "securityerror"}


def kind_for(
    reason: str, status: str | None = None, action: str | None = None, reply_code: str | None = None
) -> Kind:
    """Coarse class from reason, action and code class (see module docstring)."""
    action = (action or "").lower()
    if reason == "delivered":
        return Kind.DELIVERED
    if reason == "feedback":
        return Kind.COMPLAINT
    if reason == "vacation":
        return Kind.AUTO_REPLY
    if action == "delayed":
        return Kind.DELAYED
    if reason in HARD_REASONS:
        temporary = (status or "").startswith("4") or (reply_code or "").startswith("4")
        if reason == "notaccept" and temporary:
            return Kind.SOFT_BOUNCE
        return Kind.HARD_BOUNCE
    return Kind.SOFT_BOUNCE


def classify(
    diagnostic: str | None,
    status: str | None = None,
    reply_code: str | None = None,
    action: str | None = None,
    command: str | None = None,
    diagnostic_type: str | None = None,
    text: str | None = None,
    heads: set[str] | None = None,
) -> tuple[Kind, str]:
    """``(kind, reason)`` from the clues a bounce gives (``text``, ``heads``: see
    ``reason_for``)."""
    reason = reason_for(
        diagnostic, status, reply_code, action, command, diagnostic_type, text, heads
    )
    return kind_for(reason, status, action, reply_code), reason
