"""Apache James (and Java mail gateways built on it, e.g. carriers' MMS gateways).

James's default bounce mailet writes "Error message below:" with the remote
reply, then "Message details:" repeating the envelope (``MAIL FROM:``,
``RCPT TO:``); the failed recipient is the ``RCPT TO:`` line. The From: is
often a ``post_master@`` address and the Subject merely "Re: <original>".
"""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import ADDR, TextFamily

FAMILY: TextFamily = TextFamily(
    name="apachejames",
    markers=re.compile(r"^Error message below:", re.I | re.M),
    require_marker=True,
    recipients=(re.compile(rf"^\s*RCPT TO:\s*<?(?P<addr>{ADDR})>?", re.I),),
    use_common_recipients=False,
    # the remote refusal James relays came after the envelope was accepted;
    # the "MAIL FROM:" of its envelope echo must not read as the failing command
    command="DATA",
)
