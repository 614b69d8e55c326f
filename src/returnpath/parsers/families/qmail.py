"""qmail's bounces (qmail-send; netqmail and its patches keep the wording).

``qmail-send.c`` writes "Hi. This is the qmail-send program at HOST." then
"I'm afraid I wasn't able to deliver your message to the following
addresses." and each address as ``<address>:`` followed by the remote reply,
then "--- Below this line is a copy of the message.". Hosts that rewrote the
greeting (GoDaddy's "We're sorry. There's a problem...") kept that last
line, so either names qmail. qmail never writes RFC 3464. Read exactly as the ``generic`` family reads any
plain-text bounce; this record only names who wrote it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from returnpath.parsers.families.generic import FAMILY as GENERIC
from returnpath.parsers.textbounce import TextFamily

FAMILY: TextFamily = replace(
    GENERIC,
    name="qmail",
    signature=re.compile(
        r"This is the qmail-send program|^--- Below this line is a copy of the message\.",
        re.I | re.M,
    ),
)
