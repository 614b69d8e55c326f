"""fml (a Japanese mailing-list manager): its error notices to a list's admin.

"Loop Alert: Duplicated Message-ID in <list@example>", "NOT MEMBER article
from ...": the failing party is the address in angle brackets. Every list
post carries fml's ``X-MLServer`` header too, so the header alone proves
nothing: a notice is one that also comes from the list's ``*-admin@``
address, which is why this record's detection is a method of its own.
"""

from __future__ import annotations

import re

from returnpath.parsers._types import Msg
from returnpath.parsers.mime import header_text
from returnpath.parsers.textbounce import ADDR, TextFamily
from returnpath.parsers.vocabulary import Reason


class Fml(TextFamily):
    """A ``TextFamily`` that first asks for fml's header and its admin sender."""

    def detect(self, msg: Msg) -> bool:
        if msg.get("X-MLServer") is None or "-admin@" not in header_text(msg, "From"):
            return False
        return super().detect(msg)


FAMILY: TextFamily = Fml(
    name="fml",
    markers=re.compile(
        r"Duplicated Message-ID|loop condition|Loop Back Warning|"
        r"NOT MEMBER article|not a member of this mailing list|"
        r"reject mail from|reject spammers|Security alert",
        re.I,
    ),
    require_marker=True,
    end=re.compile(r"^\s*Original mail as follows", re.I | re.M),
    recipients=(re.compile(rf"<(?P<addr>{ADDR})>"),),
    use_common_recipients=False,
    section_reasons=(
        (
            re.compile(
                r"Duplicated Message-ID|loop condition|Loop Back Warning|UNIX FROM Loop", re.I
            ),
            Reason.SYSTEMERROR,
        ),
        (
            re.compile(
                r"NOT MEMBER article|not a member of this mailing list|"
                r"reject mail from|reject spammers|header may cause mail loop",
                re.I,
            ),
            Reason.REJECTED,
        ),
        (re.compile(r"Security alert", re.I), Reason.SECURITYERROR),
    ),
)
