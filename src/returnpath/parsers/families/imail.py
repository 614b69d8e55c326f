"""Ipswitch IMail Server (SMTP32) notices.

"Undeliverable Mail", then a reason line with the address ("Invalid final
delivery userid: ADDRESS"), then "Original message follows." IMail lists the
recipients its own directory refused (a RCPT-time verdict, hence
``command``); the family name is the one Sisimai gives it.
"""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import TextFamily

FAMILY: TextFamily = TextFamily(
    name="imailserver",
    subjects=re.compile(r"Undeliverable Mail", re.I),
    markers=re.compile(r"^Original message follows\.", re.I | re.M),
    require_marker=True,
    command="RCPT",
)
