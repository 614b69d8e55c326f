"""Japanese mobile carriers' own notices (au/KDDI, EZweb, and the like).

au one net (KDDI, ``*.dion.ne.jp``, ``ezweb.ne.jp``) sends a short bilingual
notice in ISO-2022-JP whose English half reads "Your mail sent on: DATE /
Could not be delivered to: <address> / As their mailbox is full." The From:
is a no-reply address and the Subject is Japanese, so only the body's
English markers identify it.
"""

from __future__ import annotations

import re

from returnpath.parsers.base import Family
from returnpath.parsers.textbounce import TextFamily

KDDI = TextFamily(
    name="kddi",
    markers=re.compile(r"Could not be delivered to:\s*<", re.I),
    require_marker=True,
    senders=re.compile(r"@(?:[\w.-]+\.)?(?:dion|ezweb|au)\.ne\.jp|mailer-daemon|postmaster", re.I),
    reasons=((re.compile(r"mailbox is full", re.I), "mailboxfull"),),
)

#: au's EZweb gateway: "Each of the following recipients was rejected by a
#: remote mail server." then, when there was an SMTP session, its transcript;
#: with no transcript the refusal is au's own domain filter. A notice that
#: says the account is disabled means exactly that, whatever the 550 says.
EZWEB = TextFamily(
    name="ezweb",
    senders=re.compile(r"@ezweb\.ne\.jp", re.I),
    markers=re.compile(
        r"rejected by a remote\s+mail server|The user\(s\) account is disabled", re.I
    ),
    require_marker=True,
    section_reasons=((re.compile(r"The user\(s\) account is disabled", re.I), "suspend"),),
    reasons=((re.compile(r"rejected by a remote\s+mail server", re.I), "filtered"),),
)

FAMILY: Family = KDDI
FAMILIES: tuple[Family, ...] = (KDDI, EZWEB)
