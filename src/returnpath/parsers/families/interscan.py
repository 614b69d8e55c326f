"""Trend Micro InterScan Messaging Security Suite notices.

"Unable to deliver message to <ADDRESS>": the gateway relays a refusal it got
at RCPT time (``command``), and its own advice "check if address is correct"
is the only cause it states.
"""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import TextFamily
from returnpath.parsers.vocabulary import Reason

FAMILY: TextFamily = TextFamily(
    name="trendmicro",
    markers=re.compile(r"Message from InterScan Messaging Security", re.I),
    require_marker=True,
    command="RCPT",
    reasons=((re.compile(r"check if address is correct", re.I), Reason.USERUNKNOWN),),
)
