"""Gmail's own plain-text notices (before it switched to RFC 3464).

"Delivery to the following recipient failed permanently:", the address alone
on an indented line, then "Technical details of permanent failure:" with the
remote reply. Delay notices say "Message will be retried for N more day(s)".
Gmail names the step of its SMTP session that failed as "(state N)", which
says more than the remote's words when those carry no specific status.
"""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import TextFamily
from returnpath.parsers.vocabulary import Reason

#: the sender of every notice Gmail and Google Groups write
GOOGLE_DAEMON = re.compile(r"mailer-daemon@(?:googlemail|google)\.com", re.I)

#: what went wrong at each "(state N)" Gmail's old notices name (the session step
#: that failed): TLS (6, 9), AUTH (8), relaying (12), EHLO (13), DATA (15, 17, 18);
#: state 14 is RCPT, which ``parsers.reasons`` reads as a command, not a verdict.
_GMAIL_STATES: tuple[tuple[str, Reason], ...] = (
    ("(?:6|9)", Reason.FAILEDSTARTTLS),
    ("8", Reason.SYSTEMERROR),
    ("12", Reason.NORELAYING),
    ("13", Reason.BLOCKED),
    ("1[578]", Reason.FILTERED),
)
_NO_SPECIFIC_STATUS = r"^(?:(?!\b[45]\.\d{1,3}\.[1-9]).)*"

FAMILY: TextFamily = TextFamily(
    name="gmail",
    senders=GOOGLE_DAEMON,
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
            Reason.EXPIRED,
        ),
        # Gmail's own "(state N)" of the SMTP session that failed; a specific status
        # code in the remote's reply ("5.2.2 Mailbox Full (state 17)") still decides
        *(
            (re.compile(_NO_SPECIFIC_STATUS + rf"\(state {states}\)", re.S), reason)
            for states, reason in _GMAIL_STATES
        ),
    ),
)
