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

from parsers.model import Kind

#: reasons that make an address permanently undeliverable
HARD_REASONS = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})

#: Sisimai's pseudo reason for "we cannot tell"
UNDEFINED = "undefined"

_STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_RE = re.compile(r"(?<![\d.])([245][0-5]\d)(?=[ \-]|$)(?![\d.])", re.M)


def _words(*phrases: str) -> str:
    """Literal phrases (lower case) as one alternation."""
    return "|".join(re.escape(p) for p in phrases)


@dataclass(frozen=True, slots=True)
class Rule:
    """One row: a reason, the words that show it, and the status codes that mean it.

    ``unless`` lists words that, when present, veto a match by status code
    alone: "550 5.1.1 ... blocked by spam filter" is not an unknown user.
    ``temporary`` restricts a text match to 4xx failures when True, to 5xx
    when False, and does not care when None.
    """

    reason: str
    pattern: re.Pattern[str] | None
    statuses: frozenset[str] = frozenset()
    unless: re.Pattern[str] | None = None
    replycodes: frozenset[str] = frozenset()


def _rule(
    reason: str,
    words: Iterable[str] = (),
    regexes: Iterable[str] = (),
    statuses: Iterable[str] = (),
    unless: Iterable[str] = (),
    replycodes: Iterable[str] = (),
) -> Rule:
    parts = [_words(*words)] if words else []
    parts += [f"(?:{r})" for r in regexes]
    pattern = re.compile("|".join(parts)) if parts else None
    veto = re.compile(_words(*unless)) if unless else None
    return Rule(reason, pattern, frozenset(statuses), veto, frozenset(replycodes))


# Phrases are matched against the lower-cased diagnostic with whitespace
# collapsed. Keep rows ordered: specific causes first.
RULES: tuple[Rule, ...] = (
    _rule(
        "mailboxfull",
        words=(
            "mailbox full", "mailbox is full", "mailbox quota", "mailbox size limit exceeded",
            "mailbox has exceeded", "mailbox would exceed", "mailfolder is full", "full mailbox",
            "quota exceeded", "over quota", "overquota", "over the quota", "exceeded storage",
            "exceeded the quota", "exceeds the quota", "quota violation", "quota full",
            "insufficient disk space", "no space left on device", "not sufficient disk space",
            "user has too many messages", "too much mail data", "mailbox exceeds allowed size",
            "user's space has been used up", "out of storage space", "inbox is out of storage",
            "is over its storage", "storage quota", "disk quota", "boite du destinataire pleine",
            "recipient's mailbox is full", "maildir over quota", "account is full",
            "mailbox has reached its limit", "exceeding receiving limits", "mailbox is over",
        ),
        regexes=(r"mailbox\b[^.]{0,40}\bfull", r"quota[^.]{0,30}exceed", r"exceed[^.]{0,30}quota"),
        statuses=("4.2.2", "5.2.2"),
    ),
    _rule(
        "emailtoolarge",
        words=(
            "message too large", "message too big", "message is too large", "message is too big",
            "message size exceeds", "message exceeds the", "size limit", "exceeds size limit",
            "exceeds maximum message size", "message length exceeds", "mail size limit",
            "email size exceeds", "message larger than", "too big for system", "size exceeds",
            "exceeded the maximum message size", "exceeds the maximum size",
        ),
        statuses=("5.3.4", "4.3.4", "5.2.3", "4.2.3", "5.7.16", "4.7.16"),
    ),
    _rule(
        "suspend",
        words=(
            "is currently suspended", "has been suspended", "account has been disabled",
            "account is disabled", "account disabled", "mailbox disabled", "mailbox is disabled",
            "this mailbox is disabled", "account suspended", "user suspended", "mailbox is frozen",
            "inactive account", "account is inactive", "is inactive", "invalid/inactive user",
            "is a deactivated mailbox", "user is terminated", "mailbox currently suspended",
            "temporarily inactive", "recipient suspend the service", "disabled or discontinued",
            "temporarily suspended", "user or domain is disabled", "account is locked",
            "archived recipient", "boite du destinataire archivee", "account has been locked",
            "account is expired", "account expired", "mailbox unavailable or access denied",
            "the email account that you tried to reach is disabled", "temporary locked",
        ),
        replycodes=("525",),
    ),
    _rule(
        "hasmoved",
        words=("has been moved", "mailbox has moved", "address has changed", "has moved to",
               "no longer in use", "user has moved"),
        statuses=("5.1.6", "4.1.6", "5.7.17", "5.7.18"),
    ),
    _rule(
        "norelaying",
        words=(
            "relay access denied", "relaying denied", "relay denied", "relay not permitted",
            "relaying not permitted", "relaying not allowed", "relay not allowed",
            "relaying mail to", "unable to relay", "not permitted to relay", "no relaying",
            "we do not relay", "not allowed to relay", "relay prohibited", "relaying prohibited",
            "that domain isn't in my list of allowed rcpthosts", "not a gateway",
            "mail relay denied", "insecure mail relay", "relay access",
        ),
        regexes=(r"relay(?:ing)? (?:is )?(?:not |denied|prohibited)",),
    ),
    _rule(
        "authfailure",
        words=(
            "spf check", "spf fail", "spf validation", "spf record", "failed spf", "spf: ",
            "dkim", "dmarc", "sender policy framework", "authentication failed",
            "not pass authentication", "unauthenticated email", "does not pass", "sender id",
            "arc validation", "is not designated as permitted sender",
            "not authorized to send on behalf",
        ),
        regexes=(r"\bspf\b",),
        statuses=("5.7.20", "5.7.21", "5.7.22", "5.7.23", "5.7.24", "5.7.26", "5.7.29",
                  "4.7.24", "4.7.26"),
        unless=("blocked using", "spamhaus"),
    ),
    _rule(
        "userunknown",
        words=(
            "user unknown", "unknown user", "no such user", "no such mailbox", "no such recipient",
            "no such address", "no such person", "no such account", "unknown recipient",
            "recipient unknown", "unknown mailbox", "mailbox unknown", "invalid recipient",
            "invalid mailbox", "invalid address", "recipient not found", "user not found",
            "mailbox not found", "address not found", "mailbox does not exist",
            "recipient does not exist", "user does not exist", "address does not exist",
            "account does not exist", "email account that you tried to reach does not exist",
            "does not exist", "doesn't exist", "not exist", "unknown local part",
            "unknown or illegal alias", "not a valid mailbox", "not a valid user",
            "not a valid recipient", "is not a known user", "not our customer",
            "bad destination mailbox", "address unknown", "addressee unknown",
            "mailbox unavailable", "mailbox not available", "mailbox is unavailable",
            "no mailbox", "recipient address rejected: user", "user not active",
            "user unknown in", "unrouteable address", "recipient rejected",
            "address rejected", "rejected: user", "bad recipient", "badrcptto",
            "no account by that name", "mailbox not present", "mailbox invalid",
            "destination addresses were unknown", "undeliverable address", "unknown address",
            "no such local user", "not listed in domino directory", "is not a valid address",
            "nonexistent user", "non-existent user", "unknown e-mail address", "user invalid",
            "resolver.adr.recipnotfound", "resolver.adr.recipientnotfound",
            "recipient not in valid rcptto", "validrcptto", "utilisateur inconnu",
            "invalid or unknown virtual user", "not a local address",
            "email address could not be found", "no one at this address",
            "this account does not exist", "user doesn't have a", "recipient not ok",
            "there is no user", "the user does not exist", "address is not valid",
            "this address no longer accepts mail", "recipient address is invalid",
            "unknown account", "invalid account", "mailbox not exist",
            "is not an active address",
        ),
        regexes=(
            r"user \S+ (?:was not found|does not exist|unknown)",
            r"<\S+> not found",
            r"\bno (?:user|mailbox) (?:by that name|here)",
        ),
        statuses=("5.1.1", "5.1.0", "5.1.3", "4.1.1"),
        unless=(
            "blocked", "spam", "rejected by policy", "blacklist", "full", "quota",
            "sender address rejected", "sender verify", "relay", "dmarc", "disabled",
            "suspended",
        ),
    ),
    _rule(
        "filtered",
        words=(
            "message filtered", "user refuses to receive", "refuse to receive",
            "rejected due to user rules", "recipient is only accepting mail from",
            "refused due to recipient preferences", "has restricted sms e-mail",
            "account is protected by", "you have been blocked by the recipient", "user reject",
            "bounced address", "recipient id refuse", "not accepting any mail",
            "blocked by the recipient", "filtered by recipient", "rejected by recipient",
            "recipient's settings", "user's filter",
        ),
        statuses=("5.2.0", "5.2.1", "5.2.4", "5.1.4"),
        unless=("spam", "blocked", "virus", "blacklist", "policy"),
    ),
    _rule(
        "requireptr",
        words=(
            "no ptr record", "ptr record", "reverse dns", "reverse lookup", "rdns",
            "cannot find your hostname", "cannot resolve your address", "no reverse",
            "unresolvable relay host name", "client host rejected: cannot find your",
            "does not resolve to your ip", "reverse-dns", "reverse dns lookup",
            "forward-confirmed", "no dns ptr", "fcrdns", "name lookup failed for",
            "please set up a matching", "not have a reverse", "ip name lookup failed",
            "ptr record setup", "unable to reverse",
        ),
        statuses=("5.7.25", "4.7.25"),
    ),
    _rule(
        "notcompliantrfc",
        words=(
            "this message is not rfc 5322 compliant", "not rfc 5322 compliant",
            "not rfc5322 compliant", "rfc 5322 compliant", "duplicate header",
            "multiple from", "multiple addresses in from", "bare lf", "bare <lf>",
            "not compliant with rfc", "violates rfc", "rfc5322", "rfc 5322",
            "more than one from", "header lines",
        ),
    ),
    _rule(
        "badreputation",
        words=(
            "low reputation", "poor reputation", "sender reputation", "reputation of the",
            "ip reputation", "domain reputation", "bad reputation", "has a poor reputation",
            "sending reputation", "reputation is",
        ),
    ),
    _rule(
        "virusdetected",
        words=(
            "virus", "malware", "infected", "malicious content", "dangerous attachment",
            "banned attachment", "message contains a virus",
        ),
        regexes=(r"\btrojan\b",),
    ),
    _rule(
        "spamdetected",
        words=(
            "spam", "junk mail", "unsolicited", "bulk mail", "content filter",
            "message content rejected", "content rejected", "rejected as bulk",
            "message is not accepted", "classified as", "scored too high", "blocked for abuse",
            "appears to be", "high probability of", "suspicious", "message refused by",
            "mail appears to be", "ups spam", "rejected by our content",
            "message looks like", "considered unsolicited", "due to content",
            "uce", "not delivered for policy reasons", "message not accepted for policy reasons",
            "abuse", "mail flood",
        ),
        statuses=("5.7.28",),
        unless=("blocked using", "listed in", "blacklist", "blocklist", "rbl"),
    ),
    _rule(
        "contenterror",
        words=(
            "improper use of 8-bit data", "message header size exceeds",
            "header error", "headers are not", "message content rejected, ",
            "illegal attachment", "invalid mime", "mime error", "message contains invalid",
            "message content is not acceptable", "invalid header", "bad header",
            "charset", "character set",
        ),
    ),
    _rule(
        "rejected",
        words=(
            "sender rejected", "sender address rejected", "sender was rejected",
            "sender verify failed", "sender verification", "invalid sender",
            "domain of sender address", "sender domain", "sender is in my black list",
            "sender address has been blacklisted", "address has been blacklisted",
            "email address has been blacklisted", "envelope blocked", "empty envelope senders",
            "null sender is not allowed", "returned mail not accepted", "unroutable sender",
            "bogus mail from", "mail from not owned by user", "from: domain is invalid",
            "batv", "not on the recipient's list of senders",
            "access denied (in reply to mail from", "not allowed to post to this mailing list",
            "administrative prohibition", "fully qualified email address required",
            "sender not pre-approved", "unknown sender", "sender denied",
            "delivery not authorized, message refused", "your email address has been",
            "spam reporting address", "this server does not accept mail from",
            "message rejected: email address is not verified", "not a registered gateway user",
            "was rejected by", "access denied", "rejected by the recipient domain",
            "sending this from a different address", "sender is spammer",
        ),
        statuses=("5.1.7", "5.1.8", "4.1.7", "4.1.8"),
    ),
    _rule(
        "hostunknown",
        words=(
            "host unknown", "unknown host", "host not found", "domain not found",
            "no such domain", "domain does not exist", "unrouteable mail domain",
            "name or service not known", "name service error", "host or domain name not found",
            "unknown domain", "invalid domain", "domain is invalid", "domain name not found",
            "no mx", "mx record", "nxdomain", "unable to route", "no route to host",
            "could not be resolved", "bad destination system", "domain must exist",
            "hostname lookup failed", "domain is not valid", "not a valid domain",
            "domain isn't in my list", "unknown mail domain", "unknown mx",
            "unrouteable", "recipient domain", "domain doesn't exist",
        ),
        statuses=("5.1.2", "5.4.4", "4.1.2"),
        unless=("sender domain", "sender address"),
    ),
    _rule(
        "ratelimited",
        words=(
            "too many connections", "too many concurrent", "connection limit",
            "too many sessions", "too many smtp sessions", "too many simultaneous",
            "rate limit", "ratelimit", "rate-limit", "too many messages",
            "too many recipients", "too many emails", "too fast", "try again later",
            "sending too many", "exceeded the rate", "throttl", "receiving mail at a rate",
            "unusual rate", "temporarily deferred due to", "too much mail",
            "messages per", "has exceeded the max", "transmission rate",
        ),
        statuses=("5.5.3", "4.5.3"),
        replycodes=("421",),
    ),
    _rule(
        "blocked",
        words=(
            "blocked using", "blacklisted", "blacklist", "blocklist", "block list",
            "blocked by", "listed in", "listed on", "spamhaus", "spamcop", "sorbs",
            "barracudacentral", "rbl", "dnsbl", "your ip", "client host rejected",
            "helo command rejected", "access denied for", "connection refused",
            "connection dropped", "connection reset by peer", "not accepting connections",
            "go away", "dynamic ip", "dynamic/zombied", "residential", "zombie",
            "not allowed to send mail from", "confirm this mail server",
            "we do not accept mail from", "your access to submit messages",
            "ip address is", "mail server at", "is blocked", "has been blocked",
            "were blocked", "was blocked", "after initial connection",
            "refused to talk to me", "bad sender ip", "please use the smtp server of your isp",
            "extreme bad ip profile", "open proxy", "poor reputation ip",
            "service not available, closing transmission channel", "server access forbidden",
            "ip name", "not currently accepting mail from your ip", "banned sending ip",
        ),
        statuses=("4.7.1", "4.2.1"),
    ),
)

#: consulted only when no RULES row matched: causes whose phrases are vague
#: enough that they must not beat a row above.
LATE_RULES: tuple[Rule, ...] = (
    _rule(
        "policyviolation",
        words=(
            "policy violation", "violates our", "violation of", "policy reasons",
            "local policy", "content policy", "email policy", "policy rejection",
            "rejected by policy", "rejected for policy reasons", "policy rule",
            "due to policy", "against our policy", "prohibited by policy", "policy restriction",
        ),
        regexes=(r"\bpolicy\b",),
    ),
    _rule(
        "systemfull",
        words=("mail system full", "system full", "insufficient system storage",
               "out of disk space", "disk full", "spool full"),
        statuses=("4.3.1", "5.3.1", "4.4.5"),
    ),
    _rule(
        "notaccept",
        words=(
            "does not accept mail", "not accepting mail", "null mx", "accepts no mail",
            "does not receive mail", "domain does not accept", "no mail accepted",
            "mail is not accepted", "does not accept e-mail",
        ),
        statuses=("5.3.2", "4.3.2", "5.1.10", "5.7.27"),
    ),
    _rule(
        "expired",
        words=(
            "delivery time expired", "message expired", "retry timeout exceeded",
            "retry time not reached", "could not be delivered for", "has been delayed",
            "giving up", "gave up", "too long in the queue", "queue too long",
            "was not delivered within", "delivery expired", "message timed out",
            "has not been delivered", "maximum time", "timeout waiting",
            "undeliverable for", "retry period", "delivery attempts will continue",
            "expired", "deferral", "deferred",
        ),
        statuses=("4.4.7", "5.4.7", "4.4.1", "5.4.1"),
    ),
    _rule(
        "networkerror",
        words=(
            "network error", "connection timed out", "connection timeout", "timed out",
            "could not connect", "unable to connect", "can't connect", "cannot connect",
            "connection closed", "lost connection", "connection lost", "no route to host",
            "network is unreachable", "host unreachable", "temporary failure in name resolution",
            "dns error", "dns lookup", "dns failure", "mail loop", "loop detected",
            "routing loop", "too many hops", "hop count exceeded", "malformed or unexpected name",
            "name server", "nameserver",
        ),
        statuses=("4.4.0", "5.4.0", "4.4.2", "4.4.4", "4.4.6", "5.4.6", "4.4.8"),
    ),
    _rule(
        "failedstarttls",
        words=("starttls", "tls required", "must issue a starttls", "tls handshake",
               "encryption required"),
        statuses=("5.7.10", "5.7.30"),
    ),
    _rule(
        "systemerror",
        words=(
            "system error", "internal error", "server error", "local error",
            "temporary failure", "temporary error", "try again", "temporarily unavailable",
            "service unavailable", "server busy", "configuration error", "misconfigured",
            "mail system", "unable to deliver", "not capable", "problem with",
            "local configuration", "resources temporarily", "too many hops",
        ),
        statuses=("4.3.0", "5.3.0", "4.3.3", "5.3.3", "4.3.5", "5.3.5", "5.4.3", "4.4.3",
                  "4.1.9", "5.1.9", "5.5.4", "5.5.5", "4.5.5"),
    ),
    _rule(
        "mailererror",
        words=("mailer error", "command died", "command failed", "program error",
               "procmail", "x-unix", "exit status", "unknown mailer error", "pipe to"),
    ),
    _rule(
        "securityerror",
        words=("authentication required", "password", "unauthorized", "not authorized",
               "security", "encryption"),
    ),
    _rule(
        "syntaxerror",
        words=("syntax error", "command unrecognized", "unrecognized command",
               "command not recognized", "bad sequence of commands", "line too long"),
        statuses=("5.5.2", "5.5.6", "5.5.1", "5.5.0"),
    ),
)

#: the enhanced status code alone (RFC 3463, 5248 registry); used last
STATUS_REASONS: dict[str, str] = {
    "4.1.1": "userunknown", "5.1.0": "userunknown", "5.1.1": "userunknown",
    "5.1.3": "userunknown", "5.1.2": "hostunknown", "5.4.4": "hostunknown",
    "5.1.4": "filtered", "5.2.0": "filtered", "5.2.1": "filtered", "5.2.4": "filtered",
    "4.2.4": "filtered", "4.1.6": "hasmoved", "5.1.6": "hasmoved", "5.7.17": "hasmoved",
    "5.7.18": "hasmoved", "4.1.7": "rejected", "4.1.8": "rejected", "5.1.7": "rejected",
    "5.1.8": "rejected", "4.2.1": "blocked", "4.7.1": "blocked", "4.7.2": "blocked",
    "4.2.2": "mailboxfull", "5.2.2": "mailboxfull", "4.2.3": "emailtoolarge",
    "5.2.3": "emailtoolarge", "5.3.4": "emailtoolarge", "4.7.16": "emailtoolarge",
    "5.7.16": "emailtoolarge", "4.3.1": "systemfull", "5.3.1": "systemfull",
    "4.4.5": "systemfull", "4.3.2": "notaccept", "5.3.2": "notaccept",
    "5.1.10": "notaccept", "5.7.27": "notaccept", "5.3.0": "systemerror",
    "4.3.3": "systemerror", "5.3.3": "systemerror", "4.3.5": "systemerror",
    "5.3.5": "systemerror", "4.4.3": "systemerror", "5.4.3": "systemerror",
    "4.1.9": "systemerror", "5.1.9": "systemerror", "4.5.3": "systemerror",
    "5.5.4": "systemerror", "4.5.5": "systemerror", "5.5.5": "systemerror",
    "5.5.3": "ratelimited", "4.4.1": "expired", "4.4.7": "expired", "5.4.7": "expired",
    "4.4.2": "networkerror", "4.4.4": "networkerror", "4.4.6": "networkerror",
    "5.4.6": "networkerror", "4.4.8": "networkerror", "5.4.0": "networkerror",
    "5.5.2": "syntaxerror", "5.5.6": "syntaxerror", "5.7.13": "suspend",
    "5.7.20": "authfailure", "5.7.21": "authfailure", "5.7.22": "authfailure",
    "5.7.23": "authfailure", "5.7.24": "authfailure", "5.7.26": "authfailure",
    "5.7.29": "authfailure", "4.7.24": "authfailure", "4.7.26": "authfailure",
    "5.7.25": "requireptr", "4.7.25": "requireptr", "5.7.28": "spamdetected",
    "5.7.30": "failedstarttls", "2.1.5": "delivered",
}

#: by subject sub-code when the full code names nothing (RFC 3463 section 2)
SUBJECT_REASONS: dict[str, str] = {"6": "contenterror", "7": "securityerror"}

_COLLAPSE_RE = re.compile(r"\s+")
_DELIVERED_ACTIONS = frozenset({"delivered", "relayed", "expanded"})


def find_status(text: str | None) -> str | None:
    """The first RFC 3463 code in a text (``5.1.1``), if any."""
    if not text:
        return None
    m = _STATUS_RE.search(text)
    return f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else None


def find_reply_code(text: str | None) -> str | None:
    """The first SMTP reply code in a text (``550``), if any."""
    if not text:
        return None
    m = _REPLY_RE.search(text)
    return m.group(1) if m else None


def is_vague(status: str | None) -> bool:
    """X.0.0 carries only the class: Exim writes 5.0.0 for every failure."""
    return not status or status.endswith(".0.0") or ".0.9" in status


def _match(rule: Rule, text: str, status: str | None, reply: str | None) -> bool:
    if rule.pattern is not None and text and rule.pattern.search(text):
        return True
    if status and status in rule.statuses:
        return not (rule.unless is not None and rule.unless.search(text))
    return bool(reply and reply in rule.replycodes)


def reason_for(
    diagnostic: str | None,
    status: str | None = None,
    reply_code: str | None = None,
    action: str | None = None,
) -> str:
    """The Sisimai reason for one recipient's failure."""
    action = (action or "").lower()
    if action in _DELIVERED_ACTIONS or (status or "").startswith("2."):
        return "delivered"
    text = _COLLAPSE_RE.sub(" ", diagnostic.lower()) if diagnostic else ""
    if is_vague(status):
        status = None
    for rule in RULES:
        if _match(rule, text, status, reply_code):
            return rule.reason
    if status and status in STATUS_REASONS:
        return STATUS_REASONS[status]
    for rule in LATE_RULES:
        if _match(rule, text, status, reply_code):
            return rule.reason
    if status:
        subject = status.split(".")[1]
        if subject in SUBJECT_REASONS:
            return SUBJECT_REASONS[subject]
    if action == "delayed":
        return "expired"
    return "onhold" if text else UNDEFINED


def kind_for(reason: str, status: str | None = None, action: str | None = None,
             reply_code: str | None = None) -> Kind:
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
) -> tuple[Kind, str]:
    """``(kind, reason)`` from the four clues a bounce gives."""
    reason = reason_for(diagnostic, status, reply_code, action)
    return kind_for(reason, status, action, reply_code), reason
