"""Microsoft Exchange 5.5/2000/2003 plain-text non-delivery reports.

"Your message ... did not reach the following recipient(s):" followed by
``address on DATE`` and the reason on indented lines ("The recipient name is
not recognized", then an ``MSEXCH:...`` diagnostic). X.400 gateways write the
address as ``...;dda:SMTP=user@domain;``. Recipients listed here were refused
by the directory, i.e. at RCPT time. Exchange 2007+ writes RFC 3464.
"""

from __future__ import annotations

import re

from parsers.textbounce import ADDR, TextFamily

FAMILY = TextFamily(
    name="exchange",
    markers=re.compile(r"did not reach the following recipient|"
                       r"following recipient\(s\) could not be reached|MSEXCH:", re.I),
    require_marker=True,
    start=re.compile(r"did not reach the following recipient|"
                     r"following recipient\(s\) could not be reached", re.I),
    recipients=(
        re.compile(rf"^\s*(?P<addr>{ADDR})\s+on\s+\S"),
        re.compile(rf"\bSMTP=(?P<addr>{ADDR})", re.I),
    ),
    command="RCPT",
)
