"""Last resort: any message that says it is a bounce, read with the common patterns.

Why it exists: the long tail of MTAs (hosted appliances, webmail providers,
forgotten in-house systems) mostly write "the following address failed",
the address, and the remote reply. Detection is strict on *who* speaks (a
mailer-daemon-like sender, a bounce-like subject, ``X-Failed-Recipients``)
so that ordinary mail, which may also quote addresses, is never flagged.
"""

from __future__ import annotations

import re

from returnpath.parsers.textbounce import TextFamily

FAMILY: TextFamily = TextFamily(
    name="generic",
    headers=("X-Failed-Recipients",),
    content_types=("multipart/report",),
    # warnings: the MTA is still trying (Postfix, Exim, Zoho, Gmail all say so)
    delayed=re.compile(
        r"THIS IS A WARNING (?:MESSAGE )?ONLY|has not yet been delivered|will be retried"
        r"|still being retried|Delivery attempts will continue|delivery has been delayed",
        re.I,
    ),
    senders=re.compile(
        r"mailer-daemon|mailer_daemon|postmaster|post_master|mail deliver|delivery subsystem"
        r"|mail administrator|system administrator|mdaemon|maildaemon|bounce",
        re.I,
    ),
    subjects=re.compile(
        r"undeliver|undelivered|delivery (?:status|failure|failed|notification|report|problem)"
        r"|returned mail|failure notice|mail delivery|could not be delivered|non.?deliver"
        r"|delivery has failed|failed delivery|mail system error|returned to sender"
        r"|message not delivered|rejected|nicht zustellbar|unzustellbar|bounce",
        re.I,
    ),
)
