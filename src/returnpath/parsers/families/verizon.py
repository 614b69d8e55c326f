"""Verizon Wireless's MMS gateway (vzwpix.com) notices.

"Message could not be delivered to mobile": the address is the original's
To:. The gateway refuses at RCPT (``command``), and "No valid recipients" is
its way of saying the number does not exist.
"""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import TextFamily
from returnpath.parsers.vocabulary import Reason

FAMILY: TextFamily = TextFamily(
    name="verizon",
    senders=re.compile(r"@[\w.-]*vzwpix\.com|MMSC NDR", re.I),
    markers=re.compile(r"Message could not be delivered to mobile", re.I),
    require_marker=True,
    command="RCPT",
    reasons=((re.compile(r"No valid recipients", re.I), Reason.USERUNKNOWN),),
)
