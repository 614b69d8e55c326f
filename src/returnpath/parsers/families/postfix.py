"""Postfix's plain-text bounces (``notify_classes`` reports sent without DSN).

Postfix's bounce daemon writes every notice from one template
(``src/bounce/bounce_template.c``, ``bounce(5)``): "This is the mail system at
host HOST." (Postfix 2.3 and later; before, "This is the $mail_name program
at host HOST.", where sites renamed it: "BNS Postfix", "Postfix on SuSE
Linux"), then the recipients as ``<address>: reply`` lines. They are
read exactly as the ``generic`` family reads any plain-text bounce; this
record only names who wrote it. Postfix's RFC 3464 reports stay ``rfc3464``
(see ``families/rfc3464.py``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from returnpath.parsers.families.generic import FAMILY as GENERIC
from returnpath.parsers.textbounce import TextFamily

FAMILY: TextFamily = replace(
    GENERIC,
    name="postfix",
    signature=re.compile(
        r"^\s*This is the (?:mail system|[^\n]{0,60}\bPostfix\b[^\n]{0,60} program) at host",
        re.I | re.M,
    ),
)
