"""Microsoft Exchange 5.5/2000/2003 plain-text non-delivery reports.

"Your message ... did not reach the following recipient(s):" followed by
``address on DATE`` and the reason on indented lines ("The recipient name is
not recognized", then an ``MSEXCH:...`` diagnostic). X.400 gateways write the
address as ``...;dda:SMTP=user@domain;``. Recipients listed here were refused
by the directory; the bracketed ``MSEXCH`` error number, when there is one,
names the cause exactly (``000C05A6`` unknown recipient). Without it the
words are judged like any other report: "Recipient Not Found" with no SMTP
command named is a refusal Sisimai calls ``filtered``. Exchange 2007+ writes
RFC 3464.
"""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import ADDR, TextFamily
from returnpath.parsers.vocabulary import Reason

FAMILY: TextFamily = TextFamily(
    name="exchange",
    markers=re.compile(
        r"did not reach the following recipient|"
        r"following recipient\(s\) could not be reached|MSEXCH:",
        re.I,
    ),
    require_marker=True,
    start=re.compile(
        r"did not reach the following recipient|"
        r"following recipient\(s\) could not be reached",
        re.I,
    ),
    recipients=(
        re.compile(rf"^\s*(?P<addr>{ADDR})\s+on\s+\S"),
        re.compile(rf"\bSMTP=(?P<addr>{ADDR})", re.I),
    ),
    # Exchange's own error numbers (Microsoft KB "NDR codes in Exchange 5.5/2000/2003"):
    # when present they name the cause; without one the words are judged as usual
    reasons=(
        (re.compile(r"\(000C05A6\)", re.I), Reason.USERUNKNOWN),  # unknown recipient
        (re.compile(r"\(000C0595\)", re.I), Reason.FILTERED),  # ambiguous recipient
        (re.compile(r"\((?:00010256|000D06B5)\)", re.I), Reason.SYSTEMERROR),  # too many rcpts,
        # no proxy for the recipient
        (re.compile(r"\(00120270\)", re.I), Reason.NETWORKERROR),  # too many hops
        (re.compile(r"\((?:00050311|000502CC)\)", re.I), Reason.CONTENTERROR),  # conversion failed
        (re.compile(r"\(000B0981\)", re.I), Reason.SECURITYERROR),  # AUTH not supported
        (re.compile(r"\((?:000B099C|000B09AA|000B09B6)\)", re.I), Reason.ONHOLD),  # remote said
    ),
)
