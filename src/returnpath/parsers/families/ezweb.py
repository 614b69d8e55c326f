"""au's EZweb gateway notices.

"Each of the following recipients was rejected by a remote mail server."
then, when there was an SMTP session, its transcript; with no transcript the
refusal is au's own domain filter (``filtered``). A notice that says the
account is disabled means exactly that (``suspend``), whatever the 550 says.
"""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import TextFamily
from returnpath.parsers.vocabulary import Reason

FAMILY: TextFamily = TextFamily(
    name="ezweb",
    senders=re.compile(r"@ezweb\.ne\.jp", re.I),
    markers=re.compile(
        r"rejected by a remote\s+mail server|The user\(s\) account is disabled", re.I
    ),
    require_marker=True,
    section_reasons=((re.compile(r"The user\(s\) account is disabled", re.I), Reason.SUSPEND),),
    reasons=((re.compile(r"rejected by a remote\s+mail server", re.I), Reason.FILTERED),),
)
