"""The signs that a message is a delivery report, shared by the families that must
say "not mine" to one (complaints, auto-replies, unsubscribes) and by the
``fallback`` family, which says "a bounce, though nobody could read it".

The markers of a bounce live here once, as tables. They are deliberately broad:
a bounce that slips past them would be recorded as a complaint or a vacation
reply and never suppress a dead address, while an auto-reply wrongly refused
here merely falls through to the bounce families (which ignore it).
"""

from __future__ import annotations

import re

from returnpath.parsers._types import Msg
from returnpath.parsers.mime import all_parts, first_address, header_text

# Sender local parts that only ever send delivery reports (never a human, never
# an auto-responder of a mailbox): RFC 5321 postmaster, the sendmail/qmail/
# Exchange daemon names.
BOUNCE_SENDER_LOCALS: frozenset[str] = frozenset(
    {
        "mailer-daemon",
        "mailerdaemon",
        "mailer_daemon",
        "postmaster",
        "mail-daemon",
        "maildaemon",
        "root",
        "mdaemon",
        "mail.delivery.system",
        "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e",
    }
)

# Display names used by daemons that write from an ordinary-looking address.
BOUNCE_SENDER_NAMES: re.Pattern[str] = re.compile(
    r"mail\s*delivery\s*(?:sub)?system|mailer[-_ ]?daemon|postmaster|"
    r"mail\s*administrator|delivery\s*status\s*notification",
    re.IGNORECASE,
)

# Subject lines of delivery reports, in the languages MTAs localise them to.
# Anchored loosely: providers prefix them ("[SPAM]", "Fwd:").
BOUNCE_SUBJECTS: re.Pattern[str] = re.compile(
    r"undeliver|undelivered|not\s+delivered|delivery\s+(?:status|failure|failed|"
    r"notification|problem|report|has\s+failed|incomplete)|failure\s+notice|"
    r"returned\s+mail|returned\s+to\s+sender|mail\s+delivery\s+failed|"
    r"delivery\s+(?:to\s+the\s+following|failure)|could\s+not\s+be\s+delivered|"
    r"warning:\s+message|message\s+(?:not\s+delivered|delayed|blocked|rejected)|"
    r"nondeliverable|non[- ]?delivery|mail\s+failure|delayed\s+mail|"
    r"unzustellbar|nicht\s+zustellbar|non\s+remis|non\s+distribuable|"
    r"no\s+entregado|non\s+recapitabile|niet\s+bezorgd|"
    r"rejected:|bounced?\s+(?:mail|message)|mail\s+system\s+error|"
    r"配信不能|配送エラー|退信|退回|未送达|недоставленное|не\s+доставлено",
    re.IGNORECASE,
)

# Content types that only delivery and feedback reports use.
REPORT_PART_TYPES: frozenset[str] = frozenset(
    {"message/delivery-status", "message/global-delivery-status", "message/feedback-report"}
)

# Headers whose mere presence marks a delivery report (Exim, Postfix, qmail).
BOUNCE_HEADERS: tuple[str, ...] = ("X-Failed-Recipients", "X-Postfix-Queue-ID-Bounce")


def sender_local(msg: Msg) -> str:
    """Lower-case local part of From:, or "" when there is none."""
    addr = first_address(header_text(msg, "From"))
    if not addr:
        return ""
    return addr.rsplit("@", 1)[0].lower()


def is_delivery_report(msg: Msg, *, by_subject: bool = True) -> bool:
    """True when ``msg`` looks like a bounce/DSN rather than a person's mail.

    A DSN also carries ``Auto-Submitted: auto-replied`` (RFC 3834 asks for it),
    so the auto-reply and unsubscribe families ask this first. ``by_subject``
    False skips the subject table: "Automatic reply: Your delivery status"
    quotes *our* subject after the responder's prefix.
    """
    ctype = msg.get_content_type()
    if ctype == "multipart/report":
        return True
    if any(msg.get(h) is not None for h in BOUNCE_HEADERS):
        return True
    if sender_local(msg) in BOUNCE_SENDER_LOCALS:
        return True
    if BOUNCE_SENDER_NAMES.search(header_text(msg, "From")):
        return True
    if by_subject and BOUNCE_SUBJECTS.search(header_text(msg, "Subject")):
        return True
    return any(p.get_content_type() in REPORT_PART_TYPES for p in all_parts(msg))
