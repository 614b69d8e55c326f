"""Exim's plain-text bounces and delay warnings.

Exim writes them from ``src/deliver.c`` (and ``warn_message_file`` for
warnings, whose default text says the same): "This message was created
automatically by mail delivery software.", then each failed address on its
own line with the remote reply indented below it, and ``X-Failed-Recipients``
naming them. They are read exactly as the ``generic`` family reads any
plain-text bounce; this record only names who wrote it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from returnpath.parsers.families.generic import FAMILY as GENERIC
from returnpath.parsers.textbounce import TextFamily

FAMILY: TextFamily = replace(
    GENERIC,
    name="exim",
    signature=re.compile(r"This message was created automatically by mail delivery software", re.I),
)
