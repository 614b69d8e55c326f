"""Courier mail server's plain-text notices.

Courier's DSN module (``courier/module.dsn``, text ``dsnheader.txt``) opens
with "This is a delivery status notification from HOST, running the Courier
mail server, version X." Courier normally sends that as the human part of an
RFC 3464 report, which stays ``rfc3464``; a copy that lost its MIME structure
is read exactly as the ``generic`` family reads any plain-text bounce, and
this record names who wrote it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from returnpath.parsers.families.generic import FAMILY as GENERIC
from returnpath.parsers.textbounce import TextFamily

FAMILY: TextFamily = replace(
    GENERIC,
    name="courier",
    signature=re.compile(r"running the Courier mail server", re.I),
)
