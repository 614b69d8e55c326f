"""au one net (KDDI: ``*.dion.ne.jp``, ``ezweb.ne.jp``) notices.

A short bilingual notice in ISO-2022-JP whose English half reads "Your mail
sent on: DATE / Could not be delivered to: <address> / As their mailbox is
full." The From: is a no-reply address and the Subject is Japanese, so only
the body's English markers identify it.
"""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import TextFamily
from returnpath.parsers.vocabulary import Reason

FAMILY: TextFamily = TextFamily(
    name="kddi",
    markers=re.compile(r"Could not be delivered to:\s*<", re.I),
    require_marker=True,
    senders=re.compile(r"@(?:[\w.-]+\.)?(?:dion|ezweb|au)\.ne\.jp|mailer-daemon|postmaster", re.I),
    reasons=((re.compile(r"mailbox is full", re.I), Reason.MAILBOXFULL),),
)
