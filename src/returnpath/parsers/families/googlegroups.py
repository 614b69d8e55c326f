"""Google Groups' refusals of a post (no such group, not a member, posting restricted).

A localised letter addressed to the *poster*, naming the poster in its first
line; only ``X-Failed-Recipients`` names the group, so this record reads no
recipient lines of its own. The reason is always a refusal of the sender,
Sisimai's ``rejected``. Its detection is a method of its own because the
mark is a combination (Google's daemon as sender *and* a googlegroups.com
recipient or a groups.google link) that patterns alone cannot say.
"""

from __future__ import annotations

import re

from returnpath.parsers._types import Msg
from returnpath.parsers.families.gmail import GOOGLE_DAEMON
from returnpath.parsers.mime import header_text, report_text
from returnpath.parsers.textbounce import TextFamily
from returnpath.parsers.vocabulary import Reason


class GoogleGroups(TextFamily):
    """A refused post to a Google group."""

    def detect(self, msg: Msg) -> bool:
        if not GOOGLE_DAEMON.search(header_text(msg, "From")):
            return False
        failed = header_text(msg, "X-Failed-Recipients").lower()
        return failed.endswith("googlegroups.com") or "groups.google" in report_text(msg)


FAMILY: TextFamily = GoogleGroups(
    name="googlegroups",
    recipients=(),
    use_common_recipients=False,
    reasons=((re.compile(""), Reason.REJECTED),),
)
