"""OpenSMTPD's bounces.

OpenSMTPD's ``smtpd/bounce.c`` writes "Hi!" then "This is the MAILER-DAEMON,
please DO NOT REPLY to this e-mail." (later versions spell it "email"), then
"An error has occurred while attempting to deliver a message for the
following list of recipients:" and each address with the reply. Read exactly
as the ``generic`` family reads any plain-text bounce; this record only names
who wrote it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from returnpath.parsers.families.generic import FAMILY as GENERIC
from returnpath.parsers.textbounce import TextFamily

FAMILY: TextFamily = replace(
    GENERIC,
    name="opensmtpd",
    signature=re.compile(r"This is the MAILER-DAEMON, please DO NOT REPLY", re.I),
)
