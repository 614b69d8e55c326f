"""IBM/Lotus Domino's own non-delivery notices.

"Your message ... was not delivered to: ADDRESS because: User ... not listed
in Domino Directory". Domino looked the address up in its own directory and
found nobody, so the failure is a refusal at RCPT (``command``): the same
words after DATA would mean a content filter (Sisimai's ``filtered``), here
they mean an unknown user.
"""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import TextFamily

FAMILY: TextFamily = TextFamily(
    name="domino",
    subjects=re.compile(r"^DELIVERY (?:FAILURE|REPORT):", re.I),
    markers=re.compile(
        r"was not delivered to:|not listed in (?:Domino|public Name & Address)", re.I
    ),
    require_marker=True,
    start=re.compile(r"was not delivered to:", re.I),
    command="RCPT",
)
