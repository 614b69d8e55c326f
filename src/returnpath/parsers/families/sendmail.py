"""Sendmail's plain-text bounces (sent without DSN, or by old versions).

Sendmail's ``savemail.c`` (``returntosender``/``errbody``) writes "The
original message was received at DATE from HOST" and the heading "-----
The following addresses had permanent fatal errors -----" ("... had
transient non-fatal errors" for warnings), then a transcript of the session.
They are read exactly as the ``generic`` family reads any plain-text bounce;
this record only names who wrote it. Sendmail's RFC 3464 reports stay
``rfc3464``.
"""

from __future__ import annotations

import re
from dataclasses import replace

from returnpath.parsers.families.generic import FAMILY as GENERIC
from returnpath.parsers.textbounce import TextFamily

FAMILY: TextFamily = replace(
    GENERIC,
    name="sendmail",
    signature=re.compile(
        r"The original message was received at|^\s*-+ The following addresses had (?:permanent fatal|transient non-fatal) errors",
        re.I | re.M,
    ),
)
