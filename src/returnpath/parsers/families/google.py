"""Google: Gmail's own bounces and Google Groups' refusals to post.

Gmail (before it switched to RFC 3464) wrote a plain-text notice: "Delivery
to the following recipient failed permanently:", the address alone on an
indented line, then "Technical details of permanent failure:" with the
remote reply. Delay notices say "Message will be retried for N more day(s)".

Google Groups answers a post it refuses (no such group, not a member, posting
restricted) with a localised letter addressed to the *poster*, naming the
poster in its first line; only ``X-Failed-Recipients`` names the group. The
reason is always a refusal of the sender, Sisimai's ``rejected``.
"""

from __future__ import annotations

import re

from returnpath.parsers._types import Msg
from returnpath.parsers.base import Family, header_text
from returnpath.parsers.mime import report_text
from returnpath.parsers.model import Finding
from returnpath.parsers.textbounce import TextFamily, extract_text_bounce

_GOOGLE_DAEMON = re.compile(r"mailer-daemon@(?:googlemail|google)\.com", re.I)

#: what went wrong at each "(state N)" Gmail's old notices name (the session step
#: that failed): TLS (6, 9), AUTH (8), relaying (12), EHLO (13), DATA (15, 17, 18);
#: state 14 is RCPT, which ``parsers.reasons`` reads as a command, not a verdict
_GMAIL_STATES = (
    ("(?:6|9)", "failedstarttls"),
    ("8", "systemerror"),
    ("12", "norelaying"),
    ("13", "blocked"),
    ("1[578]", "filtered"),
)
_NO_SPECIFIC_STATUS = r"^(?:(?!\b[45]\.\d{1,3}\.[1-9]).)*"

GMAIL: Family = TextFamily(
    name="gmail",
    senders=_GOOGLE_DAEMON,
    markers=re.compile(
        r"Technical details of (?:permanent|temporary) failure|"
        r"Delivery to the following recipient",
        re.I,
    ),
    require_marker=True,
    start=re.compile(r"^Delivery to the following recipient", re.I | re.M),
    delayed=re.compile(r"Message will be retried|has been delayed|temporary failure", re.I),
    reasons=(
        (
            re.compile(
                r"did not accept our requests to connect|"
                r"could not be reached|timed out",
                re.I,
            ),
            "expired",
        ),
        # Gmail's own "(state N)" of the SMTP session that failed; a specific status
        # code in the remote's reply ("5.2.2 Mailbox Full (state 17)") still decides
        *(
            (re.compile(_NO_SPECIFIC_STATUS + rf"\(state {states}\)", re.S), reason)
            for states, reason in _GMAIL_STATES
        ),
    ),
)


class GoogleGroups:
    """A refused post to a Google group."""

    name = "googlegroups"
    _text = TextFamily(
        name="googlegroups",
        recipients=(),
        use_common_recipients=False,
        reasons=((re.compile(""), "rejected"),),
    )

    def detect(self, msg: Msg) -> bool:
        if not _GOOGLE_DAEMON.search(header_text(msg, "From")):
            return False
        failed = header_text(msg, "X-Failed-Recipients").lower()
        return failed.endswith("googlegroups.com") or "groups.google" in report_text(msg)

    def extract(self, msg: Msg) -> list[Finding]:
        return extract_text_bounce(self._text, msg)


GROUPS: Family = GoogleGroups()
FAMILY: Family = GMAIL
